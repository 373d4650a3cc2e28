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
//! The hash is SHA-256 over canonical JSON (sorted keys, no whitespace) of those inputs, tagged
//! with the scheme version, so formatting and key order in the inputs never change it. The
//! annotation value is `v1-` and the first 32 hex digits.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::resolve::Topology;

/// Pod-template annotation that carries the hash.
pub const ANNOTATION: &str = "kdrender.dev/rollout-hash";
/// Version of what is hashed and how; bumped whenever either changes.
pub const SCHEME: &str = "v1";

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

/// The membership a role that takes `addnodes`/`delnodes` depends on.
pub fn membership(topology: &Topology<'_>, all: &[Topology<'_>]) -> Value {
    let mut connections = Map::new();
    for &i in &topology.connections {
        connections.insert(all[i].cluster.name.clone(), members(&all[i]));
    }
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
