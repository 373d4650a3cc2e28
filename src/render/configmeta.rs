//! `configmeta.json`: KubeDirector's topology document, computed at render time.
//!
//! The document has KubeDirector's structure (one nodegroup `"1"`, roles with `node_ids`,
//! `fqdns`, `flavor` and per-service endpoints, `bdvlibrefkey` indirections for configcli) and is
//! the same for every member but for its `node` section. The ConfigMap carries the shared part
//! once and each member's `node` section as its own key; the pod's init step joins the two into
//! `/etc/guestconfig/configmeta.json`.
//!
//! Deliberate differences from KubeDirector: roles without members are left out everywhere (not
//! only from `nodegroups`, so no reference dangles), `cluster.id` is derived from namespace and
//! name, `authToken` and `secret_keys` are always empty.

#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use super::value::value;
use serde_json::{Map, Value};

use crate::emit::compact::push_string;
use crate::resolve::{Member, RoleTopology, Topology};

/// The shared document (no `node` section), with the documents of the `connected` clusters.
/// `prefix` roots the `bdvlibrefkey` paths, for embedding a connected cluster under
/// `connections.clusters.<name>` (which has no connections section of its own).
pub fn cluster_document(
    topology: &Topology<'_>,
    connected: &[Topology<'_>],
    prefix: &[&str],
) -> Value {
    let refkey = |path: &[&str]| -> Value {
        let full: Vec<&str> = prefix.iter().chain(path.iter()).copied().collect();
        value!({ "bdvlibrefkey": full })
    };
    let app = topology.app;
    let mut roles = Map::new();
    for role in topology.active_roles() {
        roles.insert(
            role.app_role.id.clone(),
            role_section(topology, role, &refkey),
        );
    }
    let mut document = value!({
        "version": app.config_schema_version.to_string(),
        "services": services_section(topology, &refkey),
        "nodegroups": {
            "1": {
                "distro_id": &app.distro_id,
                "catalog_entry_version": &app.version,
                "config_metadata": &app.config_meta,
                "roles": roles,
            }
        },
        "distros": { (app.distro_id.clone()): { "1": refkey(&["nodegroups", "1"]) } },
        "cluster": {
            "name": &topology.cluster.name,
            "isolated": false,
            "id": topology.cluster_id(),
            "config_metadata": { "1": refkey(&["nodegroups", "1", "config_metadata"]) },
        },
    });
    if prefix.is_empty()
        && let Some(document) = document.as_object_mut()
    {
        document.insert("connections".into(), connections_section(connected));
    }
    document
}

/// Each service of the app, by the roles that have members and offer it.
fn services_section(topology: &Topology<'_>, refkey: &dyn Fn(&[&str]) -> Value) -> Value {
    let mut services = Map::new();
    for service in &topology.app.services {
        let mut by_role = Map::new();
        for role in topology.active_roles() {
            if role.app_role.services.contains(&service.id) {
                let id = role.app_role.id.as_str();
                let path = ["nodegroups", "1", "roles", id, "services", &service.id];
                by_role.insert(id.to_string(), refkey(&path));
            }
        }
        if !by_role.is_empty() {
            services.insert(service.id.clone(), value!({ "1": by_role }));
        }
    }
    Value::Object(services)
}

/// The connected clusters' documents, each rooted under `connections.clusters.<name>`.
fn connections_section(connected: &[Topology<'_>]) -> Value {
    let mut clusters = Map::new();
    for other in connected {
        let name = other.cluster.name.as_str();
        clusters.insert(
            name.to_string(),
            cluster_document(other, &[], &["connections", "clusters", name]),
        );
    }
    value!({
        "clusters": clusters,
        "configmaps": {},
        "secrets": {},
    })
}

fn role_section(
    topology: &Topology<'_>,
    role: &RoleTopology<'_>,
    refkey: &dyn Fn(&[&str]) -> Value,
) -> Value {
    let id = role.app_role.id.as_str();
    let fqdns: Vec<&str> = role.members.iter().map(|m| m.fqdn()).collect();
    let mut mappings = Map::new();
    for member in &role.members {
        mappings.insert(
            member.fqdn().to_string(),
            Value::String(member.node_id.to_string()),
        );
    }
    let mut services = Map::new();
    for service_id in &role.app_role.services {
        let Some(service) = topology.app.service(service_id) else {
            continue;
        };
        let endpoints: Vec<String> = match &service.endpoint {
            Some(endpoint) => fqdns
                .iter()
                .map(|fqdn| format!("{}://{fqdn}:{}", endpoint.url_scheme, endpoint.port))
                .collect(),
            None => Vec::new(),
        };
        services.insert(
            service.id.clone(),
            value!({
                "qualifiers": [],
                "name": &service.name,
                "id": &service.id,
                "global_id": format!("1_{id}_{}", service.id),
                "hostnames": refkey(&["nodegroups", "1", "roles", id, "hostnames"]),
                "fqdns": refkey(&["nodegroups", "1", "roles", id, "fqdns"]),
                "exported_service": &service.exported_service,
                "endpoints": endpoints,
                "authToken": "",
            }),
        );
    }
    value!({
        "node_ids": role.members.iter().map(|m| m.node_id.to_string()).collect::<Vec<_>>(),
        "hostnames": &fqdns,
        "fqdns": fqdns,
        "fqdn_mappings": mappings,
        "flavor": flavor(role),
        "secret_keys": {},
        "services": services,
    })
}

/// KubeDirector's `flavor`: memory in MiB and cores rounded up, from the limits.
fn flavor(role: &RoleTopology<'_>) -> Value {
    let cluster_role = role.cluster_role;
    let limit = |name: &str| cluster_role.and_then(|r| r.limits.get(name));
    value!({
        "name": "n/a",
        "description": "n/a",
        "memory": limit("memory").map_or("n/a".to_string(), |q| q.mebibytes().to_string()),
        "cores": limit("cpu").map_or("n/a".to_string(), |q| q.ceil_units().to_string()),
        "storage": cluster_role
            .and_then(|r| r.storage.as_ref())
            .map_or("n/a".to_string(), |s| s.size.to_string()),
    })
}

/// One member's `node` section.
pub fn node_section(topology: &Topology<'_>, role: &RoleTopology<'_>, member: &Member) -> Value {
    let block_devices: Vec<String> = role
        .cluster_role
        .and_then(|r| r.block_storage.as_deref())
        .map(|b| {
            (0..b.devices)
                .map(|i| format!("{}{i}", b.path_prefix))
                .collect()
        })
        .unwrap_or_default();
    value!({
        "role_id": &role.app_role.id,
        "nodegroup_id": "1",
        "id": member.node_id.to_string(),
        "hostname": member.fqdn(),
        "fqdn": member.fqdn(),
        "domain": &topology.domain,
        "distro_id": &topology.app.distro_id,
        "depends_on": {},
        "block_device_paths": block_devices,
    })
}

/// `<role> <fqdn>` lines for every member, which the setup runner compares with what its member
/// last heard of, to find the members added and removed.
pub fn membership(topology: &Topology<'_>) -> String {
    let mut out = String::new();
    for role in topology.active_roles() {
        for member in &role.members {
            out.push_str(&role.app_role.id);
            out.push(' ');
            out.push_str(member.fqdn());
            out.push('\n');
        }
    }
    out
}

/// A `<cluster> <digest>` line for each connected cluster embedded in `document` (the cluster's
/// shared document), in name order: what the setup runner compares to tell members to
/// `--reconnect` when anything a connected cluster contributes changes.
pub fn connections(document: &Value) -> String {
    let mut out = String::new();
    let clusters = document
        .pointer("/connections/clusters")
        .and_then(Value::as_object);
    for (name, embedded) in clusters.into_iter().flatten() {
        let hex = crate::hash::json_digest_hex(embedded);
        out.push_str(&format!("{name} {hex}\n"));
    }
    out
}

/// JSON text for reviewers: two-space indentation, with arrays and objects that fit on one line
/// (at most 96 characters, no nested structure that would not) kept on one line, and a final
/// newline. The last line of a multi-line document is `}`, which the init step relies on.
pub fn to_text(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, 0, &mut out);
    out.push('\n');
    out
}

const INLINE_WIDTH: usize = 96;

/// The value on one line, if that fits in `budget` characters; stops as soon as it does not,
/// so that each level of a deep document is measured in time proportional to the budget.
fn inline(value: &Value, budget: usize) -> Option<String> {
    let mut out = String::new();
    inline_into(value, budget, &mut out).then_some(out)
}

fn inline_into(value: &Value, budget: usize, out: &mut String) -> bool {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if out.len() > budget || !inline_into(item, budget, out) {
                    return false;
                }
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_string(key, out);
                out.push_str(": ");
                if out.len() > budget || !inline_into(item, budget, out) {
                    return false;
                }
            }
            out.push('}');
        }
        scalar => push_json_scalar(scalar, out),
    }
    out.len() <= budget
}

