//! The Kubernetes-typed fields of a document (probes, security contexts, affinity, tolerations,
//! spread constraints), and checking each against its Kubernetes definition.
//!
//! The input formats' own validators take these fields as they are; this module finds them by
//! walking the document beside its schema, and checks each against a validator of its one
//! definition, compiled the first time a run meets such a field and kept for the run. A run
//! whose documents hold none (most) never compiles a Kubernetes definition.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde_json::Value as Json;

use crate::document::pointer_escape;

use super::kubernetes;
use super::tree::{JsonTree, schemas};

/// A field whose schema is a Kubernetes definition, as the document holds it.
pub struct Field<'s, 'v> {
    /// The JSON pointer to the field in the document.
    pub pointer: String,
    /// The definition's name (`io.k8s.api.core.v1.Probe`).
    pub definition: &'s str,
    pub value: &'v Json,
}

/// The definition a schema object stands for, when it is a reference into the Kubernetes
/// definitions' file (as the input formats write it: relative to their own `$id`).
pub fn definition(schema: &Json) -> Option<&str> {
    definition_named(schema.get("$ref")?.as_str()?)
}

/// The definition a reference names, when it leads into the Kubernetes definitions' file.
pub fn definition_named(reference: &str) -> Option<&str> {
    reference
        .strip_prefix(kubernetes::DEFINITIONS_FILE)?
        .strip_prefix("#/definitions/")
}

/// Whether a field surely meets its definition, judged without compiling it (see
/// [`accept`](super::accept)).
pub fn quickly_accepted(definition: &str, value: &Json) -> bool {
    let definitions = &schemas::KUBERNETES;
    definitions
        .get("definitions")
        .and_then(|all| all.get(definition))
        .is_some_and(|schema| super::accept::accepts(definitions, schema, value, |_, _| None))
}

/// The schema with every reference to a Kubernetes definition replaced by `{}` (which accepts
/// anything): the fields behind them are checked one by one, by [`check`]. Under draft-07 a
/// `$ref` makes its siblings void, so the object is replaced whole.
pub fn accepting_kubernetes_fields(schema: &mut Json) {
    if definition(schema).is_some() {
        *schema = Json::Object(serde_json::Map::new());
        return;
    }
    match schema {
        Json::Object(map) => map.values_mut().for_each(accepting_kubernetes_fields),
        Json::Array(items) => items.iter_mut().for_each(accepting_kubernetes_fields),
        _ => {}
    }
}

/// The Kubernetes-typed fields of `value`, which `schema` (the whole schema of the format,
/// where `#/definitions/...` references lead) describes. The walk applies a schema's
/// `properties`, `additionalProperties`, `items` and `allOf`, following references inside the
/// schema, as the checker applies them; a unit test checks that every reference to a
/// Kubernetes definition in the input formats' schemas is reached through those keywords only.
pub fn find<'s, 'v>(schema: &'s Json, value: &'v Json) -> Vec<Field<'s, 'v>> {
    let mut walk = Walk {
        root: schema,
        pointer: String::new(),
        found: Vec::new(),
    };
    walk.node(schema, value);
    walk.found
}

struct Walk<'s, 'v> {
    root: &'s Json,
    pointer: String,
    found: Vec<Field<'s, 'v>>,
}

impl<'s, 'v> Walk<'s, 'v> {
    fn node(&mut self, schema: &'s Json, value: &'v Json) {
        let schema = self.resolve(schema);
        if let Some(definition) = definition(schema) {
            let pointer = self.pointer.clone();
            self.found.push(Field {
                pointer,
                definition,
                value,
            });
            return;
        }
        if let Some(Json::Array(parts)) = schema.get("allOf") {
            parts.iter().for_each(|part| self.node(part, value));
        }
        match value {
            Json::Object(map) => {
                let properties = schema.get("properties").and_then(Json::as_object);
                let additional = schema.get("additionalProperties").filter(|a| a.is_object());
                for (key, item) in map {
                    let own = properties.and_then(|p| p.get(key));
                    if let Some(sub) = own.or(additional) {
                        self.enter(&pointer_escape(key), sub, item);
                    }
                }
            }
            Json::Array(items) => {
                if let Some(sub) = schema.get("items").filter(|i| i.is_object()) {
                    for (index, item) in items.iter().enumerate() {
                        self.enter(&index.to_string(), sub, item);
                    }
                }
            }
            _ => {}
        }
    }

