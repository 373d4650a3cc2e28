//! A quick yes: whether a document surely meets its schema, read straight from the schema
//! document, without compiling a validator.
//!
//! Compiling the input formats' schemas with `jsonschema` was most of a small render's work, and
//! almost every document meets its schema. So a document is first judged here: the schema's
//! keywords are applied as JSON Schema draft-07 defines them, one value at a time. A yes ends
//! the check. A no, or anything this judge is not sure of (a keyword it does not know, a
//! reference into another file, a number that is not a plain integer where integers are
//! compared), sends the document to the compiled validator, which finds every error and words
//! it. The judge may therefore refuse more than the schema does, never less; a property test
//! holds it to the compiled validator on documents both valid and broken.

use std::cmp::Ordering;

use serde_json::Value as Json;

use super::schema::pattern_check;
use super::tree::{JsonTree, Number, View, compare, same};

/// Nested schemas and values followed before the judge gives up (and the validator decides).
const MAX_DEPTH: usize = 256;

/// Whether `value` surely meets `schema`, a schema object inside `root` (the document where
/// `#/...` references lead). `external` judges the value at a reference into another file:
/// `Some(answer)`, or `None` when the judge cannot tell.
pub fn accepts<S: JsonTree>(
    root: &S,
    schema: &S,
    value: &Json,
    external: fn(&str, &Json) -> Option<bool>,
) -> bool {
    Judge { root, external }.accepts(schema, value, 0)
}

struct Judge<'s, S> {
    root: &'s S,
    external: fn(&str, &Json) -> Option<bool>,
}

impl<S: JsonTree> Judge<'_, S> {
    fn accepts(&self, schema: &S, value: &Json, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let mut keywords = match (schema.view(), schema.entries()) {
            (View::Bool(answer), _) => return answer,
            (_, Some(keywords)) => keywords,
            _ => return false,
        };
        // Under draft-07 a `$ref` voids its siblings; applying them too only ever refuses more.
        keywords.all(|(keyword, argument)| self.keyword(schema, keyword, argument, value, depth))
    }

    /// Whether one keyword of `schema` surely holds.
    fn keyword(&self, schema: &S, keyword: &str, argument: &S, value: &Json, depth: usize) -> bool {
        match keyword {
            "$ref"
            | "properties"
            | "additionalProperties"
            | "items"
            | "allOf"
            | "anyOf"
            | "oneOf" => self.applicator(schema, keyword, argument, value, depth + 1),
            // A resource's own `$id` changes where its references lead: only the root's is known.
            "$id" => std::ptr::eq(schema, self.root),
            "$schema" | "title" | "description" | "$comment" | "default" | "examples"
            | "definitions" | "readOnly" | "writeOnly" => true,
            _ if keyword.starts_with("x-kubernetes-") => true,
            _ => assertion(keyword, argument, value),
        }
    }

    /// The keywords that apply schemas to the value or to its parts.
    fn applicator(
        &self,
        schema: &S,
        keyword: &str,
        argument: &S,
        value: &Json,
        next: usize,
    ) -> bool {
        match keyword {
            "$ref" => self.reference(argument, value, next),
            "properties" => match (argument.is_object(), value.as_object()) {
                (true, Some(object)) => object.iter().all(|(key, item)| {
                    argument
                        .get(key)
                        .is_none_or(|sub| self.accepts(sub, item, next))
                }),
                (true, None) => true,
                (false, _) => false,
            },
            "additionalProperties" => match value.as_object() {
                Some(object) => {
                    let properties = schema.get("properties").filter(|p| p.is_object());
                    object
                        .iter()
                        .filter(|(key, _)| properties.is_none_or(|p| p.get(key).is_none()))
                        .all(|(_, item)| self.accepts(argument, item, next))
                }
                None => true,
            },
            "items" => match (argument.view(), value) {
                (View::Object | View::Bool(_), Json::Array(items)) => {
                    items.iter().all(|item| self.accepts(argument, item, next))
                }
                (View::Object | View::Bool(_), _) => true,
                _ => false,
            },
            "allOf" => argument
                .as_array()
                .is_some_and(|parts| parts.iter().all(|part| self.accepts(part, value, next))),
            "anyOf" => argument
                .as_array()
                .is_some_and(|parts| parts.iter().any(|part| self.accepts(part, value, next))),
            "oneOf" => self.one_of(argument, value, next),
            _ => false,
        }
    }

    fn reference(&self, argument: &S, value: &Json, depth: usize) -> bool {
        let Some(reference) = argument.as_str() else {
            return false;
        };
        match reference.strip_prefix('#') {
            Some(pointer) => match local_target(self.root, pointer) {
                Some(target) => self.accepts(target, value, depth),
                None => false,
            },
            None => (self.external)(reference, value).unwrap_or(false),
        }
    }

    /// Exactly one part accepts: one surely does, and every other surely refuses.
    fn one_of(&self, argument: &S, value: &Json, depth: usize) -> bool {
        let Some(parts) = argument.as_array() else {
            return false;
        };
        let mut accepted = 0;
        for part in parts {
            if self.accepts(part, value, depth) {
                accepted += 1;
            } else if !surely_refused(part, value) {
                return false;
            }
        }
        accepted == 1
    }
}

