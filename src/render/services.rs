//! Services: the headless Service that gives members stable DNS names, and one Service per member
//! for roles whose services have endpoints (KubeDirector's per-member Services).

use super::value::value;
use serde_json::Value;

use super::names;
use super::{Kind, Meta};
use crate::model::App;
use crate::resolve::{Member, RoleTopology, Topology};

/// KubeDirector's headless Service: no cluster IP, every member's address published even before
/// it is ready (a quorum forms before anyone is ready), and KubeDirector's placeholder port.
pub fn headless(topology: &Topology<'_>, meta: &Meta) -> Value {
    value!({
        "apiVersion": "v1",
        "kind": Kind::Service,
        "metadata": meta.object(&topology.headless, None),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": true,
            "selector": meta.selector(None),
            "ports": [{"name": "placeholder", "port": 8888, "protocol": "TCP"}],
        },
    })
}

/// The ports a role's member Services expose: `<scheme>-<service>` or `generic-<service>`.
pub fn member_ports(app: &App, role: &RoleTopology<'_>) -> Vec<Value> {
    role.app_role
        .services
        .iter()
        .filter_map(|id| app.service(id))
        .filter_map(|service| {
            let endpoint = service.endpoint.as_ref()?;
            let prefix = if endpoint.url_scheme.is_empty() {
                "generic".to_string()
            } else {
                endpoint.url_scheme.to_ascii_lowercase()
            };
            Some(value!({
                "name": format!("{prefix}-{}", service.id),
                "port": endpoint.port,
                "targetPort": endpoint.port,
                "protocol": "TCP",
            }))
        })
        .collect()
}

pub fn member(
    topology: &Topology<'_>,
    role: &RoleTopology<'_>,
    member: &Member,
    ports: &[Value],
    meta: &Meta,
) -> Value {
    let cluster_role = role.cluster_role;
    value!({
        "apiVersion": "v1",
        "kind": Kind::Service,
        "metadata": meta.member_service(member.service(), role, cluster_role),
        "spec": {
            "type": topology.service_type.as_str(),
            "publishNotReadyAddresses": true,
            "selector": {names::POD_NAME_LABEL: member.name()},
            "ports": ports,
        },
    })
}
