//! Hash: the content hash in each role's pod template that makes Kubernetes roll exactly the roles
//! whose pods would otherwise run with something old.
//!
//! A role's hash covers what a running pod of the role cannot pick up, and nothing else:
//!
//! - its pod template (image, resources, environment, ports, mounts, probes, setup package and
//!   events) and its volume claim templates (storage);
//! - the config files its pods mount (with `subPath`, so a running pod never sees them change).
//!
//! What `configmeta.json` holds is not among them: membership (members, FQDNs, node ids,
//! endpoints, of this cluster and of connected ones), other roles' resources and images, and
//! the app's `configMeta`, version and distro id reach running members in place. The setup
//! runner of a role with a setup package rewrites their `configmeta.json` when the ConfigMap
//! changes and sends KubeDirector's `--addnodes`, `--delnodes` and `--reconnect` to their
//! startscript, as KubeDirector did by exec (`render/setup.sh`).
//!
//! Render hands each role's StatefulSet over with the role's other inputs ([`RoleInputs`]);
//! [`stamp`] computes the hash and writes it into the pod template as [`ANNOTATION`].
//!
//! The hash is SHA-256 over canonical JSON (sorted keys, no whitespace) of those inputs, tagged
//! with the scheme version, so formatting and key order in the inputs never change it. The
//! annotation value is `v2-` and the first 32 hex digits. Scheme `v1` also covered membership
//! (for roles that take `addnodes`/`delnodes`) and the app's configuration (for every role).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::render::files::{ConfigFile, Content};
use crate::resolve::RoleTopology;

/// Pod-template annotation that carries the hash.
pub const ANNOTATION: &str = "kdrender.dev/rollout-hash";
/// Version of what is hashed and how; bumped whenever either changes.
pub const SCHEME: &str = "v2";

/// What render hands over with a role's StatefulSet: the role and its rendered config files.
pub struct RoleInputs<'a> {
    pub role: &'a RoleTopology<'a>,
    pub files: &'a [ConfigFile],
}

/// Computes a role's rollout hash and writes it into its StatefulSet's pod template.
pub fn stamp(statefulset: &mut Value, inputs: &RoleInputs<'_>) {
    let files = consumed_files(inputs.files, inputs.role);
    let null = Value::Null;
    let field = |pointer: &str| statefulset.pointer(pointer).unwrap_or(&null);
    let hash = rollout_hash(&RolloutInputs {
        pod_template: field("/spec/template"),
        claims: field("/spec/volumeClaimTemplates"),
        files: &files,
    });
    if let Some(annotations) = statefulset
        .pointer_mut("/spec/template/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.insert(ANNOTATION.into(), Value::String(hash));
    }
}

/// What one role's pods consume, borrowed from the StatefulSet and the rendered files.
pub struct RolloutInputs<'a, F: Serialize = Value> {
    pub pod_template: &'a Value,
    pub claims: &'a Value,
    pub files: &'a F,
}

/// The hashed document: its fields are in sorted order, as are the keys of every map below them
/// (serde_json's maps are sorted: no preserve_order), so its compact JSON is canonical. It is
/// serialised straight into the hasher, borrowing its parts: the pod template is never copied.
#[derive(Serialize)]
struct Canonical<'a, F: Serialize> {
    files: &'a F,
    #[serde(rename = "podTemplate")]
    pod_template: &'a Value,
    scheme: &'a str,
    #[serde(rename = "volumeClaimTemplates")]
    claims: &'a Value,
}

pub fn rollout_hash<F: Serialize>(inputs: &RolloutInputs<'_, F>) -> String {
    let canonical = Canonical {
        files: inputs.files,
        pod_template: inputs.pod_template,
        scheme: &format!("kdrender.dev/rollout-hash/{SCHEME}"),
        claims: inputs.claims,
    };
    format!("{SCHEME}-{}", json_digest_hex(&canonical))
}