/// The keywords that judge the value itself; an unknown keyword is not sure.
fn assertion<S: JsonTree>(keyword: &str, argument: &S, value: &Json) -> bool {
    match keyword {
        "type" => has_type(argument, value),
        "const" => same(argument, value) == Some(true),
        "enum" => argument
            .as_array()
            .is_some_and(|options| options.iter().any(|o| same(o, value) == Some(true))),
        "required" => match (argument.as_array(), value.as_object()) {
            (Some(names), Some(object)) => names
                .iter()
                .all(|name| name.as_str().is_some_and(|n| object.contains_key(n))),
            (Some(_), None) => true,
            (None, _) => false,
        },
        "minLength" | "maxLength" => match value.as_str() {
            Some(text) => within(keyword, argument, text.chars().count()),
            None => true,
        },
        "minItems" | "maxItems" => match value.as_array() {
            Some(items) => within(keyword, argument, items.len()),
            None => true,
        },
        "minProperties" | "maxProperties" => match value.as_object() {
            Some(object) => within(keyword, argument, object.len()),
            None => true,
        },
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
            match (argument.as_number(), JsonTree::as_number(value)) {
                (Some(limit), Some(number)) => {
                    compare(number, limit).is_some_and(|order| bound_holds(keyword, order))
                }
                (Some(_), None) => true,
                (None, _) => false,
            }
        }
        "uniqueItems" => match (argument.as_bool(), value) {
            (Some(true), Json::Array(items)) => surely_unique(items),
            (Some(_), _) => true,
            (None, _) => false,
        },
        "pattern" => match (argument.as_str(), value.as_str()) {
            (Some(pattern), Some(text)) => pattern_check(pattern).is_some_and(|c| c(text)),
            (Some(_), None) => true,
            (None, _) => false,
        },
        "format" => match (argument.as_str(), value.as_str()) {
            (Some(format), Some(_)) => !is_checked_format(format),
            (Some(_), None) => true,
            (None, _) => false,
        },
        _ => false,
    }
}

/// Whether a schema surely refuses the value, by a keyword the judge decides for certain: a
/// `type` that cannot hold it (a number with a fraction may be an integer to JSON Schema), a
/// `required` name it lacks, a `const` or `enum` it surely differs from. A `$ref` beside them
/// would void them under draft-07.
fn surely_refused<S: JsonTree>(schema: &S, value: &Json) -> bool {
    let Some(mut keywords) = schema.entries() else {
        return schema.as_bool() == Some(false);
    };
    if schema.get("$ref").is_some() {
        return false;
    }
    keywords.any(|(keyword, argument)| match keyword {
        "type" => {
            JsonTree::as_number(value) != Some(Number::Fraction) && !has_type(argument, value)
        }
        "required" => match (argument.as_array(), value.as_object()) {
            (Some(names), Some(object)) => names
                .iter()
                .any(|name| name.as_str().is_some_and(|n| !object.contains_key(n))),
            _ => false,
        },
        "const" => same(argument, value) == Some(false),
        "enum" => argument
            .as_array()
            .is_some_and(|options| options.iter().all(|o| same(o, value) == Some(false))),
        _ => false,
    })
}

/// The schema a `#...` fragment names: a JSON pointer (percent-decoding is not needed by, and
/// not trusted for, kdrender's schemas: a `%` makes the judge unsure).
fn local_target<'s, S: JsonTree>(root: &'s S, pointer: &str) -> Option<&'s S> {
    if pointer.contains('%') {
        return None;
    }
    super::prune::at_pointer(root, pointer)
}

