//! The JSON Schemas of the input formats, and checking documents against them.
//!
//! The schemas in `schemas/` are compiled into the binary, printed by `kdrender schema`, and
//! checked on load. A schema error carries a JSON pointer into the document; it is mapped back
//! to the line it came from, and an unknown field points at its key, with a suggestion.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;

use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::document::{pointer_escape, pointer_segments};
use crate::load::Document;

/// The input formats that have a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaKind {
    App,
    Cluster,
    Settings,
}

impl SchemaKind {
    pub const ALL: [SchemaKind; 3] = [SchemaKind::App, SchemaKind::Cluster, SchemaKind::Settings];

    /// The name `kdrender schema <name>` takes.
    pub fn name(self) -> &'static str {
        match self {
            SchemaKind::App => "app",
            SchemaKind::Cluster => "cluster",
            SchemaKind::Settings => "settings",
        }
    }

    pub fn from_name(name: &str) -> Option<SchemaKind> {
        let name = name.to_ascii_lowercase();
        SchemaKind::ALL.into_iter().find(|k| {
            k.name() == name
                || matches!(
                    (k, name.as_str()),
                    (SchemaKind::App, "kubedirectorapp")
                        | (SchemaKind::Cluster, "kubedirectorcluster")
                        | (SchemaKind::Settings, "rendersettings")
                )
        })
    }

    /// The schema document, as shipped in `schemas/`.
    pub fn text(self) -> &'static str {
        match self {
            SchemaKind::App => include_str!("../../schemas/app.schema.json"),
            SchemaKind::Cluster => include_str!("../../schemas/cluster.schema.json"),
            SchemaKind::Settings => include_str!("../../schemas/settings.schema.json"),
        }
    }

    /// Compiles the schemas in the background, on other cores, while the inputs are read: for a
    /// small repository, compiling them is most of the work.
    pub fn warm_up() {
        for kind in SchemaKind::ALL {
            if kind.slot().get().is_none() {
                std::thread::spawn(move || {
                    kind.compiled();
                });
            }
        }
    }

    fn slot(self) -> &'static OnceLock<Compiled> {
        static COMPILED: [OnceLock<Compiled>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        &COMPILED[self as usize]
    }

    fn compiled(self) -> &'static Compiled {
        static COMPILED: [OnceLock<Compiled>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let index = self as usize;
        COMPILED[index].get_or_init(|| Compiled::new(self.text()))
    }
}

struct Compiled {
    schema: serde_json::Value,
    validator: jsonschema::Validator,
}

impl Compiled {
    fn new(text: &str) -> Compiled {
        // The schemas are part of the program, and a test compiles each of them.
        let schema: serde_json::Value =
            serde_json::from_str(text).expect("embedded schema is valid JSON");
        let validator = jsonschema::validator_for(&schema).expect("embedded schema compiles");
        Compiled { schema, validator }
    }
}

/// Checks one document; returns false when it broke the schema (errors pushed).
pub fn check(
    kind: SchemaKind,
    document: &Document,
    value: &serde_json::Value,
    diagnostics: &mut Diagnostics,
) -> bool {
    let compiled = kind.compiled();
    let mut valid = true;
    for error in compiled.validator.iter_errors(value) {
        valid = false;
        diagnostics.push(describe(compiled, document, &error));
    }
    valid
}

fn describe(
    compiled: &Compiled,
    document: &Document,
    error: &jsonschema::ValidationError<'_>,
) -> Diagnostic {
    let pointer = error.instance_path().as_str();
    let field = field_name(pointer);
    let schema_path = error.schema_path().as_str();
    let schema_node = parent_schema(&compiled.schema, schema_path);
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let key = unexpected.first().cloned().unwrap_or_default();
            let known: Vec<&str> = schema_node
                .and_then(|n| n.get("properties"))
                .and_then(|p| p.as_object())
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let mut diagnostic = Diagnostic::error(format!("unknown field `{key}` in {field}"))
                .at(document.key_origin(&format!("{pointer}/{}", pointer_escape(&key))))
                .label("not a field of this object");
            if let Some(suggestion) = did_you_mean(&key, known.iter().copied()) {
                diagnostic = diagnostic.help(suggestion);
            } else if !known.is_empty() {
                diagnostic = diagnostic.help(format!("known fields: {}", known.join(", ")));
            }
            diagnostic
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            Diagnostic::error(format!("{field} is missing the required field `{name}`"))
                .at(document.key_origin(pointer))
        }
        kind => {
            let mut message = format!("{field}: {error}");
            let mut help = None;
            if matches!(kind, ValidationErrorKind::Pattern { .. }) {
                let value = error.instance();
                message = format!("{field}: {value} does not have the required form");
                help = schema_node
                    .and_then(|n| n.get("description"))
                    .and_then(|d| d.as_str())
                    .map(str::to_string)
                    .or_else(|| match kind {
                        ValidationErrorKind::Pattern { pattern } => {
                            Some(format!("it must match the pattern {pattern}"))
                        }
                        _ => None,
                    });
            }
            let diagnostic = Diagnostic::error(message).at(document.origin(pointer));
            match help {
                Some(help) => diagnostic.help(help),
                None => diagnostic,
            }
        }
    }
}

/// The schema object that holds the failing keyword (`.../properties/x/pattern` → `.../x`).
fn parent_schema<'a>(
    schema: &'a serde_json::Value,
    schema_path: &str,
) -> Option<&'a serde_json::Value> {
    let segments: Vec<String> = pointer_segments(schema_path).collect();
    let mut node = schema;
    for segment in &segments[..segments.len().saturating_sub(1)] {
        node = match node {
            serde_json::Value::Object(map) => map.get(segment)?,
            serde_json::Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// `/spec/roles/0/id` → `spec.roles[0].id`, as users read field paths.
pub fn field_name(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer_segments(pointer) {
        if segment.parse::<usize>().is_ok() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    if out.is_empty() {
        "the document".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_schema_compiles_and_names_round_trip() {
        for kind in SchemaKind::ALL {
            let _ = kind.compiled();
            assert_eq!(SchemaKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(
            SchemaKind::from_name("KubeDirectorCluster"),
            Some(SchemaKind::Cluster)
        );
        assert_eq!(SchemaKind::from_name("nope"), None);
    }

    #[test]
    fn field_names_read_like_paths() {
        assert_eq!(field_name("/spec/roles/0/id"), "spec.roles[0].id");
        assert_eq!(field_name(""), "the document");
    }
}
