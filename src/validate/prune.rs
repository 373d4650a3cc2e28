//! Pruning: what the Kubernetes API server does to an app or a cluster before any rule reads it.
//!
//! KubeDirector's CRDs are structural schemas, so the API server applies them before its
//! webhook sees a document. Two of its steps change what a file means, and this pass does them
//! offline, on the way from the spanned tree to the JSON that the schema check and decoding read:
//!
//! - **Nulls.** A `null` in a field the schema knows (a property, or an entry of a map whose
//!   values it types) is dropped, as if the field were not written: the API server prunes nulls
//!   of fields that are not `nullable`, and where the CRD says `nullable: true` KubeDirector's Go
//!   types read null as absent too (`storage: null` is a role without storage). Real files write
//!   `secrets:` or `storage:` with every item commented out. The exception is a field whose
//!   schema admits `null` (`configPackage`): there null means something of its own ("no setup
//!   package"), and it is kept. Nulls in lists are items, never pruned; the schema judges them.
//!   Inside objects kdrender passes through (`affinity`, probes), nulls are dropped as Kubernetes'
//!   own types read them.
//! - **Unknown fields.** Where a schema carries `x-kubernetes-preserve-unknown-fields` (the app's
//!   `spec`, `spec.label` and `spec.services[]`, as in KubeDirector's CRD), an unknown field is
//!   kept by the API server and ignored by KubeDirector: here it is a warning naming the field,
//!   and it is left out. Unknown fields anywhere else are left in, for the schema to refuse.
//!
//! The tree itself is not changed: nothing but map entries is ever left out, so every JSON
//! pointer into the result still finds its value, at its span, in the document.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};

use crate::diag::Diagnostics;
use crate::document::{Entry, Node, Value, pointer_escape};
use crate::load::Document;

use super::diags;
use super::schema::SchemaKind;
use super::tree::{JsonTree, Tree, View};

/// The JSON a document's rules read, and where nulls were pruned from it.
pub struct Admitted {
    pub value: Json,
    /// JSON pointers of the fields whose `null` was pruned, for messages about fields missing.
    pub pruned: BTreeSet<String>,
}

/// The document as the API server would hand it on: nulls pruned, preserved unknown fields set
/// aside with a warning each.
pub fn admit(kind: SchemaKind, document: &Document, diagnostics: &mut Diagnostics) -> Admitted {
    let schema = kind.tree();
    let mut walk = Walk {
        definitions: schema,
        document,
        diagnostics,
        pruned: BTreeSet::new(),
        pointer: String::new(),
    };
    let value = walk.node(&document.root, Some(schema));
    Admitted {
        value,
        pruned: walk.pruned,
    }
}

/// What a schema says about one key of a mapping.
#[derive(Debug)]
enum Field<'s> {
    /// A property, or an entry of a map whose values the schema types.
    Known(&'s Tree),
    /// Unknown, where the schema keeps unknown fields: KubeDirector ignores it.
    Preserved,
    /// Anywhere in an object the schema does not describe (or leaves open).
    Open,
    /// Unknown where the schema refuses unknown fields.
    Closed,
}

/// The walk over one document, with the pointer to where it is.
struct Walk<'a, 's> {
    /// The whole schema, where `#/definitions/...` references lead.
    definitions: &'s Tree,
    document: &'a Document,
    diagnostics: &'a mut Diagnostics,
    pruned: BTreeSet<String>,
    pointer: String,
}