/// The first 32 hex digits (128 bits) of [`json_digest`]: what kdrender writes where a digest
/// is shown.
pub fn json_digest_hex(value: &impl Serialize) -> String {
    let digest = json_digest(value);
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `value`'s compact JSON text, which goes into the digest as it is written: the
/// text is never held.
pub fn json_digest(value: &impl Serialize) -> [u8; 32] {
    let mut hasher = Hasher(Sha256::new());
    // Writing to the hasher cannot fail, nor can serialising maps with string keys.
    let _ = serde_json::to_writer(&mut hasher, value);
    hasher.0.finalize().into()
}

/// A writer that feeds the digest.
struct Hasher(Sha256);

impl std::io::Write for Hasher {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One consumed config file, as hashed: `{"members": [...], "mode": m}` or
/// `{"mode": m, "shared": "..."}` (fields in sorted order).
#[derive(Serialize)]
struct ConsumedFile<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<&'a [String]>,
    mode: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shared: Option<&'a str>,
}

/// The config files a role's pods consume, by target: every shared file, and each per-member
/// file of the members that every allowed size of the role has (ordinals below the cardinality's
/// minimum, and at least the first). A member added by a scale-out brings its own file without
/// changing what the existing members read, so it rolls nobody; an edit to a template or to the
/// topology it reads shows in those members' files.
fn consumed_files<'a>(
    files: &'a [ConfigFile],
    role: &RoleTopology<'_>,
) -> BTreeMap<&'a str, ConsumedFile<'a>> {
    let always_present =
        (role.app_role.cardinality.minimum.max(1) as usize).min(role.members.len());
    let consumed = files.iter().map(|file| {
        let (members, shared) = match &file.content {
            Content::Shared(text) => (None, Some(text.as_str())),
            Content::PerMember(texts) => (texts.get(..always_present.min(texts.len())), None),
        };
        let entry = ConsumedFile {
            members,
            mode: file.mode,
            shared,
        };
        (file.target.as_str(), entry)
    });
    consumed.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_is_sha256_of_the_compact_sorted_json_of_the_inputs() {
        let pod: Value = serde_json::from_str(r#"{"spec": {"b": [1, "x"], "a": null}}"#).unwrap();
        let claims: Value = serde_json::from_str(r#"[{"metadata": {"name": "data"}}]"#).unwrap();
        let files: Value =
            serde_json::from_str(r#"{"/etc/b": {"shared": "s"}, "/etc/a": 1}"#).unwrap();
        let text = concat!(
            r#"{"files":{"/etc/a":1,"/etc/b":{"shared":"s"}},"podTemplate":{"spec":{"a":null,"#,
            r#""b":[1,"x"]}},"scheme":"kdrender.dev/rollout-hash/v2","#,
            r#""volumeClaimTemplates":[{"metadata":{"name":"data"}}]}"#
        );
        let digest = Sha256::digest(text.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let inputs = RolloutInputs {
            pod_template: &pod,
            claims: &claims,
            files: &files,
        };
        assert_eq!(rollout_hash(&inputs), format!("v2-{hex}"));
    }

    #[test]
    fn consumed_files_hash_as_sorted_maps_of_mode_and_content() {
        let members = ["m0".to_string(), "m1".to_string()];
        let consumed = BTreeMap::from([
            (
                "/etc/z",
                ConsumedFile {
                    members: None,
                    mode: Some(0o644),
                    shared: Some("text"),
                },
            ),
            (
                "/etc/a",
                ConsumedFile {
                    members: members.get(..1),
                    mode: None,
                    shared: None,
                },
            ),
        ]);
        assert_eq!(
            serde_json::to_string(&consumed).unwrap(),
            r#"{"/etc/a":{"members":["m0"],"mode":null},"/etc/z":{"mode":420,"shared":"text"}}"#
        );
    }

    #[test]
    fn hash_ignores_key_order_and_follows_every_input() {
        let pod: Value = serde_json::from_str(r#"{"b": 1, "a": [1, 2]}"#).unwrap();
        let pod_reordered: Value = serde_json::from_str(r#"{"a": [1, 2], "b": 1}"#).unwrap();
        let empty = json!({});
        let base = RolloutInputs {
            pod_template: &pod,
            claims: &empty,
            files: &empty,
        };
        let reordered = RolloutInputs {
            pod_template: &pod_reordered,
            ..base
        };
        assert_eq!(rollout_hash(&base), rollout_hash(&reordered));
        let claims = json!([{"metadata": {"name": "p"}}]);
        let with_claims = RolloutInputs {
            claims: &claims,
            ..base
        };
        assert_ne!(rollout_hash(&base), rollout_hash(&with_claims));
        let files = json!({"k": "v"});
        let with_files = RolloutInputs {
            files: &files,
            ..base
        };
        assert_ne!(rollout_hash(&base), rollout_hash(&with_files));
        let hash = rollout_hash(&base);
        assert!(hash.starts_with("v2-") && hash.len() == 35, "{hash}");
    }
}