fn push_json_scalar(scalar: &Value, out: &mut String) {
    match scalar {
        Value::String(text) => push_string(text, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_value(value: &Value, indent: usize, out: &mut String) {
    if let Some(short) = inline(value, INLINE_WIDTH.saturating_sub(indent.saturating_mul(2))) {
        out.push_str(&short);
        return;
    }
    match value {
        Value::Array(items) => {
            let entries = items.iter().map(|item| (None, item));
            write_block(('[', ']'), entries, indent, out);
        }
        Value::Object(map) => {
            let entries = map.iter().map(|(key, item)| (Some(key.as_str()), item));
            write_block(('{', '}'), entries, indent, out);
        }
        scalar => push_json_scalar(scalar, out),
    }
}

/// An array or object over several lines: each entry (an object's with its key) on its own.
fn write_block<'a>(
    (open, close): (char, char),
    entries: impl ExactSizeIterator<Item = (Option<&'a str>, &'a Value)>,
    indent: usize,
    out: &mut String,
) {
    let inner = indent.saturating_add(1);
    let pad = "  ".repeat(inner);
    let count = entries.len();
    out.push(open);
    out.push('\n');
    for (i, (key, item)) in entries.enumerate() {
        out.push_str(&pad);
        if let Some(key) = key {
            push_string(key, out);
            out.push_str(": ");
        }
        write_value(item, inner, out);
        out.push_str(if i.saturating_add(1) < count {
            ",\n"
        } else {
            "\n"
        });
    }
    out.push_str(&"  ".repeat(indent));
    out.push(close);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_json_that_keeps_short_parts_on_one_line() {
        let value = value!({
            "refs": {"bdvlibrefkey": ["nodegroups", "1", "roles", "broker"]},
            "fqdns": ["kafka-broker-0.kafka.data.svc.cluster.local", "kafka-broker-1.kafka.data.svc.cluster.local", "kafka-broker-2.kafka.data.svc.cluster.local"],
            "empty": {},
            "quote": "a \"b\"\n",
        });
        let text = to_text(&value);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
        assert!(
            text.contains(
                "\"refs\": {\"bdvlibrefkey\": [\"nodegroups\", \"1\", \"roles\", \"broker\"]}"
            ),
            "{text}"
        );
        assert!(
            text.contains("\"fqdns\": [\n    \"kafka-broker-0"),
            "{text}"
        );
        assert!(text.ends_with("\n}\n"), "{text}");
    }
}
