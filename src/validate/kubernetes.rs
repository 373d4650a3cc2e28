//! The official Kubernetes definitions the schemas embed, served to the schema checker.
//!
//! `tools/gen-kubernetes-schemas` writes them from a pinned Kubernetes version into two files:
//! `schemas/kubernetes.schema.json`, which the app and cluster schemas `$ref` for probes,
//! security contexts, affinity and the like, and `schemas/kubernetes-objects.schema.json`, the
//! kinds kdrender renders, against which patched objects are checked. Both are compiled into the
//! binary and handed to the checker when a schema refers to them, so a run compiles only what its
//! schemas reach: the objects' definitions only when there are patches to check.

use std::sync::OnceLock;

/// Where the schemas live, as their `$id`s say; relative `$ref`s resolve against it.
pub const BASE_URI: &str = "https://kdrender.dev/schemas/";

/// The definitions the input formats embed.
pub const DEFINITIONS_FILE: &str = "kubernetes.schema.json";
/// The definitions of the objects kdrender renders.
pub const OBJECTS_FILE: &str = "kubernetes-objects.schema.json";

const DEFINITIONS: &str = include_str!("../../schemas/kubernetes.schema.json");
const OBJECTS: &str = include_str!("../../schemas/kubernetes-objects.schema.json");

/// The text of an embedded file, by its URI.
fn text(uri: &str) -> Option<&'static str> {
    embedded(uri.strip_prefix(BASE_URI)?)
}

/// The text of an embedded file, by its name.
fn embedded(file: &str) -> Option<&'static str> {
    match file {
        DEFINITIONS_FILE => Some(DEFINITIONS),
        OBJECTS_FILE => Some(OBJECTS),
        _ => None,
    }
}

/// An embedded file, parsed once, by its URI (for reading back the schema an error is about).
pub fn document(uri: &str) -> Option<&'static serde_json::Value> {
    parsed(uri.strip_prefix(BASE_URI)?)
}

/// The Kubernetes definitions' file, parsed once.
pub fn definitions() -> Option<&'static serde_json::Value> {
    parsed(DEFINITIONS_FILE)
}

/// An embedded file, parsed once, by its name.
fn parsed(file: &str) -> Option<&'static serde_json::Value> {
    static DEFINITIONS_VALUE: OnceLock<Option<serde_json::Value>> = OnceLock::new();
    static OBJECTS_VALUE: OnceLock<Option<serde_json::Value>> = OnceLock::new();
    let cell = match file {
        DEFINITIONS_FILE => &DEFINITIONS_VALUE,
        OBJECTS_FILE => &OBJECTS_VALUE,
        _ => return None,
    };
    cell.get_or_init(|| embedded(file).and_then(|t| serde_json::from_str(t).ok()))
        .as_ref()
}

/// Hands the embedded files to the schema checker; refuses every other reference (kdrender
/// never fetches anything).
pub struct Embedded;

#[derive(Debug, thiserror::Error)]
#[error("{0} is not one of kdrender's schemas")]
struct NotEmbedded(String);

impl jsonschema::Retrieve for Embedded {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        let uri = uri.as_str();
        let document = checked(uri).ok_or_else(|| NotEmbedded(uri.to_string()))?;
        Ok(document.clone())
    }
}

/// An embedded file as the checker needs it: parsed once for the run (each input format's
/// schema asks for it), without the descriptions, which are for editors and most of its bytes.
fn checked(uri: &str) -> Option<&'static serde_json::Value> {
    static DEFINITIONS_CHECKED: OnceLock<Option<serde_json::Value>> = OnceLock::new();
    static OBJECTS_CHECKED: OnceLock<Option<serde_json::Value>> = OnceLock::new();
    let cell = match uri.strip_prefix(BASE_URI)? {
        DEFINITIONS_FILE => &DEFINITIONS_CHECKED,
        OBJECTS_FILE => &OBJECTS_CHECKED,
        _ => return None,
    };
    cell.get_or_init(|| {
        let mut document = serde_json::from_str(text(uri)?).ok()?;
        without_descriptions(&mut document);
        Some(document)
    })
    .as_ref()
}

