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

use serde_json::{Map, Value, json};
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
        annotations.insert(ANNOTATION.into(), json!(hash));
    }
}

/// What one role's pods consume.
pub struct RolloutInputs<'a> {
    pub pod_template: &'a Value,
    pub claims: &'a Value,
    pub files: &'a Value,
}

pub fn rollout_hash(inputs: &RolloutInputs<'_>) -> String {
    let canonical = json!({
        "scheme": format!("kdrender.dev/rollout-hash/{SCHEME}"),
        "podTemplate": inputs.pod_template,
        "volumeClaimTemplates": inputs.claims,
        "files": inputs.files,
    });
    // serde_json's maps are sorted (no preserve_order), so this text is canonical.
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{SCHEME}-{hex}")
}

/// The config files a role's pods consume: every shared file, and each per-member file of the
/// members that every allowed size of the role has (ordinals below the cardinality's minimum,
/// and at least the first). A member added by a scale-out brings its own file without changing
/// what the existing members read, so it rolls nobody; an edit to a template or to the
/// topology it reads shows in those members' files.
fn consumed_files(files: &[ConfigFile], role: &RoleTopology<'_>) -> Value {
    let always_present =
        (role.app_role.cardinality.minimum.max(1) as usize).min(role.members.len());
    let consumed = files.iter().map(|file| {
        let content = match &file.content {
            Content::Shared(text) => ("shared", json!(text)),
            Content::PerMember(texts) => (
                "members",
                json!(texts.iter().take(always_present).collect::<Vec<_>>()),
            ),
        };
        let entry = Map::from_iter([
            ("mode".to_string(), json!(file.mode)),
            (content.0.to_string(), content.1),
        ]);
        (file.target.clone(), Value::Object(entry))
    });
    Value::Object(consumed.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

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