impl<'s> Walk<'_, 's> {
    /// A value, with `schema` describing it (`None`: nothing describes it).
    fn node(&mut self, node: &Node, schema: Option<&'s Tree>) -> Json {
        match &node.value {
            Value::Map(entries) => Json::Object(self.map(entries, schema)),
            Value::Seq(items) => {
                let item_schema = schema.and_then(|s| self.items(s));
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let length = self.enter(&i.to_string());
                    out.push(self.node(item, item_schema));
                    self.pointer.truncate(length);
                }
                Json::Array(out)
            }
            _ => node.to_json(),
        }
    }

    fn map(&mut self, entries: &[Entry], schema: Option<&'s Tree>) -> Map<String, Json> {
        let mut out = Map::new();
        for entry in entries {
            let length = self.enter(&pointer_escape(&entry.key));
            let null = entry.value.is_null();
            match schema.map_or(Field::Open, |s| self.field(s, &entry.key)) {
                Field::Known(sub) if null && !self.admits_null(sub) => {
                    self.pruned.insert(self.pointer.clone());
                }
                Field::Known(sub) => {
                    out.insert(entry.key.clone(), self.node(&entry.value, Some(sub)));
                }
                Field::Preserved => self.warn_preserved(&entry.key, schema, length),
                Field::Open if null => {
                    self.pruned.insert(self.pointer.clone());
                }
                Field::Open => {
                    out.insert(entry.key.clone(), self.node(&entry.value, None));
                }
                Field::Closed => {
                    out.insert(entry.key.clone(), entry.value.to_json());
                }
            }
            self.pointer.truncate(length);
        }
        out
    }

    /// Appends a segment to the pointer; returns the length to truncate back to.
    fn enter(&mut self, segment: &str) -> usize {
        let length = self.pointer.len();
        self.pointer.push('/');
        self.pointer.push_str(segment);
        length
    }

    /// A preserved unknown field: KubeDirector keeps and ignores it; kdrender says so.
    /// `parent` is the length of the pointer to the object that holds it.
    fn warn_preserved(&mut self, key: &str, schema: Option<&'s Tree>, parent: usize) {
        let known = schema.map(|s| self.property_names(s)).unwrap_or_default();
        let parent = self.pointer.get(..parent).unwrap_or_default();
        let at = self.document.key_origin(&self.pointer);
        let diagnostic = diags::preserved_unknown_field(key, parent, &known, at);
        self.diagnostics.push(diagnostic);
    }

    /// What `schema` says about the field `key`.
    fn field(&self, schema: &'s Tree, key: &str) -> Field<'s> {
        let parts = self.parts(schema);
        let property = parts
            .iter()
            .find_map(|part| part.get("properties").and_then(|p| p.get(key)));
        let entry = || {
            parts.iter().find_map(|part| {
                part.get("additionalProperties")
                    .filter(|additional| additional.is_object())
            })
        };
        if let Some(sub) = property.or_else(entry) {
            return Field::Known(sub);
        }
        let flag = |name: &str, value: bool| {
            parts
                .iter()
                .any(|part| part.get(name).and_then(Tree::as_bool) == Some(value))
        };
        if flag("x-kubernetes-preserve-unknown-fields", true) {
            Field::Preserved
        } else if flag("additionalProperties", false) {
            Field::Closed
        } else {
            Field::Open
        }
    }

    /// The schema of a list's items.
    fn items(&self, schema: &'s Tree) -> Option<&'s Tree> {
        self.parts(schema)
            .into_iter()
            .find_map(|part| part.get("items"))
    }

    /// Whether a field's schema lets it be `null`.
    fn admits_null(&self, schema: &'s Tree) -> bool {
        self.parts(schema)
            .iter()
            .any(|part| match part.get("type").map(Tree::view) {
                Some(View::String(kind)) => kind == "null",
                Some(View::Array(kinds)) => kinds.iter().any(|k| k.as_str() == Some("null")),
                _ => false,
            })
    }

    /// The properties a schema defines, for "did you mean".
    fn property_names(&self, schema: &'s Tree) -> Vec<&'s str> {
        self.parts(schema)
            .iter()
            .filter_map(|part| part.get("properties").and_then(Tree::entries))
            .flat_map(|properties| properties.map(|(name, _)| name))
            .collect()
    }

    /// A schema and the schemas its `allOf` adds, each with its `$ref` followed.
    fn parts(&self, schema: &'s Tree) -> Vec<&'s Tree> {
        let schema = self.resolve(schema);
        let mut parts = vec![schema];
        if let Some(more) = schema.get("allOf").and_then(Tree::as_array) {
            parts.extend(more.iter().map(|part| self.resolve(part)));
        }
        parts
    }

    /// Follows `$ref`s into the schema's definitions (the schemas are kdrender's own, and a
    /// unit test checks that every reference in them leads somewhere). A reference into
    /// Kubernetes' definitions (another file) is not followed: nulls inside a probe or a
    /// security context are left to those definitions, whose types admit null.
    fn resolve(&self, schema: &'s Tree) -> &'s Tree {
        resolve_local(self.definitions, schema)
    }
}

/// Follows `#/...` references from `schema` inside `root` (not those into other files), up to
/// [`MAX_REFERENCES`] of them.
pub(super) fn resolve_local<'s, S: JsonTree>(root: &'s S, mut schema: &'s S) -> &'s S {
    for _ in 0..MAX_REFERENCES {
        let target = schema
            .get("$ref")
            .and_then(S::as_str)
            .and_then(|reference| reference.strip_prefix('#'))
            .and_then(|pointer| at_pointer(root, pointer));
        match target {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

/// The value a JSON pointer leads to, as `serde_json::Value::pointer` finds it, without
/// allocating for segments that need no unescaping (schemas are looked up this way for every
/// reference of every document).
pub(super) fn at_pointer<'s, S: JsonTree>(root: &'s S, pointer: &str) -> Option<&'s S> {
    if pointer.is_empty() {
        return Some(root);
    }
    let mut target = root;
    for segment in pointer.strip_prefix('/')?.split('/') {
        let unescaped;
        let segment = if segment.contains('~') {
            unescaped = segment.replace("~1", "/").replace("~0", "~");
            unescaped.as_str()
        } else {
            segment
        };
        target = match target.view() {
            View::Object => target.get(segment)?,
            View::Array(items) => items.get(array_index(segment)?)?,
            _ => return None,
        };
    }
    Some(target)
}

/// An array index as JSON pointers write it: digits, without leading zeros.
fn array_index(segment: &str) -> Option<usize> {
    let canonical = segment == "0" || (!segment.starts_with('0') && !segment.starts_with('+'));
    canonical.then(|| segment.parse().ok()).flatten()
}

/// References followed from one schema before giving up (the schemas chain at most two).
const MAX_REFERENCES: usize = 8;

#[cfg(test)]
// A panic in a test is a failed test: tests may index freely.
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    use crate::diag::Severity;
    use crate::document::{Limits, parse_yaml};
    use crate::source::FileId;

    fn document(text: &str) -> Document {
        let root = parse_yaml(text, Limits::default()).unwrap().remove(0);
        Document {
            file: FileId(0),
            root,
            folder: std::path::PathBuf::new(),
            from_catalog: false,
            summarized: false,
            position: 0,
            syntax: crate::document::Syntax::Yaml,
        }
    }

    fn admitted(kind: SchemaKind, text: &str) -> (Admitted, Diagnostics) {
        let mut diagnostics = Diagnostics::default();
        let admitted = admit(kind, &document(text), &mut diagnostics);
        (admitted, diagnostics)
    }

    #[test]
    fn pointers_lead_where_serde_json_leads() {
        let value = serde_json::json!({
            "a": {"b/c": [1, {"~d": 2}], "": 3},
            "definitions": {"x.y": {"type": "string"}},
        });
        for pointer in [
            "",
            "/",
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/~0d",
            "/a/b~1c/01",
            "/a/b~1c/+1",
            "/a/b~1c/2",
            "/a/",
            "/definitions/x.y/type",
            "a",
            "/a/b/c",
            "/a/b~1c/1/~d",
        ] {
            assert_eq!(
                at_pointer(&value, pointer),
                value.pointer(pointer),
                "{pointer:?}"
            );
        }
    }

    const CLUSTER: &str = "\
kind: KubeDirectorCluster
metadata: {name: c, labels: null}
spec:
  app: a
  connections:
    secrets:
  defaultSecret: null
  roles:
  - id: r
    storage:
    env:
    podLabels: {team: null}
    resources:
      limits: {cpu: 1, memory: null}
      requests: null
    affinity:
      nodeAffinity: null
      podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [null]}
    bogus: null
";

    #[test]
    fn nulls_of_known_fields_are_pruned_as_if_absent() {
        let (admitted, diagnostics) = admitted(SchemaKind::Cluster, CLUSTER);
        assert_eq!(diagnostics.error_count(), 0);
        let spec = &admitted.value["spec"];
        assert_eq!(spec["connections"], serde_json::json!({}));
        assert!(spec.get("defaultSecret").is_none());
        let role = &spec["roles"][0];
        for absent in ["storage", "env"] {
            assert!(role.get(absent).is_none(), "{absent}");
        }
        assert_eq!(role["podLabels"], serde_json::json!({}));
        assert_eq!(role["resources"], serde_json::json!({"limits": {"cpu": 1}}));
        assert_eq!(admitted.value["metadata"], serde_json::json!({"name": "c"}));
        // Passed-through Kubernetes objects lose their nulls too; list items are kept.
        assert_eq!(
            role["affinity"],
            serde_json::json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [null]}})
        );
        // An unknown field where unknown fields are refused stays, for the schema to refuse.
        assert_eq!(role["bogus"], Json::Null);
        assert!(
            admitted
                .pruned
                .contains("/spec/roles/0/resources/limits/memory")
        );
        assert!(admitted.pruned.contains("/spec/roles/0/storage"));
        assert!(!admitted.pruned.contains("/spec/roles/0/bogus"));
    }

    const APP: &str = "\
kind: KubeDirectorApp
metadata: {name: a}
spec:
  label: {name: A, AIML_category: Training}
  categories: [AIML/Training]
  defaultConfigPackage: null
  systemdRequred: true
  services:
  - id: ui
    exported_service: AIML/Training
    label: null
    tier: web
  roles:
  - id: r
    configPackage: null
    minStorage: null
    persistDirs: [null]
";

    #[test]
    fn nulls_that_mean_something_are_kept() {
        let (admitted, _) = admitted(SchemaKind::App, APP);
        let spec = &admitted.value["spec"];
        assert_eq!(spec["defaultConfigPackage"], Json::Null);
        assert_eq!(spec["roles"][0]["configPackage"], Json::Null);
        assert_eq!(spec["services"][0]["label"], Json::Null);
        assert!(spec["roles"][0].get("minStorage").is_none());
        assert_eq!(spec["roles"][0]["persistDirs"], serde_json::json!([null]));
    }

    #[test]
    fn unknown_fields_the_app_crd_keeps_are_warnings_and_left_out() {
        let (admitted, diagnostics) = admitted(SchemaKind::App, APP);
        let spec = &admitted.value["spec"];
        for gone in ["categories", "systemdRequred"] {
            assert!(spec.get(gone).is_none(), "{gone}");
        }
        assert!(spec["label"].get("AIML_category").is_none());
        assert!(spec["services"][0].get("tier").is_none());
        // exported_service is one of kdrender's fields, not an unknown one.
        assert_eq!(spec["services"][0]["exported_service"], "AIML/Training");
        let warnings: Vec<_> = diagnostics
            .iter()
            .map(|d| {
                assert_eq!(d.severity, Severity::Warning);
                (d.message.clone(), d.help.clone().unwrap_or_default())
            })
            .collect();
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        let messages: Vec<&str> = warnings.iter().map(|(m, _)| m.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("`AIML_category` in spec.label"))
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("`tier` in spec.services[0]"))
        );
        let typo = warnings
            .iter()
            .find(|(m, _)| m.contains("`systemdRequred` in spec"))
            .unwrap();
        assert!(typo.1.contains("systemdRequired"), "{typo:?}");
    }

    #[test]
    fn every_reference_in_the_schemas_leads_somewhere() {
        fn references<'a>(value: &'a Json, out: &mut Vec<&'a str>) {
            match value {
                Json::Object(map) => {
                    if let Some(Json::String(r)) = map.get("$ref") {
                        out.push(r);
                    }
                    map.values().for_each(|v| references(v, out));
                }
                Json::Array(items) => items.iter().for_each(|v| references(v, out)),
                _ => {}
            }
        }
        for kind in SchemaKind::ALL {
            let schema = kind.document();
            let mut found = Vec::new();
            references(schema, &mut found);
            for reference in found {
                // Kubernetes' own definitions live in a file of their own, which pruning does
                // not enter (their types admit null, as the API server's do).
                let (file, pointer) = reference.split_once('#').unwrap();
                let target = if file.is_empty() {
                    schema
                } else {
                    let uri = format!("{}{file}", super::super::kubernetes::BASE_URI);
                    super::super::kubernetes::document(&uri).unwrap()
                };
                assert!(target.pointer(pointer).is_some(), "{reference}");
            }
        }
    }
}