/// The value with every string under a `description` key left out (a property named
/// `description` is an object, and stays).
pub(super) fn without_descriptions(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map
                .get("description")
                .is_some_and(serde_json::Value::is_string)
            {
                map.remove("description");
            }
            map.values_mut().for_each(without_descriptions);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_descriptions),
        _ => {}
    }
}

/// A schema that is one definition of the rendered objects' file, by its name
/// (`io.k8s.api.apps.v1.StatefulSet`).
pub fn object_schema(definition: &str) -> serde_json::Value {
    serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": format!("{BASE_URI}{OBJECTS_FILE}#/definitions/{definition}"),
    })
}

/// The schema `kdrender schema` prints: the input format's schema with the Kubernetes
/// definitions it uses copied in, so that the one document stands alone wherever it is saved.
pub fn bundled(schema: &serde_json::Value) -> serde_json::Value {
    let mut out = schema.clone();
    let prefix = format!("{DEFINITIONS_FILE}#/definitions/");
    if !rewrite_references(&mut out, &prefix) {
        return out;
    }
    let Some(definitions) = definitions()
        .and_then(|d| d.get("definitions"))
        .and_then(serde_json::Value::as_object)
    else {
        return out;
    };
    if let Some(own) = out
        .get_mut("definitions")
        .and_then(serde_json::Value::as_object_mut)
    {
        for (name, definition) in definitions {
            own.insert(name.clone(), definition.clone());
        }
    }
    out
}

/// `kubernetes.schema.json#/definitions/X` → `#/definitions/X`; whether any was found.
fn rewrite_references(value: &mut serde_json::Value, prefix: &str) -> bool {
    match value {
        serde_json::Value::Object(map) => {
            let mut found = false;
            for (key, item) in map.iter_mut() {
                match item {
                    serde_json::Value::String(reference) if key == "$ref" => {
                        if let Some(name) = reference.strip_prefix(prefix) {
                            *reference = format!("#/definitions/{name}");
                            found = true;
                        }
                    }
                    _ => found |= rewrite_references(item, prefix),
                }
            }
            found
        }
        serde_json::Value::Array(items) => items.iter_mut().fold(false, |found, item| {
            rewrite_references(item, prefix) | found
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_of_the_embedded_files_resolves_inside_them() {
        for file in [DEFINITIONS_FILE, OBJECTS_FILE] {
            let document = document(&format!("{BASE_URI}{file}")).unwrap();
            let definitions = document["definitions"].as_object().unwrap();
            let text = serde_json::to_string(document).unwrap();
            for reference in text.split("\"$ref\":\"").skip(1) {
                let target = reference.split('"').next().unwrap();
                let name = target.strip_prefix("#/definitions/").unwrap();
                assert!(definitions.contains_key(name), "{file}: {target}");
            }
        }
    }

    #[test]
    fn the_bundled_schema_refers_to_no_other_file() {
        let app: serde_json::Value =
            serde_json::from_str(include_str!("../../schemas/app.schema.json")).unwrap();
        let bundled = serde_json::to_string(&bundled(&app)).unwrap();
        assert!(!bundled.contains(DEFINITIONS_FILE));
        assert!(bundled.contains("\"io.k8s.api.core.v1.Probe\":{"));
        let validator = jsonschema::options()
            .with_retriever(Nothing)
            .build(&serde_json::from_str(&bundled).unwrap())
            .unwrap();
        let probe = serde_json::json!({"tcpSockett": {"port": 1}});
        let app =
            serde_json::json!({"spec": {"kdrender": {"roles": {"r": {"livenessProbe": probe}}}}});
        assert!(
            validator
                .iter_errors(&app)
                .any(|e| e.to_string().contains("tcpSockett"))
        );
    }

    struct Nothing;
    impl jsonschema::Retrieve for Nothing {
        fn retrieve(
            &self,
            uri: &jsonschema::Uri<String>,
        ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
            Err(NotEmbedded(uri.to_string()).into())
        }
    }
}