fn has_type<S: JsonTree>(argument: &S, value: &Json) -> bool {
    match argument.view() {
        View::String(name) => is_of_type(name, value),
        View::Array(names) => names
            .iter()
            .any(|name| name.as_str().is_some_and(|n| is_of_type(n, value))),
        _ => false,
    }
}

/// Integers written with a fraction (`1.0`) are integers to JSON Schema; the judge leaves them
/// to the validator.
fn is_of_type(name: &str, value: &Json) -> bool {
    match (name, value) {
        ("null", Json::Null)
        | ("boolean", Json::Bool(_))
        | ("string", Json::String(_))
        | ("array", Json::Array(_))
        | ("object", Json::Object(_))
        | ("number", Json::Number(_)) => true,
        ("integer", Json::Number(number)) => !number.is_f64(),
        _ => false,
    }
}

/// `minLength`, `maxItems` and the like: whether `count` lies within the limit.
fn within<S: JsonTree>(keyword: &str, argument: &S, count: usize) -> bool {
    let Some(limit) = argument.as_u64() else {
        return false;
    };
    let count = count as u64;
    if keyword.starts_with("min") {
        count >= limit
    } else {
        count <= limit
    }
}

fn bound_holds(keyword: &str, order: Ordering) -> bool {
    match keyword {
        "minimum" => order != Ordering::Less,
        "maximum" => order != Ordering::Greater,
        "exclusiveMinimum" => order == Ordering::Greater,
        _ => order == Ordering::Less,
    }
}

/// No two items equal, for sure (a pair the judge cannot compare is not sure).
fn surely_unique(items: &[Json]) -> bool {
    items.iter().enumerate().all(|(index, item)| {
        items
            .get(index + 1..)
            .unwrap_or_default()
            .iter()
            .all(|other| same(item, other) == Some(false))
    })
}

/// The formats `jsonschema` checks itself under draft-07; the judge is unsure of them. Every
/// other name (Kubernetes' `int32`, `int64`) is an annotation there, and here.
fn is_checked_format(format: &str) -> bool {
    matches!(
        format,
        "date"
            | "date-time"
            | "email"
            | "hostname"
            | "idn-email"
            | "idn-hostname"
            | "ipv4"
            | "ipv6"
            | "iri"
            | "iri-reference"
            | "json-pointer"
            | "regex"
            | "relative-json-pointer"
            | "time"
            | "uri"
            | "uri-reference"
            | "uri-template"
            | "duration"
            | "uuid"
    ) || format.starts_with("kdrender-")
}

