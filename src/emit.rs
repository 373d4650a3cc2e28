//! Emit: the rendered objects as one deterministic YAML stream, or (`-o json`) one JSON `v1`
//! `List`, printed as `kubectl get -o json` prints several objects.
//!
//! Objects are ordered by namespace, cluster, kind (in install order: NetworkPolicies and
//! PodDisruptionBudgets, ConfigMaps, Services, StatefulSets) and name; keys are sorted; strings
//! that a YAML 1.1 reader (Argo CD's Go YAML) would take for a boolean, number or date are
//! quoted. Two objects with the same kind, namespace and name are an error. An object whose content holds `${` is marked
//! `kustomize.toolkit.fluxcd.io/substitute: disabled`, so that Flux's post-build substitution
//! leaves config files and scripts alone.

pub mod compact;
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
    /// The kind, namespace and name digested (on the worker that rendered the object): what
    /// [`Identities`] keeps of it.
    digest: ObjectDigest,
}

/// The first 128 bits of SHA-256 over an object's kind, namespace and name, each
/// length-prefixed, as a number. Equal identities always have equal digests; two different
/// ones share a digest only by a collision of SHA-256's first half, which no input can aim for.
type ObjectDigest = u128;

impl Identity {
    pub fn new(
        kind: Kind,
        namespace: String,
        name: String,
        cluster: String,
        origin: Origin,
    ) -> Identity {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update([kind as u8]);
        for part in [&namespace, &name] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let mut first_half = [0u8; 16];
        for (byte, from) in first_half.iter_mut().zip(hasher.finalize()) {
            *byte = from;
        }
        // As a number, so that the index compares two words rather than calling `memcmp`.
        let digest = ObjectDigest::from_le_bytes(first_half);
        Identity {
            kind,
            namespace,
            name,
            cluster,
            origin,
            digest,
        }
    }

    pub fn of(object: &Object) -> Identity {
        Identity::new(
            object.kind,
            object.namespace.clone(),
            object.name.clone(),
            object.cluster.clone(),
            object.origin,
        )
    }
}

/// The objects emitted so far; a second object with the same kind, namespace and name is an
/// error that names both clusters. A run keeps one entry per object it emits until its end, so
/// each is held as its digest and the index of what emitted it (20 bytes; the names themselves
/// took about a hundred, in allocations of their own). A cluster's objects share one emitter.
#[derive(Default)]
pub struct Identities {
    objects: BTreeMap<ObjectDigest, u32>,
    /// The clusters, and where each was rendered from, in the order their objects came.
    emitters: Vec<Emitter>,
}

/// What emitted an object first.
struct Emitter {
    cluster: String,
    origin: Origin,
}

