//! Membership that changed, read off two `configmeta.json` documents: members (count, FQDNs
//! added and removed), node ids and endpoints, of this cluster and of connected ones.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Reason;
use super::fields::at;

/// One role's membership as `configmeta.json` gives it: members as `(fqdn, node id)`, the
/// endpoint of each service that has one.
#[derive(Default)]
struct RoleMembers {
    members: Vec<(String, String)>,
    endpoints: BTreeMap<String, String>,
}

/// The strings of a list (others are left out).
fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

impl RoleMembers {
    /// Reads a role of `nodegroups.1.roles`: `fqdns`, `node_ids`, and each service's first
    /// endpoint (`scheme://fqdn:port`; every member's has the same scheme and port).
    fn read(role: &Value) -> RoleMembers {
        let members = strings(at(role, "/fqdns"))
            .into_iter()
            .zip(strings(at(role, "/node_ids")))
            .collect();
        let endpoints = at(role, "/services")
            .as_object()
            .map(|services| {
                services
                    .iter()
                    .filter_map(|(id, service)| {
                        let first = at(service, "/endpoints/0").as_str()?;
                        Some((id.clone(), endpoint_text(first)))
                    })
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

/// An endpoint, `scheme://fqdn:port`, as a reviewer reads it: `http, port 8080` (`port 22`
/// without a scheme).
fn endpoint_text(url: &str) -> String {
    let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
    let port = url.rsplit_once(':').map_or("", |(_, port)| port);
    if scheme.is_empty() {
        format!("port {port}")
    } else {
        format!("{scheme}, port {port}")
    }
}

/// The roles of a document's nodegroup `1`.
fn roles_of(document: &Value) -> BTreeMap<String, RoleMembers> {
    at(document, "/nodegroups/1/roles")
        .as_object()
        .map(|roles| {
            roles
                .iter()
                .map(|(id, role)| (id.clone(), RoleMembers::read(role)))
                .collect()
        })
        .unwrap_or_default()
}

/// The connected clusters embedded in a document, by name.
pub(super) fn connected(document: &Value) -> BTreeMap<String, Value> {
    at(document, "/connections/clusters")
        .as_object()
        .map(|clusters| clusters.clone().into_iter().collect())
        .unwrap_or_default()
}

/// The membership changes of this cluster and of each connected one.
pub(super) fn membership_reasons(old: &Value, new: &Value, cluster: &str) -> Vec<Reason> {
    let mut reasons = cluster_membership_reasons(cluster, old, new);
    let (old_connected, new_connected) = (connected(old), connected(new));
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

    /// A role of `nodegroups.1.roles` with these members and a `web` service at `scheme:port`.
    fn role(members: &[(&str, &str)], web: Option<(&str, u16)>) -> Value {
        let endpoints: Vec<String> = match web {
            Some((scheme, port)) => members
                .iter()
                .map(|(fqdn, _)| format!("{scheme}://{fqdn}:{port}"))
                .collect(),
            None => Vec::new(),
        };
        json!({
            "fqdns": members.iter().map(|m| m.0).collect::<Vec<_>>(),
            "node_ids": members.iter().map(|m| m.1).collect::<Vec<_>>(),
            "services": {"web": {"endpoints": endpoints}},
        })
    }

    fn document(roles: Value, connections: Value) -> Value {
        json!({"nodegroups": {"1": {"roles": roles}}, "connections": {"clusters": connections}})
    }

    #[test]
    fn membership_names_members_node_ids_and_endpoints() {
        let old = document(
            json!({
                "a": role(&[("a-0.x", "1001"), ("a-1.x", "1002")], Some(("http", 8080))),
                "b": role(&[("b-0.x", "2001")], None),
            }),
            json!({}),
        );
        let new = document(
            json!({
                "a": role(&[("a-0.x", "1001"), ("a-1.x", "1002"), ("a-2.x", "1003")], Some(("https", 8443))),
                "b": role(&[("b-0.x", "3001")], None),
            }),
            json!({"other": document(json!({"z": role(&[("z-0.y", "1001")], Some(("", 22)))}), json!({}))}),
        );
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
        assert_eq!(endpoint_text("://z-0.y:22"), "port 22");
    }
}
