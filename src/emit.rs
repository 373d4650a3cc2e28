//! Emit: the rendered objects as one deterministic YAML stream.
//!
//! Objects are ordered by namespace, cluster, kind (in install order: NetworkPolicies and
//! PodDisruptionBudgets, ConfigMaps, Services, StatefulSets) and name; keys are sorted; strings
//! that a YAML 1.1 reader (Argo CD's Go YAML) would take for a boolean, number or date are
//! quoted. Two objects with the same kind, namespace and name are an error. An object whose content holds `${` is marked
//! `kustomize.toolkit.fluxcd.io/substitute: disabled`, so that Flux's post-build substitution
//! leaves config files and scripts alone.

mod yaml;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::diag::{Diagnostic, Diagnostics};
use crate::render::{Kind, Object};
use crate::source::{Location, Origin, SourceMap};

/// Flux skips post-build substitution on objects with this annotation set to `disabled`.
pub const FLUX_SUBSTITUTE: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Default cap on the size of the output, well below Argo CD's 100 MiB gRPC limit.
pub const MAX_OUTPUT_BYTES: usize = 64 << 20;

/// Above this size, a successful render warns: Argo CD holds every render in memory and Redis.
pub const WARN_OUTPUT_BYTES: usize = 10 << 20;

/// Puts one cluster's objects in output order (kind in install order, see [`Kind`], then name)
/// and marks those Flux must not substitute into. Clusters themselves are ordered by namespace
/// and name.
pub fn finish_cluster(mut objects: Vec<Object>) -> Vec<Object> {
    objects.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    for object in &mut objects {
        if holds_substitution(&object.value) {
            annotate(&mut object.value, FLUX_SUBSTITUTE, "disabled");
        }
    }
    objects
}

/// Sets an annotation of an object, adding `metadata.annotations` if it has none.
fn annotate(object: &mut Value, key: &str, value: &str) {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(key.to_string(), json!(value));
    }
}

/// What makes an object unique in the output, and where it came from.
#[derive(Clone, Debug)]
pub struct Identity {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub cluster: String,
    pub origin: Origin,
}

impl Identity {
    pub fn of(object: &Object) -> Identity {
        Identity {
            kind: object.kind,
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            cluster: object.cluster.clone(),
            origin: object.origin,
        }
    }
}

/// The objects emitted so far; a second object with the same kind, namespace and name is an
/// error that names both clusters.
#[derive(Default)]
pub struct Identities {
    seen: BTreeMap<(Kind, String, String), (String, Origin)>,
}

impl Identities {
    pub fn insert(
        &mut self,
        identity: Identity,
        sources: &SourceMap,
        diagnostics: &mut Diagnostics,
    ) {
        let key = (
            identity.kind,
            identity.namespace.clone(),
            identity.name.clone(),
        );
        if let Some((cluster, origin)) = self.seen.get(&key) {
            diagnostics.push(duplicate(&identity, cluster, sources.describe(*origin)));
        } else {
            self.seen.insert(key, (identity.cluster, identity.origin));
        }
    }
}

/// Two clusters render the same object.
fn duplicate(identity: &Identity, other_cluster: &str, other: Location<'_>) -> Diagnostic {
    Diagnostic::error(format!(
        "clusters \"{other_cluster}\" and \"{}\" both render {} \"{}\" in namespace \"{}\"",
        identity.cluster, identity.kind, identity.name, identity.namespace
    ))
    .at(identity.origin)
    .help(format!(
        "the other cluster is at {other}; rename one of them"
    ))
}

fn holds_substitution(value: &Value) -> bool {
    match value {
        Value::String(s) => has_substitution(s),
        Value::Array(items) => items.iter().any(holds_substitution),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| has_substitution(k) || holds_substitution(v)),
        _ => false,
    }
}

/// Whether `text` holds `${`. A byte scan: most strings are short, and `str::contains` first
/// sets up a substring searcher for each (a tenth of a 100-cluster render's instructions).
fn has_substitution(text: &str) -> bool {
    text.as_bytes().windows(2).any(|pair| pair == b"${")
}

/// The size of a value as compact JSON, without building the text: what an object held in
/// memory is charged against the output limit.
pub fn json_size(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(bytes.len());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing to a counter cannot fail, and a Value always serialises.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// An object that cannot be written as YAML.
#[derive(Debug, thiserror::Error)]
#[error("cannot write an object as YAML: {0}")]
pub struct YamlError(#[from] serde_saphyr::SerializeError);

/// One object as a YAML document (without the `---` separator).
pub fn to_yaml(value: &Value) -> Result<String, YamlError> {
    let mut text = String::new();
    write_yaml(&mut text, value)?;
    Ok(text)
}

/// Appends one object as a YAML document (without the `---` separator) to `out`.
pub fn write_yaml(out: &mut String, value: &Value) -> Result<(), YamlError> {
    yaml::write(out, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_is_detected_in_nested_strings_only() {
        assert!(holds_substitution(
            &json!({"data": {"core-site.xml": "<v>${hadoop.tmp.dir}</v>"}})
        ));
        assert!(!holds_substitution(
            &json!({"data": {"run.sh": "echo $HOME"}})
        ));
        assert!(!holds_substitution(&json!({"n": 1})));
    }

    #[test]
    fn yaml_1_1_traps_are_quoted() {
        let text =
            to_yaml(&json!({"a": "on", "b": "0755", "c": "yes", "d": "12:30", "e": "~"})).unwrap();
        for line in text.lines() {
            let value = line.split_once(": ").unwrap().1;
            assert!(value.starts_with('"') || value.starts_with('\''), "{line}");
        }
    }
}
