//! Membership that changed, read off the membership input as hashed: members (count, FQDNs
//! added and removed), node ids and endpoints, of this cluster and of connected ones.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Reason;
use super::fields::at;

/// One role's membership as hashed: members as `(fqdn, node id)`, endpoints by service.
#[derive(Default)]
struct RoleMembers {
    members: Vec<(String, String)>,
    endpoints: BTreeMap<String, String>,
}

/// The `index`th item of a list, `null` where there is none.
fn item(list: &Value, index: usize) -> &Value {
    list.get(index).unwrap_or(&Value::Null)
}

/// A scalar of the membership as text.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl RoleMembers {
    /// Reads `{"members": [[fqdn, node id]], "endpoints": {service: [scheme, port]}}`.
    fn read(role: &Value) -> RoleMembers {
        let members = role
            .get("members")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|m| (scalar_text(item(m, 0)), scalar_text(item(m, 1))))
                    .collect()
            })
            .unwrap_or_default();
        let endpoints = role
            .get("endpoints")
            .and_then(Value::as_object)
            .map(|services| {
                services
                    .iter()
                    .map(|(service, e)| (service.clone(), endpoint_text(e)))
                    .collect()
            })
            .unwrap_or_default();
        RoleMembers { members, endpoints }
    }

    fn fqdns(&self) -> Vec<String> {
        self.members.iter().map(|m| m.0.clone()).collect()
    }

    fn node_ids(&self) -> Vec<String> {
        self.members.iter().map(|m| m.1.clone()).collect()
    }
}

/// An endpoint as hashed, `[scheme, port]`, as a reviewer reads it.
fn endpoint_text(endpoint: &Value) -> String {
    let scheme = item(endpoint, 0).as_str().unwrap_or_default();
    let port = scalar_text(item(endpoint, 1));
    if scheme.is_empty() {
        format!("port {port}")
    } else {
        format!("{scheme}, port {port}")
    }
}

/// Reads `{role: {"members": …, "endpoints": …}}`.
fn roles_of(value: &Value) -> BTreeMap<String, RoleMembers> {
    value
        .as_object()
        .map(|roles| {
            roles
                .iter()
                .map(|(id, role)| (id.clone(), RoleMembers::read(role)))
                .collect()
        })
        .unwrap_or_default()
}

/// The membership changes of this cluster and of each connected one.
pub(super) fn membership_reasons(old: &Value, new: &Value, cluster: &str) -> Vec<Reason> {
    let mut reasons = cluster_membership_reasons(cluster, at(old, "/cluster"), at(new, "/cluster"));
    let connected = |v: &Value| v.get("connections").and_then(Value::as_object).cloned();
    let (old_connected, new_connected) = (
        connected(old).unwrap_or_default(),
        connected(new).unwrap_or_default(),
    );
    let names: BTreeSet<&String> = old_connected.keys().chain(new_connected.keys()).collect();
    for name in names {
        reasons.extend(cluster_membership_reasons(
            name,
            old_connected.get(name).unwrap_or(&Value::Null),
            new_connected.get(name).unwrap_or(&Value::Null),
        ));
    }
    reasons
}

/// The membership changes of one cluster's roles: members, else node ids; and endpoints.
fn cluster_membership_reasons(cluster: &str, old: &Value, new: &Value) -> Vec<Reason> {
    let (before, after) = (roles_of(old), roles_of(new));
    let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let none = RoleMembers::default();
    let mut reasons = Vec::new();
    for id in ids {
        let (b, a) = (
            before.get(id).unwrap_or(&none),
            after.get(id).unwrap_or(&none),
        );
        let (bf, af) = (b.fqdns(), a.fqdns());
        if bf != af {
            reasons.push(Reason::Membership {
                cluster: cluster.to_string(),
                role: id.clone(),
                from: bf.len(),
                to: af.len(),
                added: af.iter().filter(|f| !bf.contains(f)).cloned().collect(),
                removed: bf.iter().filter(|f| !af.contains(f)).cloned().collect(),
            });
        } else if b.members != a.members {
            reasons.push(Reason::NodeIds {
                cluster: cluster.to_string(),
                role: id.clone(),
                from: b.node_ids(),
                to: a.node_ids(),
            });
        }
        reasons.extend(endpoint_reasons(cluster, id, b, a));
    }
    reasons
}

/// A role's changed endpoints. A role that appears or disappears brings or takes its endpoints
/// along: its membership says so already.
fn endpoint_reasons(cluster: &str, role: &str, b: &RoleMembers, a: &RoleMembers) -> Vec<Reason> {
    if b.members.is_empty() || a.members.is_empty() {
        return Vec::new();
    }
    let services: BTreeSet<&String> = b.endpoints.keys().chain(a.endpoints.keys()).collect();
    services
        .into_iter()
        .filter_map(|service| {
            let (from, to) = (b.endpoints.get(service), a.endpoints.get(service));
            (from != to).then(|| Reason::Endpoint {
                cluster: cluster.to_string(),
                role: role.to_string(),
                service: service.clone(),
                from: from.cloned(),
                to: to.cloned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn membership_names_members_node_ids_and_endpoints() {
        let old = json!({"cluster": {
            "a": {"members": [["a-0.x", 1001], ["a-1.x", 1002]], "endpoints": {"web": ["http", 8080]}},
            "b": {"members": [["b-0.x", 2001]], "endpoints": {}},
        }, "connections": {}});
        let new = json!({"cluster": {
            "a": {"members": [["a-0.x", 1001], ["a-1.x", 1002], ["a-2.x", 1003]], "endpoints": {"web": ["https", 8443]}},
            "b": {"members": [["b-0.x", 3001]], "endpoints": {}},
        }, "connections": {"other": {"z": {"members": [["z-0.y", 1001]], "endpoints": {}}}}});
        let reasons = membership_reasons(&old, &new, "c");
        assert_eq!(
            reasons,
            [
                Reason::Membership {
                    cluster: "c".into(),
                    role: "a".into(),
                    from: 2,
                    to: 3,
                    added: vec!["a-2.x".into()],
                    removed: vec![],
                },
                Reason::Endpoint {
                    cluster: "c".into(),
                    role: "a".into(),
                    service: "web".into(),
                    from: Some("http, port 8080".into()),
                    to: Some("https, port 8443".into()),
                },
                Reason::NodeIds {
                    cluster: "c".into(),
                    role: "b".into(),
                    from: vec!["2001".into()],
                    to: vec!["3001".into()],
                },
                Reason::Membership {
                    cluster: "other".into(),
                    role: "z".into(),
                    from: 0,
                    to: 1,
                    added: vec!["z-0.y".into()],
                    removed: vec![],
                },
            ]
        );
    }
}