#[cfg(test)]
// A panic in a test is a failed test: tests may index freely.
#[allow(clippy::indexing_slicing)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::diag::Diagnostics;
    use crate::document::{Limits, parse_json, parse_yaml};
    use crate::load::Document;
    use crate::source::FileId;
    use crate::validate::kubernetes_fields::{self, find};
    use crate::validate::tree::{Tree, schemas};
    use crate::validate::{SchemaKind, prune, schema};

    /// The quick judge's answer and the compiled validators' on one document, as the check
    /// applies them: the format's schema, then each Kubernetes-typed field's definition.
    fn answers(kind: SchemaKind, value: &Json) -> (bool, bool) {
        let document = kind.document();
        let fields = find(document, value);
        let quick = schema::quickly_accepted(kind.tree(), value);
        let full = kind.validator().is_valid(value)
            && fields
                .iter()
                .all(|field| kubernetes_fields::validator(field.definition).is_valid(field.value));
        (quick, full)
    }

    fn kind_of(value: &Json) -> Option<SchemaKind> {
        match value.get("kind")?.as_str()? {
            "KubeDirectorApp" => Some(SchemaKind::App),
            "KubeDirectorCluster" => Some(SchemaKind::Cluster),
            "RenderSettings" => Some(SchemaKind::Settings),
            "Adoption" => Some(SchemaKind::Adoption),
            _ => None,
        }
    }

    fn yaml_files(folder: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                out.push(path);
            }
        }
    }

    /// Every app, cluster, settings and adoption document in a folder, as the check sees it
    /// (pruned where the pipeline prunes), with the file it came from.
    fn documents(folder: &Path) -> Vec<(String, SchemaKind, Json)> {
        let mut files = Vec::new();
        yaml_files(folder, &mut files);
        let mut out = Vec::new();
        for path in files {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let nodes = if path.extension().is_some_and(|e| e == "json") {
                parse_json(&text, Limits::default()).map(|node| vec![node])
            } else {
                parse_yaml(&text, Limits::default())
            };
            let Ok(nodes) = nodes else {
                continue;
            };
            for root in nodes {
                let Some(kind) = kind_of(&root.to_json()) else {
                    continue;
                };
                let value = match kind {
                    SchemaKind::App | SchemaKind::Cluster => {
                        let document = Document {
                            file: FileId(0),
                            root,
                            folder: PathBuf::new(),
                            from_catalog: false,
                            summarized: false,
                            position: 0,
                            syntax: crate::document::Syntax::Yaml,
                        };
                        prune::admit(kind, &document, &mut Diagnostics::default()).value
                    }
                    SchemaKind::Settings | SchemaKind::Adoption => root.to_json(),
                };
                out.push((path.display().to_string(), kind, value));
            }
        }
        out
    }

    /// The project's own documents: examples, fixtures and the error corpus (which holds
    /// documents that break their schemas in many ways).
    fn own_documents() -> &'static [(String, SchemaKind, Json)] {
        static DOCUMENTS: OnceLock<Vec<(String, SchemaKind, Json)>> = OnceLock::new();
        DOCUMENTS.get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            ["examples", "tests/fixtures", "tests/corpus"]
                .iter()
                .flat_map(|folder| documents(&root.join(folder)))
                .collect()
        })
    }

    #[test]
    fn the_judge_never_accepts_what_the_schemas_refuse_in_the_projects_documents() {
        let documents = own_documents();
        assert!(documents.len() > 50, "{} documents", documents.len());
        let (mut valid, mut invalid) = (0, 0);
        for (path, kind, value) in documents {
            let (quick, full) = answers(*kind, value);
            assert!(
                !quick || full,
                "{path}: accepted quickly, refused by the schema"
            );
            if full {
                valid += 1;
            } else {
                invalid += 1;
            }
        }
        assert!(
            valid > 20 && invalid > 5,
            "{valid} valid, {invalid} invalid"
        );
    }

    /// The quick path is the common one: every shipped example takes it, so a keyword added to a
    /// schema that the judge does not know fails here instead of slowing every render down.
    #[test]
    fn every_example_is_accepted_quickly() {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let documents = documents(&examples);
        let with_fields = documents
            .iter()
            .filter(|(_, kind, value)| !find(kind.document(), value).is_empty())
            .count();
        assert!(
            with_fields >= 3,
            "{with_fields} examples with Kubernetes fields"
        );
        for (path, kind, value) in &documents {
            assert_eq!(answers(*kind, value), (true, true), "{path}");
        }
    }

    /// KubeDirector's own catalog: the documents real users write take the quick path.
    #[test]
    #[ignore = "needs KDRENDER_KUBEDIRECTOR_CATALOG: KubeDirector's example catalog; run .ci/run"]
    fn every_catalog_document_the_schemas_accept_is_accepted_quickly() {
        let folder = std::env::var_os("KDRENDER_KUBEDIRECTOR_CATALOG")
            .expect("KDRENDER_KUBEDIRECTOR_CATALOG names KubeDirector's example catalog");
        let documents = documents(Path::new(&folder));
        assert!(documents.len() >= 8, "{} documents", documents.len());
        for (path, kind, value) in &documents {
            let (quick, full) = answers(*kind, value);
            assert_eq!(quick, full, "{path}");
        }
    }

    /// Every keyword the shipped schemas use is one the judge applies.
    #[test]
    fn the_judge_knows_every_keyword_of_the_schemas() {
        fn check(judge: &Judge<'_, Tree>, schema: &Tree, location: &str) {
            let Some(keywords) = schema.entries() else {
                return;
            };
            for (keyword, argument) in keywords {
                let here = format!("{location}/{keyword}");
                match keyword {
                    "properties" | "definitions" => {
                        for (name, sub) in argument.entries().unwrap() {
                            check(judge, sub, &format!("{here}/{name}"));
                        }
                    }
                    "allOf" | "anyOf" | "oneOf" => {
                        for (index, sub) in argument.as_array().unwrap().iter().enumerate() {
                            check(judge, sub, &format!("{here}/{index}"));
                        }
                    }
                    "items" | "additionalProperties" => check(judge, argument, &here),
                    _ => {
                        // Null passes every keyword the judge applies but these.
                        let known = judge.keyword(schema, keyword, argument, &Json::Null, 0)
                            || matches!(keyword, "type" | "const" | "enum" | "$ref" | "$id");
                        assert!(known, "{here}: a keyword the judge does not apply");
                    }
                }
            }
        }
        // The trees the runs read.
        for kind in SchemaKind::ALL {
            let root = kind.tree();
            let judge = Judge {
                root,
                external: |_, _| Some(true),
            };
            check(&judge, root, kind.name());
        }
        let definitions = &schemas::KUBERNETES;
        let judge = Judge {
            root: definitions,
            external: |_, _| None,
        };
        check(&judge, definitions, "kubernetes");
    }

    #[test]
    fn numbers_with_a_fraction_and_unknown_keywords_are_left_to_the_validator() {
        let root = json!({});
        let judge = |schema: Json, value: Json| accepts(&root, &schema, &value, |_, _| None);
        assert!(!judge(json!({"type": "integer"}), json!(1.0)));
        assert!(judge(json!({"type": "integer"}), json!(1)));
        assert!(!judge(json!({"minimum": 1}), json!(1.5)));
        assert!(!judge(json!({"enum": [1]}), json!(1.0)));
        assert!(!judge(json!({"not": {}}), json!(1)));
        assert!(!judge(json!({"$ref": "other.json#/x"}), json!(1)));
        assert!(!judge(json!({"$ref": "#/missing"}), json!(1)));
        assert!(judge(json!({"maxLength": 2}), json!("éé")));
        assert!(!judge(json!({"maxLength": 1}), json!("éé")));
        assert!(!judge(json!({"uniqueItems": true}), json!([1, 1.0])));
        assert!(!judge(
            json!({"uniqueItems": true}),
            json!([{"a": 1}, {"a": 1}])
        ));
        assert!(judge(
            json!({"uniqueItems": true}),
            json!([{"a": 1}, {"a": 2}])
        ));
        assert!(!judge(json!({"minProperties": 1}), json!({})));
        assert!(judge(json!({"minProperties": 1}), json!({"a": null})));
        assert!(!judge(json!({"exclusiveMinimum": 1}), json!(1)));
        assert!(judge(json!({"exclusiveMaximum": 2}), json!(1)));
        assert!(judge(
            json!({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}),
            json!({"a": 1})
        ));
        assert!(!judge(
            json!({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}),
            json!({"a": 1, "b": 2})
        ));
    }

    /// A value to put somewhere in a document: scalars of every kind (integers written with a
    /// fraction, strings that are nearly names, quantities, paths and URLs among them), and
    /// small lists and maps of them.
    fn any_value() -> impl Strategy<Value = Json> {
        let scalar = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            (-3i64..70_000).prop_map(Json::from),
            prop::sample::select(vec![-1i64, 0, 1, 2, 65_535, 65_536, 1 << 31, i64::MAX])
                .prop_map(Json::from),
            (0usize..300).prop_map(|length| Json::from("a".repeat(length))),
            prop::sample::select(vec![1.0, 0.5, -1.0, 1e3, 2.5]).prop_map(Json::from),
            "[a-zA-Z0-9./:+_\\- é]{0,12}".prop_map(Json::from),
            prop::sample::select(vec![
                "",
                "1",
                "1+",
                "a",
                "A",
                "-a",
                "1Gi",
                "500m",
                "/opt",
                "/opt/",
                "http://x",
                "file://a.tgz",
                "https://x.png",
                "IPC_LOCK",
                "TCP",
                "Always",
                "v1",
                "x.y",
            ])
            .prop_map(Json::from),
        ];
        scalar.prop_recursive(2, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Json::from),
                prop::collection::btree_map("[a-z]{1,8}", inner, 0..3)
                    .prop_map(|map| Json::Object(map.into_iter().collect())),
            ]
        })
    }

    /// Every JSON pointer into a value (the root included).
    fn pointers(value: &Json, at: String, out: &mut Vec<String>) {
        match value {
            Json::Object(map) => map.iter().for_each(|(key, item)| {
                pointers(
                    item,
                    format!("{at}/{}", crate::document::pointer_escape(key)),
                    out,
                )
            }),
            Json::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(index, item)| pointers(item, format!("{at}/{index}"), out)),
            _ => {}
        }
        out.push(at);
    }

    #[derive(Clone, Debug)]
    enum Mutation {
        Replace(Json),
        Remove,
        Add(String, Json),
        Duplicate,
        /// A string, list or map made empty.
        Empty,
        /// A string made this long (one past the schemas' length limits, among others).
        Lengthen(usize),
        /// A number set to this one (limits of the schemas, and one past them).
        Number(i64),
    }

    fn any_mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            3 => any_value().prop_map(Mutation::Replace),
            2 => Just(Mutation::Remove),
            2 => ("[a-zA-Z]{1,10}", any_value()).prop_map(|(k, v)| Mutation::Add(k, v)),
            1 => Just(Mutation::Duplicate),
            2 => Just(Mutation::Empty),
            2 => prop::sample::select(vec![15, 16, 52, 53, 63, 64, 253, 254])
                .prop_map(Mutation::Lengthen),
            2 => prop::sample::select(vec![
                -2_147_483_649, -2_147_483_648, -1, 0, 1, 6, 7, 64, 65, 511, 512, 65_535,
                65_536, 2_147_483_647, 2_147_483_648,
            ])
            .prop_map(Mutation::Number),
        ]
    }

    /// Whether a mutation can change this value (so that it is aimed at values it changes).
    fn fits(mutation: &Mutation, target: &Json) -> bool {
        match mutation {
            Mutation::Replace(_) | Mutation::Remove => true,
            Mutation::Add(..) => target.is_object() || target.is_array(),
            Mutation::Duplicate => target.is_array(),
            Mutation::Empty => target.is_string() || target.is_array() || target.is_object(),
            Mutation::Lengthen(_) => target.is_string(),
            Mutation::Number(_) => target.is_number(),
        }
    }

    fn mutate(value: &mut Json, pointer: &str, mutation: &Mutation) {
        let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", ""));
        match mutation {
            Mutation::Replace(new) => {
                if let Some(target) = value.pointer_mut(pointer) {
                    *target = new.clone();
                }
            }
            Mutation::Remove => match value.pointer_mut(parent) {
                Some(Json::Object(map)) => {
                    map.remove(&last.replace("~1", "/").replace("~0", "~"));
                }
                Some(Json::Array(items)) => {
                    if let Ok(index) = last.parse::<usize>()
                        && index < items.len()
                    {
                        items.remove(index);
                    }
                }
                _ => {}
            },
            Mutation::Add(key, new) => match value.pointer_mut(pointer) {
                Some(Json::Object(map)) => {
                    map.insert(key.clone(), new.clone());
                }
                Some(Json::Array(items)) => items.push(new.clone()),
                _ => {}
            },
            Mutation::Empty => match value.pointer_mut(pointer) {
                Some(Json::String(text)) => text.clear(),
                Some(Json::Array(items)) => items.clear(),
                Some(Json::Object(map)) => map.clear(),
                _ => {}
            },
            Mutation::Lengthen(length) => {
                if let Some(Json::String(text)) = value.pointer_mut(pointer) {
                    *text = "a".repeat(*length);
                }
            }
            Mutation::Number(number) => {
                if let Some(target @ Json::Number(_)) = value.pointer_mut(pointer) {
                    *target = Json::from(*number);
                }
            }
            Mutation::Duplicate => {
                if let Some(Json::Array(items)) = value.pointer_mut(pointer)
                    && let Some(first) = items.first().cloned()
                {
                    items.push(first);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]
        /// Broken in one to three places, a document the schemas refuse is never accepted
        /// quickly; and the quick judge says yes often enough to matter.
        #[test]
        fn the_judge_never_accepts_a_broken_document_the_schemas_refuse(
            which in any::<prop::sample::Index>(),
            changes in prop::collection::vec((any::<prop::sample::Index>(), any_mutation()), 1..4),
        ) {
            let documents = own_documents();
            let (path, kind, original) = which.get(documents);
            let mut value = original.clone();
            for (at, mutation) in &changes {
                let mut all = Vec::new();
                pointers(&value, String::new(), &mut all);
                let fitting: Vec<&String> = all
                    .iter()
                    .filter(|p| value.pointer(p).is_some_and(|target| fits(mutation, target)))
                    .collect();
                let pointer = if fitting.is_empty() { &all[0] } else { *at.get(&fitting) };
                let pointer = pointer.clone();
                mutate(&mut value, &pointer, mutation);
            }
            let (quick, full) = answers(*kind, &value);
            prop_assert!(!quick || full, "{}: accepted quickly, refused by the schema: {}", path, value);
        }
    }
}
