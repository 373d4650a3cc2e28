//! Hash: the content hash in each role's pod template that makes Kubernetes roll exactly the roles
//! whose inputs changed.
//!
//! A role's hash covers what its pods consume and nothing else:
//!
//! - its pod template (image, resources, environment, ports, mounts, setup package) and its
//!   volume claim templates (storage);
//! - the config files its pods mount;
//! - the app-wide configuration (`config.configMeta`, version, distro);
//! - for roles that take KubeDirector's `addnodes`/`delnodes` events (all roles when the app
//!   gives no event list), the membership: every member's FQDN and node id and every endpoint, in
//!   this cluster and in connected clusters.
//!
//! Another role's resources, image or files are not among them, although they appear in
//! `configmeta.json`, which then changes in place without a restart.
//!
//! Render hands each role's StatefulSet over with the role's other inputs ([`RoleInputs`]);
//! [`stamp`] computes the hash and writes it into the pod template as [`ANNOTATION`].
//!
//! The hash is SHA-256 over canonical JSON (sorted keys, no whitespace) of those inputs, tagged
//! with the scheme version, so formatting and key order in the inputs never change it. The
//! annotation value is `v1-` and the first 32 hex digits.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::model::App;
use crate::render::files::{ConfigFile, Content};
use crate::resolve::{RoleTopology, Topology};

/// Pod-template annotation that carries the hash.
pub const ANNOTATION: &str = "kdrender.dev/rollout-hash";
/// Version of what is hashed and how; bumped whenever either changes.
pub const SCHEME: &str = "v1";

/// What render hands over with a role's StatefulSet: the role, its rendered config files, and
/// the cluster-wide inputs ([`app_inputs`], [`membership`]).
pub struct RoleInputs<'a> {
    pub role: &'a RoleTopology<'a>,
    pub files: &'a [ConfigFile],
    pub app: &'a Value,
    /// The cluster's membership; hashed only for roles that [take it](takes_membership).
    pub membership: &'a Value,
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
        app: inputs.app,
        membership: takes_membership(inputs.role).then_some(inputs.membership),
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
    pub app: &'a Value,
    /// `Some` for roles that take membership events.
    pub membership: Option<&'a Value>,
}

pub fn rollout_hash(inputs: &RolloutInputs<'_>) -> String {
    let canonical = json!({
        "scheme": format!("kdrender.dev/rollout-hash/{SCHEME}"),
        "podTemplate": inputs.pod_template,
        "volumeClaimTemplates": inputs.claims,
        "files": inputs.files,
        "app": inputs.app,
        "membership": inputs.membership,
    });
    // serde_json's maps are sorted (no preserve_order), so this text is canonical.
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{SCHEME}-{hex}")
}

/// What of the app every role consumes.
pub fn app_inputs(app: &App) -> Value {
    json!({
        "configMeta": app.config_meta,
        "version": app.version,
        "distroID": app.distro_id,
    })
}

/// Roles that take KubeDirector's `addnodes`/`delnodes` events depend on the membership.
pub fn takes_membership(role: &RoleTopology<'_>) -> bool {
    role.app_role.events.takes_membership()
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

/// The membership a role that takes `addnodes`/`delnodes` depends on.
pub fn membership(topology: &Topology<'_>, all: &[Topology<'_>]) -> Value {
    let connections: Map<String, Value> = topology
        .connections
        .iter()
        .filter_map(|&i| all.get(i))
        .map(|other| (other.cluster.name.clone(), members(other)))
        .collect();
    json!({ "cluster": members(topology), "connections": connections })
}

fn members(topology: &Topology<'_>) -> Value {
    let mut roles = Map::new();
    for role in topology.active_roles() {
        let mut endpoints = Map::new();
        for service_id in &role.app_role.services {
            if let Some(endpoint) = topology
                .app
                .service(service_id)
                .and_then(|s| s.endpoint.as_ref())
            {
                endpoints.insert(
                    service_id.clone(),
                    json!([endpoint.url_scheme, endpoint.port]),
                );
            }
        }
        roles.insert(
            role.app_role.id.clone(),
            json!({
                "members": role.members.iter().map(|m| json!([m.fqdn, m.node_id])).collect::<Vec<_>>(),
                "endpoints": endpoints,
            }),
        );
    }
    Value::Object(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_key_order_and_follows_every_input() {
        let pod: Value = serde_json::from_str(r#"{"b": 1, "a": [1, 2]}"#).unwrap();
        let pod_reordered: Value = serde_json::from_str(r#"{"a": [1, 2], "b": 1}"#).unwrap();
        let empty = json!({});
        let membership = json!({"cluster": {"r": 1}});
        let base = RolloutInputs {
            pod_template: &pod,
            claims: &empty,
            files: &empty,
            app: &empty,
            membership: None,
        };
        let reordered = RolloutInputs {
            pod_template: &pod_reordered,
            ..base
        };
        assert_eq!(rollout_hash(&base), rollout_hash(&reordered));
        let with_membership = RolloutInputs {
            membership: Some(&membership),
            ..base
        };
        assert_ne!(rollout_hash(&base), rollout_hash(&with_membership));
        let files = json!({"k": "v"});
        let with_files = RolloutInputs {
            files: &files,
            ..base
        };
        assert_ne!(rollout_hash(&base), rollout_hash(&with_files));
        let hash = rollout_hash(&base);
        assert!(hash.starts_with("v1-") && hash.len() == 35, "{hash}");
    }
}
