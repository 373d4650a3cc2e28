//! NetworkPolicies (when the settings ask for them): each role's pods accept connections from
//! the pods of their own cluster on any port, and on the role's declared service ports from
//! anywhere; nothing else reaches them. Outgoing traffic is not restricted.

use super::value::value;
use serde_json::Value;

use super::{Kind, Meta};
use crate::model::App;
use crate::resolve::RoleTopology;

/// The NetworkPolicy of a role, named like its StatefulSet.
pub fn role_policy(app: &App, role: &RoleTopology<'_>, meta: &Meta) -> Value {
    let mut ingress =
        vec![value!({"from": [{"podSelector": {"matchLabels": meta.selector(None)}}]})];
    let ports = declared_ports(app, role);
    if !ports.is_empty() {
        ingress.push(value!({"ports": ports}));
    }
    value!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": Kind::NetworkPolicy,
        "metadata": meta.object(&role.name, Some(role)),
        "spec": {
            "podSelector": {"matchLabels": meta.selector(Some(role))},
            "policyTypes": ["Ingress"],
            "ingress": ingress,
        },
    })
}

/// The ports of the role's services that have an endpoint, once each, in port order.
fn declared_ports(app: &App, role: &RoleTopology<'_>) -> Vec<Value> {
    let mut ports: Vec<u16> = role
        .app_role
        .services
        .iter()
        .filter_map(|id| app.service(id)?.endpoint.as_ref().map(|e| e.port))
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
        .into_iter()
        .map(|port| value!({"port": port, "protocol": "TCP"}))
        .collect()
}