impl Identities {
    pub fn insert(
        &mut self,
        identity: Identity,
        sources: &SourceMap,
        diagnostics: &mut Diagnostics,
    ) {
        if let Some(&first) = self.objects.get(&identity.digest) {
            let first = usize::try_from(first)
                .ok()
                .and_then(|i| self.emitters.get(i));
            let other_cluster = first.map_or("", |first| first.cluster.as_str());
            let other = sources.describe(first.map_or(identity.origin, |first| first.origin));
            diagnostics.push(duplicate(&identity, other_cluster, other));
            return;
        }
        // A cluster's objects come one after another.
        let same =
            |last: &Emitter| last.cluster == identity.cluster && last.origin == identity.origin;
        if !self.emitters.last().is_some_and(same) {
            self.emitters.push(Emitter {
                cluster: identity.cluster,
                origin: identity.origin,
            });
        }
        let emitter = self.emitters.len().saturating_sub(1);
        self.objects
            .insert(identity.digest, u32::try_from(emitter).unwrap_or(u32::MAX));
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

/// Whether `text` holds `${`. Most strings hold no `$` at all, which `contains` on bytes finds
/// with `memchr`; `str::contains("${")` would first set up a substring searcher for each short
/// string, and a pairwise scan of every string was itself 9% of a 100-cluster render.
fn has_substitution(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.contains(&b'$') && bytes.windows(2).any(|pair| pair == b"${")
}

/// The size of a value as compact JSON (written into a reused buffer): what an object held in
/// memory is charged against the output limit.
pub fn json_size(value: &Value) -> usize {
    compact::with_text(value, str::len)
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

/// An object that cannot be written as JSON.
#[derive(Debug, thiserror::Error)]
#[error("cannot write an object as JSON: {0}")]
pub struct JsonError(#[from] serde_json::Error);

/// One object as an item of the JSON List: indented with four spaces a level, as kubectl does,
/// two levels deep, without a line end. JSON strings hold no raw line breaks, so indenting every
/// line indents the object and nothing inside its strings.
pub fn to_json_item(value: &Value) -> Result<String, JsonError> {
    use serde::Serialize as _;
    let mut text = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut text, formatter,
    ))?;
    let text = String::from_utf8_lossy(&text);
    let mut item = String::with_capacity(text.len().saturating_add(text.len() / 4));
    for (index, line) in text.lines().enumerate() {
        if index > 0 {
            item.push('\n');
        }
        item.push_str("        ");
        item.push_str(line);
    }
    Ok(item)
}

/// The JSON List around items already written by [`to_json_item`]: each piece holds one or more
/// items separated by `,\n` (one cluster's), and pieces are returned in order with the list's
/// opening, separators and end as pieces of their own, so no item is copied.
pub fn json_list(pieces: Vec<String>) -> Vec<String> {
    let items: Vec<String> = pieces.into_iter().filter(|p| !p.is_empty()).collect();
    if items.is_empty() {
        return vec![format!(
            "{{\n    \"apiVersion\": \"v1\",\n    \"items\": [],\n{JSON_LIST_END}"
        )];
    }
    let mut list = Vec::with_capacity(items.len().saturating_mul(2).saturating_add(2));
    list.push(JSON_LIST_START.to_string());
    for (index, piece) in items.into_iter().enumerate() {
        if index > 0 {
            list.push(",\n".to_string());
        }
        list.push(piece);
    }
    list.push(json_list_close());
    list
}

/// What comes before the first item of a List that has items.
pub const JSON_LIST_START: &str = "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n";

/// What comes after the last item of a List that has items.
pub fn json_list_close() -> String {
    format!("\n    ],\n{JSON_LIST_END}")
}

/// What follows the items of the List: its kind and the metadata kubectl prints for a list.
const JSON_LIST_END: &str =
    "    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_two_clusters_render_is_an_error_naming_both() {
        let mut sources = SourceMap::default();
        let file = sources.add("clusters/b.yaml".into(), "metadata:\n  name: b\n".into());
        let identity = |kind, namespace: &str, name: &str, cluster: &str, at| {
            let origin = Origin {
                file,
                span: crate::source::Span::new(at, at),
            };
            Identity::new(kind, namespace.into(), name.into(), cluster.into(), origin)
        };
        let problems = |identities: &[Identity]| {
            let (mut seen, mut diagnostics) = (Identities::default(), Diagnostics::default());
            for identity in identities {
                seen.insert(identity.clone(), &sources, &mut diagnostics);
            }
            diagnostics
        };
        let mut identities = vec![
            identity(Kind::Service, "ns", "a-b-c", "a", 0),
            identity(Kind::Service, "ns", "x", "b", 0),
            // Another kind, or another namespace, is another object.
            identity(Kind::StatefulSet, "ns", "a-b-c", "b", 0),
            identity(Kind::Service, "other", "a-b-c", "b", 0),
            // The namespace and the name are digested each with its length: neither of these
            // is the first object again.
            identity(Kind::Service, "nsa", "-b-c", "b", 0),
            identity(Kind::Service, "n", "sa-b-c", "b", 0),
        ];
        assert!(problems(&identities).is_empty());
        // The same object again, from a cluster met before and after others.
        identities.push(identity(Kind::Service, "ns", "a-b-c", "b", 11));
        let rendered = problems(&identities).render(&sources);
        assert!(
            rendered.contains(
                "clusters \"a\" and \"b\" both render Service \"a-b-c\" in namespace \"ns\""
            ),
            "{rendered}"
        );
        assert!(
            rendered.contains("the other cluster is at clusters/b.yaml:1:1"),
            "{rendered}"
        );
    }

    #[test]
    fn substitution_is_detected_in_nested_strings_only() {
        assert!(holds_substitution(
            &json!({"data": {"core-site.xml": "<v>${hadoop.tmp.dir}</v>"}})
        ));
        assert!(!holds_substitution(
            &json!({"data": {"run.sh": "echo $HOME"}})
        ));
        assert!(!holds_substitution(&json!({"n": 1})));
        for (text, holds) in [
            ("${", true),
            ("$$${x}", true),
            ("a $ {b} $", false),
            ("{$}", false),
            ("$", false),
            ("", false),
        ] {
            assert_eq!(has_substitution(text), holds, "{text:?}");
        }
        assert!(holds_substitution(&json!({"key ${x}": "v"})));
    }

    #[test]
    fn the_json_list_parses_as_kubectl_prints_it() {
        let first = to_json_item(&json!({"kind": "ConfigMap", "data": {"a": "x\ny"}})).unwrap();
        let second = to_json_item(&json!({"kind": "Service", "spec": {}})).unwrap();
        let text = json_list(vec![first.clone(), String::new(), second]).concat();
        let list: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            list,
            json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
                "items": [{"kind": "ConfigMap", "data": {"a": "x\ny"}}, {"kind": "Service", "spec": {}}]})
        );
        // kubectl's layout: four spaces a level, keys in order, one line end at the end.
        assert!(text.starts_with("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\n            \"data\": {\n"), "{text}");
        assert!(text.ends_with("    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n"), "{text}");
        let empty: Value = serde_json::from_str(&json_list(Vec::new()).concat()).unwrap();
        assert_eq!(empty["items"], json!([]));
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
