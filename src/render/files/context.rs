//! The variables a template sees (docs/config-files.md lists them): the cluster, the app, every role
//! with its members and services, and the connected clusters.
#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use serde_json::{Map, Value, json};

use crate::resolve::Topology;

/// The variables every template of a cluster sees, built once per cluster (docs/config-files.md lists
/// them). minijinja values are reference-counted, so each render shares them.
pub struct Context {
    pub(super) cluster: minijinja::Value,
    pub(super) app: minijinja::Value,
    pub(super) roles: minijinja::Value,
    pub(super) connections: minijinja::Value,
}

pub(super) fn value(json: &Value) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(json))
}

impl Context {
    pub fn new(topology: &Topology<'_>, connected: &[Topology<'_>]) -> Context {
        let mut connections = Map::new();
        for other in connected {
            connections.insert(
                other.cluster.name.clone(),
                json!({
                    "name": other.cluster.name,
                    "app": other.app.name,
                    "domain": other.domain,
                    "roles": roles_value(other),
                }),
            );
        }
        Context {
            cluster: value(&json!({
                "name": topology.cluster.name,
                "namespace": topology.namespace,
                "domain": topology.domain,
                "service": topology.headless,
                "id": topology.cluster_id(),
            })),
            app: value(&json!({
                "name": topology.app.name,
                "label": topology.app.pretty_name,
                "distro_id": topology.app.distro_id,
                "version": topology.app.version,
                "config_meta": topology.app.config_meta,
            })),
            roles: value(&roles_value(topology)),
            connections: value(&Value::Object(connections)),
        }
    }
}

fn roles_value(topology: &Topology<'_>) -> Value {
    let mut roles = Map::new();
    for role in &topology.roles {
        let members: Vec<Value> = role
            .members
            .iter()
            .map(|m| {
                json!({
                    "name": m.name(),
                    "hostname": m.name(),
                    "fqdn": m.fqdn(),
                    "ordinal": m.ordinal,
                    "node_id": m.node_id,
                })
            })
            .collect();
        let mut services = Map::new();
        for service_id in &role.app_role.services {
            let Some(service) = topology.app.service(service_id) else {
                continue;
            };
            let (port, scheme) = service
                .endpoint
                .as_ref()
                .map_or((Value::Null, String::new()), |e| {
                    (json!(e.port), e.url_scheme.clone())
                });
            let endpoints: Vec<String> = match &service.endpoint {
                Some(e) => role
                    .members
                    .iter()
                    .map(|m| {
                        if e.url_scheme.is_empty() {
                            format!("{}:{}", m.fqdn(), e.port)
                        } else {
                            format!("{}://{}:{}", e.url_scheme, m.fqdn(), e.port)
                        }
                    })
                    .collect(),
                None => Vec::new(),
            };
            services.insert(
                service.id.clone(),
                json!({ "id": service.id, "name": service.name, "port": port, "scheme": scheme, "endpoints": endpoints }),
            );
        }
        roles.insert(
            role.app_role.id.clone(),
            json!({
                "id": role.app_role.id,
                "name": role.name,
                "count": role.members.len(),
                "members": members,
                "fqdns": role.members.iter().map(|m| m.fqdn().to_string()).collect::<Vec<_>>(),
                "services": services,
            }),
        );
    }
    Value::Object(roles)
}