    fn enter(&mut self, segment: &str, schema: &'s Json, value: &'v Json) {
        let length = self.pointer.len();
        self.pointer.push('/');
        self.pointer.push_str(segment);
        self.node(schema, value);
        self.pointer.truncate(length);
    }

    /// Follows `#/...` references inside the schema (not those into other files).
    fn resolve(&self, schema: &'s Json) -> &'s Json {
        super::prune::resolve_local(self.root, schema)
    }
}

/// The validator of one Kubernetes definition, compiled on first use and kept for the run
/// (documents are checked on several threads: the first to need it compiles it).
pub fn validator(definition: &str) -> Arc<jsonschema::Validator> {
    type Validators = Mutex<BTreeMap<String, Arc<jsonschema::Validator>>>;
    static VALIDATORS: OnceLock<Validators> = OnceLock::new();
    let validators = VALIDATORS.get_or_init(Validators::default);
    let mut validators = validators.lock().unwrap_or_else(PoisonError::into_inner);
    validators
        .entry(definition.to_string())
        .or_insert_with(|| Arc::new(compile(definition)))
        .clone()
}

#[expect(
    clippy::expect_used,
    reason = "the definitions are part of the program, not its input: a unit test compiles each \
              one the input formats refer to, so one that does not compile never ships"
)]
fn compile(definition: &str) -> jsonschema::Validator {
    let schema = serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": format!(
            "{}{}#/definitions/{definition}",
            kubernetes::BASE_URI,
            kubernetes::DEFINITIONS_FILE
        ),
    });
    super::schema::options()
        .build(&schema)
        .expect("embedded Kubernetes definition compiles")
}

#[cfg(test)]
// A panic in a test is a failed test: tests may index freely.
#[allow(clippy::indexing_slicing)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;
    use crate::validate::SchemaKind;

    fn schema(kind: SchemaKind) -> Json {
        serde_json::from_str(kind.text()).unwrap()
    }

    /// Where in a schema its references to Kubernetes definitions are, by a plain scan.
    fn every_reference(schema: &Json, location: &str, out: &mut BTreeSet<String>) {
        if definition(schema).is_some() {
            out.insert(location.to_string());
        }
        match schema {
            Json::Object(map) => map.iter().for_each(|(key, sub)| {
                every_reference(sub, &format!("{location}/{}", pointer_escape(key)), out);
            }),
            Json::Array(items) => items.iter().enumerate().for_each(|(index, sub)| {
                every_reference(sub, &format!("{location}/{index}"), out);
            }),
            _ => {}
        }
    }

    /// The references a walk reaches through the keywords it applies (`properties`,
    /// `additionalProperties`, `items`, `allOf`, and `#/...` references), whatever the document.
    fn reached(root: &Json, location: &str, seen: &mut BTreeSet<String>) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if !seen.insert(location.to_string()) {
            return out;
        }
        let schema = root.pointer(location).unwrap();
        if definition(schema).is_some() {
            out.insert(location.to_string());
            return out;
        }
        if let Some(target) = schema.get("$ref").and_then(Json::as_str) {
            return reached(root, target.strip_prefix('#').unwrap(), seen);
        }
        let mut children = Vec::new();
        for (keyword, sub) in schema.as_object().into_iter().flatten() {
            match (keyword.as_str(), sub) {
                ("properties", Json::Object(properties)) => children.extend(
                    properties
                        .keys()
                        .map(|key| format!("{location}/properties/{}", pointer_escape(key))),
                ),
                ("additionalProperties" | "items", Json::Object(_)) => {
                    children.push(format!("{location}/{keyword}"));
                }
                ("allOf", Json::Array(parts)) => {
                    children.extend((0..parts.len()).map(|i| format!("{location}/allOf/{i}")));
                }
                _ => {}
            }
        }
        for child in children {
            out.extend(reached(root, &child, seen));
        }
        out
    }

    #[test]
    fn the_walk_reaches_every_kubernetes_reference_of_the_input_formats() {
        let mut total = 0;
        for kind in SchemaKind::ALL {
            let schema = schema(kind);
            let mut every = BTreeSet::new();
            every_reference(&schema, "", &mut every);
            let reached = reached(&schema, "", &mut BTreeSet::new());
            assert_eq!(reached, every, "{}", kind.name());
            total += every.len();
        }
        // Probes (2) and the pod security context in apps, affinity in clusters, tolerations and
        // spread constraints in settings.
        assert_eq!(total, 6);
    }

    #[test]
    fn every_definition_the_input_formats_refer_to_compiles_and_checks() {
        let mut names = BTreeSet::new();
        for kind in SchemaKind::ALL {
            let text = serde_json::to_string(&schema(kind)).unwrap();
            for reference in text.split("\"$ref\":\"").skip(1) {
                let target = reference.split('"').next().unwrap();
                if let Some(name) = definition(&json!({ "$ref": target })) {
                    names.insert(name.to_string());
                }
            }
        }
        assert_eq!(names.len(), 5, "{names:?}");
        for name in &names {
            let validator = validator(name);
            assert!(!validator.is_valid(&json!("not an object")), "{name}");
            assert!(!validator.is_valid(&json!({"noSuchField": 1})), "{name}");
        }
    }

    #[test]
    fn the_formats_validators_accept_kubernetes_fields_whatever_they_hold() {
        let mut checked = schema(SchemaKind::App);
        accepting_kubernetes_fields(&mut checked);
        assert!(!checked.to_string().contains(kubernetes::DEFINITIONS_FILE));
        let probe = &checked["definitions"]["extension"]["properties"]["roles"];
        assert!(
            probe
                .to_string()
                .contains("\"livenessProbe\":{\"allOf\":[{}]")
        );
    }

    #[test]
    fn kubernetes_typed_fields_are_found_where_the_document_holds_them() {
        let app = json!({"spec": {"kdrender": {"roles": {
            "a": {"livenessProbe": {"exec": {}}, "workingDir": "/w"},
            "b/c": {"readinessProbe": 1, "podSecurityContext": null},
        }}}});
        let schema = schema(SchemaKind::App);
        let found: Vec<(String, &str)> = find(&schema, &app)
            .into_iter()
            .map(|field| (field.pointer, field.definition))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "/spec/kdrender/roles/a/livenessProbe".into(),
                    "io.k8s.api.core.v1.Probe"
                ),
                (
                    "/spec/kdrender/roles/b~1c/podSecurityContext".into(),
                    "io.k8s.api.core.v1.PodSecurityContext"
                ),
                (
                    "/spec/kdrender/roles/b~1c/readinessProbe".into(),
                    "io.k8s.api.core.v1.Probe"
                ),
            ]
        );
        let settings = json!({"spec": {"placement": [
            {"role": "r"},
            {"tolerations": [{"key": "k"}, 42], "topologySpreadConstraints": "x"},
        ]}});
        let schema = super::tests::schema(SchemaKind::Settings);
        let pointers: Vec<String> = find(&schema, &settings)
            .into_iter()
            .map(|f| f.pointer)
            .collect();
        assert_eq!(
            pointers,
            [
                "/spec/placement/1/tolerations/0",
                "/spec/placement/1/tolerations/1"
            ]
        );
    }
}
