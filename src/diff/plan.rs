//! The rollout plan: what a change does to running systems, in a reviewer's terms.
//!
//! Two renders are compared object by object (by kind, namespace and name). For every
//! StatefulSet whose pod template changes, the reasons are read off the inputs its rollout hash
//! covers (see `crate::hash`): the pod template itself, its volume claim templates, the role's
//! config files (named by container path and template), the app-wide configuration in
//! `configmeta.json`, and, for roles that take membership events, the members of every role.
//! Changes Kubernetes refuses in place, or that lose data, become warnings.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::hash::ANNOTATION;
use crate::render::Object;

/// An object's identity in the plan.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    pub namespace: String,
    pub cluster: String,
    pub kind: String,
    pub name: String,
}

impl ObjectRef {
    fn of(object: &Object) -> ObjectRef {
        ObjectRef {
            namespace: object.namespace.clone(),
            cluster: object.cluster.clone(),
            kind: object.kind.to_string(),
            name: object.name.clone(),
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} {}", self.namespace, self.kind, self.name)
    }
}

/// Why a StatefulSet restarts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// A config file the role's pods mount changed (for the listed members, when per member).
    File {
        path: String,
        template: String,
        change: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        members: Option<Vec<usize>>,
    },
    /// A field of the pod template or of the volume claim templates.
    Setting {
        field: String,
        from: Option<String>,
        to: Option<String>,
    },
    /// The app-wide configuration every role consumes.
    App {
        field: String,
        from: Option<String>,
        to: Option<String>,
    },
    /// The members of a role (or of a connected cluster's role) changed, and this role takes
    /// membership events.
    Membership {
        cluster: String,
        role: String,
        from: usize,
        to: usize,
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// The hash changed for a reason none of the above names (for example a new hash scheme).
    Other { detail: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct Restart {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub role: String,
    pub reasons: Vec<Reason>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Scale {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub from: u64,
    pub to: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Warning {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub warning: String,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Changed {
    #[serde(flatten)]
    pub object: ObjectRef,
    /// Unified diff of the object's YAML.
    pub diff: String,
}

/// Everything a change does, in a stable order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Plan {
    pub added: Vec<ObjectRef>,
    pub removed: Vec<ObjectRef>,
    pub changed: Vec<Changed>,
    pub restarts: Vec<Restart>,
    pub scales: Vec<Scale>,
    pub creates: Vec<ObjectRef>,
    pub warnings: Vec<Warning>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

type Key = (String, String, String);

fn key(object: &Object) -> Key {
    (
        object.kind.to_string(),
        object.namespace.clone(),
        object.name.clone(),
    )
}

/// Compares the base render with the new one.
pub fn plan(base: &[Object], head: &[Object]) -> Plan {
    let base_index: BTreeMap<Key, &Object> = base.iter().map(|o| (key(o), o)).collect();
    let head_index: BTreeMap<Key, &Object> = head.iter().map(|o| (key(o), o)).collect();
    let mut plan = Plan::default();

    for object in head {
        match base_index.get(&key(object)) {
            None => {
                plan.added.push(ObjectRef::of(object));
                if object.kind == "StatefulSet" {
                    plan.creates.push(ObjectRef::of(object));
                }
            }
            Some(before) if before.value != object.value => {
                plan.changed.push(Changed {
                    object: ObjectRef::of(object),
                    diff: unified(&before.value, &object.value),
                });
                if object.kind == "StatefulSet" {
                    compare_statefulsets(before, object, &base_index, &head_index, &mut plan);
                }
                if object.kind == "Service" {
                    compare_services(before, object, &mut plan);
                }
            }
            Some(_) => {}
        }
    }
    for object in base {
        if !head_index.contains_key(&key(object)) {
            plan.removed.push(ObjectRef::of(object));
            if object.kind == "StatefulSet" && has_claims(object) {
                plan.warnings.push(Warning {
                    object: ObjectRef::of(object),
                    warning: "statefulset-removed".into(),
                    message: format!(
                        "role {} of cluster {} is removed: its pods stop; its volumes stay (whenDeleted: Retain) until deleted by hand",
                        object.role.as_deref().unwrap_or("?"),
                        object.cluster
                    ),
                });
            }
        }
    }
    // Whole clusters that disappear.
    let clusters = |objects: &[Object]| -> BTreeMap<(String, String), usize> {
        let mut counts = BTreeMap::new();
        for o in objects {
            *counts
                .entry((o.namespace.clone(), o.cluster.clone()))
                .or_insert(0) += 1;
        }
        counts
    };
    let head_clusters = clusters(head);
    for ((namespace, cluster), count) in clusters(base) {
        if !head_clusters.contains_key(&(namespace.clone(), cluster.clone())) {
            plan.warnings.push(Warning {
                object: ObjectRef {
                    namespace: namespace.clone(),
                    cluster: cluster.clone(),
                    kind: "KubeDirectorCluster".into(),
                    name: cluster.clone(),
                },
                warning: "cluster-removed".into(),
                message: format!(
                    "cluster {cluster} is removed: its {count} objects will be pruned and its members stop; their volumes stay until deleted by hand"
                ),
            });
        }
    }
    plan.added.sort();
    plan.removed.sort();
    plan.creates.sort();
    plan.changed.sort_by(|a, b| a.object.cmp(&b.object));
    plan.restarts.sort_by(|a, b| a.object.cmp(&b.object));
    plan.scales.sort_by(|a, b| a.object.cmp(&b.object));
    plan.warnings
        .sort_by(|a, b| (&a.object, &a.warning).cmp(&(&b.object, &b.warning)));
    plan
}

fn has_claims(statefulset: &Object) -> bool {
    statefulset.value["spec"]["volumeClaimTemplates"]
        .as_array()
        .is_some_and(|claims| !claims.is_empty())
}

fn compare_services(before: &Object, after: &Object, plan: &mut Plan) {
    let headless = |o: &Object| o.value["spec"]["clusterIP"] == "None";
    if headless(before) != headless(after) {
        plan.warnings.push(Warning {
            object: ObjectRef::of(after),
            warning: "immutable-field".into(),
            message: "spec.clusterIP changes between headless and not, which Kubernetes refuses in place: the Service must be deleted and created again".into(),
        });
    }
}

fn compare_statefulsets(
    before: &Object,
    after: &Object,
    base: &BTreeMap<Key, &Object>,
    head: &BTreeMap<Key, &Object>,
    plan: &mut Plan,
) {
    let (b, a) = (&before.value["spec"], &after.value["spec"]);
    let reference = ObjectRef::of(after);
    for field in [
        "selector",
        "serviceName",
        "podManagementPolicy",
        "volumeClaimTemplates",
    ] {
        if b[field] != a[field] {
            let extra = if field == "volumeClaimTemplates" {
                "; existing members keep their volumes as they are"
            } else {
                ""
            };
            plan.warnings.push(Warning {
                object: reference.clone(),
                warning: "immutable-field".into(),
                message: format!(
                    "spec.{field} changes, which Kubernetes refuses for a StatefulSet: delete it with `kubectl delete statefulset {} -n {} --cascade=orphan` and let the GitOps tool create it again{extra}",
                    after.name, after.namespace
                ),
            });
        }
    }
    let replicas = |spec: &Value| spec["replicas"].as_u64().unwrap_or(0);
    if replicas(b) != replicas(a) {
        plan.scales.push(Scale {
            object: reference.clone(),
            from: replicas(b),
            to: replicas(a),
        });
        if replicas(a) < replicas(b) && has_claims(after) {
            plan.warnings.push(Warning {
                object: reference.clone(),
                warning: "scale-down-deletes-volumes".into(),
                message: format!(
                    "{} scales down from {} to {}: the volumes of members {}..{} are deleted with them (whenScaled: Delete), and their data is lost",
                    after.name,
                    replicas(b),
                    replicas(a),
                    replicas(a),
                    replicas(b) - 1
                ),
            });
        }
    }
    if b["template"] == a["template"] {
        return;
    }
    let mut reasons = Vec::new();
    let strip = |template: &Value| {
        let mut template = template.clone();
        if let Some(annotations) = template["metadata"]["annotations"].as_object_mut() {
            annotations.remove(ANNOTATION);
        }
        template
    };
    let mut settings = Vec::new();
    differences(
        "",
        &strip(&b["template"]["spec"]),
        &strip(&a["template"]["spec"]),
        &mut settings,
    );
    differences(
        "metadata",
        &strip(&b["template"])["metadata"],
        &strip(&a["template"])["metadata"],
        &mut settings,
    );
    differences(
        "volumeClaimTemplates",
        &b["volumeClaimTemplates"],
        &a["volumeClaimTemplates"],
        &mut settings,
    );
    let facts = after.rollout.as_deref().cloned().unwrap_or_default();
    let old_facts = before.rollout.as_deref().cloned().unwrap_or_default();
    // Mounts and volumes of config files follow the files, which are explained below.
    let file_mount = |field: &str| {
        facts
            .files
            .iter()
            .chain(&old_facts.files)
            .any(|f| field.starts_with(&format!("containers[app].volumeMounts[{}]", f.target)))
            || field.starts_with("volumes[config-files")
    };
    // The init step takes the app container's resources by construction: name them once.
    settings.retain(|(field, ..)| {
        !file_mount(field) && !field.starts_with("initContainers[kdrender-init].resources")
    });
    reasons.extend(
        settings
            .into_iter()
            .map(|(field, from, to)| Reason::Setting { field, from, to }),
    );

    reasons.extend(file_reasons(before, after, &old_facts, &facts, base, head));
    let (old_meta, new_meta) = (configmeta(base, before), configmeta(head, after));
    reasons.extend(app_reasons(&old_meta, &new_meta));
    if facts.takes_membership {
        reasons.extend(membership_reasons(&old_meta, &new_meta, &after.cluster));
    }
    if reasons.is_empty() {
        reasons.push(Reason::Other {
            detail:
                "the rollout hash changed (a new kdrender hash scheme, or inputs not shown here)"
                    .into(),
        });
    }
    plan.restarts.push(Restart {
        object: reference,
        role: after.role.clone().unwrap_or_default(),
        reasons,
    });
}

/// Leaf differences between two values, as `(field path, before, after)`. Lists of objects
/// with a `name` are matched by name (`containers[app]`), other lists by position.
fn differences(
    path: &str,
    before: &Value,
    after: &Value,
    out: &mut Vec<(String, Option<String>, Option<String>)>,
) {
    if before == after {
        return;
    }
    let join = |segment: &str| {
        if path.is_empty() {
            segment.to_string()
        } else if segment.starts_with('[') {
            format!("{path}{segment}")
        } else {
            format!("{path}.{segment}")
        }
    };
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                differences(
                    &join(key),
                    b.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(b), Value::Array(a))
            if identity(b).is_some() && identity(b) == identity(a) =>
        {
            let field = identity(b).unwrap_or("/name");
            let name = |v: &Value| {
                v.pointer(field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let mut names: Vec<String> = b.iter().chain(a).map(name).collect();
            names.sort();
            names.dedup();
            for n in names {
                let find = |list: &[Value]| {
                    list.iter()
                        .find(|v| name(v) == n)
                        .cloned()
                        .unwrap_or(Value::Null)
                };
                differences(&join(&format!("[{n}]")), &find(b), &find(a), out);
            }
        }
        (Value::Array(b), Value::Array(a)) if b.len() == a.len() => {
            for (i, (x, y)) in b.iter().zip(a).enumerate() {
                differences(&join(&format!("[{i}]")), x, y, out);
            }
        }
        (Value::String(b), Value::String(a)) if b.contains('\n') || a.contains('\n') => {
            // A script or file: name the first line that differs, not the first 120 characters.
            let (old, new): (Vec<&str>, Vec<&str>) = (b.lines().collect(), a.lines().collect());
            let line = (0..old.len().max(new.len()))
                .find(|&i| old.get(i) != new.get(i))
                .unwrap_or(0);
            let pick = |lines: &[&str]| {
                lines
                    .get(line)
                    .map(|l| brief(&Value::String(l.to_string())).unwrap_or_default())
            };
            out.push((
                format!("{path} (line {})", line + 1),
                pick(&old),
                pick(&new),
            ));
        }
        _ => out.push((path.to_string(), brief(before), brief(after))),
    }
}

/// The field (a JSON pointer) that identifies the items of a list of objects: `name`,
/// `mountPath` for volume mounts (which share volume names), `metadata.name` for volume claim
/// templates; if one is present and unique in every item.
fn identity(list: &[Value]) -> Option<&'static str> {
    ["/name", "/mountPath", "/devicePath", "/metadata/name"]
        .into_iter()
        .find(|field| {
            let mut seen = std::collections::BTreeSet::new();
            !list.is_empty()
                && list.iter().all(|v| {
                    v.pointer(field)
                        .and_then(Value::as_str)
                        .is_some_and(|s| seen.insert(s.to_string()))
                })
        })
}

/// A value as a reviewer reads it; long ones are shortened.
fn brief(value: &Value) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(if text.chars().count() > 120 {
        format!("{}…", text.chars().take(117).collect::<String>())
    } else {
        text
    })
}

fn files_data<'a>(
    index: &'a BTreeMap<Key, &Object>,
    statefulset: &Object,
) -> Option<&'a serde_json::Map<String, Value>> {
    index
        .get(&(
            "ConfigMap".to_string(),
            statefulset.namespace.clone(),
            format!("{}-files", statefulset.name),
        ))
        .and_then(|o| o.value["data"].as_object())
}

fn file_reasons(
    before: &Object,
    after: &Object,
    old_facts: &crate::render::RolloutFacts,
    facts: &crate::render::RolloutFacts,
    base: &BTreeMap<Key, &Object>,
    head: &BTreeMap<Key, &Object>,
) -> Vec<Reason> {
    let empty = serde_json::Map::new();
    let old = files_data(base, before).unwrap_or(&empty);
    let new = files_data(head, after).unwrap_or(&empty);
    let members_in_both =
        |object: &Object| object.value["spec"]["replicas"].as_u64().unwrap_or(0) as usize;
    let both = members_in_both(before).min(members_in_both(after));
    let mut reasons = Vec::new();
    for fact in &facts.files {
        let previous = old_facts.files.iter().find(|f| f.target == fact.target);
        let change = |what: &str, members: Option<Vec<usize>>| Reason::File {
            path: fact.target.clone(),
            template: fact.template.clone(),
            change: what.to_string(),
            members,
        };
        match previous {
            None => reasons.push(change("added", None)),
            Some(previous) if previous.per_member != fact.per_member => {
                reasons.push(change("changed", None))
            }
            Some(_) if fact.per_member => {
                let changed: Vec<usize> = (0..both)
                    .filter(|i| {
                        let key = |o: &Object, k: &str| format!("{}-{i}.{k}", o.name);
                        old.get(&key(before, &fact.key)) != new.get(&key(after, &fact.key))
                    })
                    .collect();
                if !changed.is_empty() {
                    reasons.push(change("changed", Some(changed)));
                }
            }
            Some(_) => {
                if old.get(&fact.key) != new.get(&fact.key) {
                    reasons.push(change("changed", None));
                }
            }
        }
    }
    for previous in &old_facts.files {
        if !facts.files.iter().any(|f| f.target == previous.target) {
            reasons.push(Reason::File {
                path: previous.target.clone(),
                template: previous.template.clone(),
                change: "removed".into(),
                members: None,
            });
        }
    }
    reasons
}

/// The parsed configmeta.json of a StatefulSet's cluster.
fn configmeta(index: &BTreeMap<Key, &Object>, statefulset: &Object) -> Value {
    let name = statefulset.value["spec"]["serviceName"]
        .as_str()
        .unwrap_or_default();
    index
        .get(&(
            "ConfigMap".to_string(),
            statefulset.namespace.clone(),
            format!("{name}-configmeta"),
        ))
        .and_then(|o| o.value["data"]["configmeta.json"].as_str())
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null)
}

fn app_reasons(old: &Value, new: &Value) -> Vec<Reason> {
    let (o, n) = (&old["nodegroups"]["1"], &new["nodegroups"]["1"]);
    let mut reasons = Vec::new();
    for (field, label) in [
        ("catalog_entry_version", "version"),
        ("distro_id", "distroID"),
    ] {
        if o[field] != n[field] {
            reasons.push(Reason::App {
                field: label.into(),
                from: brief(&o[field]),
                to: brief(&n[field]),
            });
        }
    }
    let mut settings = Vec::new();
    differences(
        "configMeta",
        &o["config_metadata"],
        &n["config_metadata"],
        &mut settings,
    );
    reasons.extend(
        settings
            .into_iter()
            .map(|(field, from, to)| Reason::App { field, from, to }),
    );
    reasons
}

fn membership_reasons(old: &Value, new: &Value, cluster: &str) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let mut compare = |cluster: &str, o: &Value, n: &Value| {
        let roles = |v: &Value| -> BTreeMap<String, Vec<String>> {
            v["nodegroups"]["1"]["roles"]
                .as_object()
                .map(|roles| {
                    roles
                        .iter()
                        .map(|(id, role)| {
                            let fqdns = role["fqdns"].as_array().map_or_else(Vec::new, |list| {
                                list.iter()
                                    .filter_map(|f| f.as_str().map(str::to_string))
                                    .collect()
                            });
                            (id.clone(), fqdns)
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let (before, after) = (roles(o), roles(n));
        let ids: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        for id in ids {
            let empty = Vec::new();
            let (b, a) = (
                before.get(id).unwrap_or(&empty),
                after.get(id).unwrap_or(&empty),
            );
            if b != a {
                reasons.push(Reason::Membership {
                    cluster: cluster.to_string(),
                    role: id.clone(),
                    from: b.len(),
                    to: a.len(),
                    added: a.iter().filter(|f| !b.contains(f)).cloned().collect(),
                    removed: b.iter().filter(|f| !a.contains(f)).cloned().collect(),
                });
            }
        }
    };
    compare(cluster, old, new);
    let connected = |v: &Value| {
        v["connections"]["clusters"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    };
    let (old_connected, new_connected) = (connected(old), connected(new));
    let names: std::collections::BTreeSet<&String> =
        old_connected.keys().chain(new_connected.keys()).collect();
    for name in names {
        compare(
            name,
            old_connected.get(name).unwrap_or(&Value::Null),
            new_connected.get(name).unwrap_or(&Value::Null),
        );
    }
    reasons
}

/// A unified diff of two objects' YAML.
pub fn unified(before: &Value, after: &Value) -> String {
    let before = crate::emit::to_yaml(before).unwrap_or_default();
    let after = crate::emit::to_yaml(after).unwrap_or_default();
    similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(cluster_ip: Option<&str>) -> Object {
        let mut spec = json!({"ports": [{"port": 80}]});
        if let Some(ip) = cluster_ip {
            spec["clusterIP"] = json!(ip);
        }
        Object {
            value: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"}, "spec": spec}),
            kind: "Service",
            name: "db".into(),
            namespace: "data".into(),
            cluster: "db".into(),
            role: None,
            origin: crate::source::Origin {
                file: crate::source::FileId(0),
                span: crate::source::Span::default(),
            },
            rollout: None,
        }
    }

    #[test]
    fn a_service_switching_between_headless_and_not_is_a_warning() {
        let plan = plan(&[service(Some("None"))], &[service(None)]);
        assert_eq!(plan.warnings.len(), 1);
        assert_eq!(plan.warnings[0].warning, "immutable-field");
        assert!(plan.warnings[0].message.contains("clusterIP"));
        let same = super::plan(&[service(None)], &[service(None)]);
        assert!(same.is_empty() && same.warnings.is_empty());
    }

    #[test]
    fn differences_name_fields_by_path_and_list_items_by_name() {
        let before = json!({"containers": [{"name": "app", "image": "a:1", "env": [{"name": "X", "value": "1"}]}], "dns": ["a"]});
        let after = json!({"containers": [{"name": "app", "image": "a:2", "env": [{"name": "X", "value": "2"}, {"name": "Y", "value": "3"}]}], "dns": ["a"]});
        let mut out = Vec::new();
        differences("", &before, &after, &mut out);
        let fields: Vec<&str> = out.iter().map(|(f, ..)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "containers[app].env[X].value",
                "containers[app].env[Y]",
                "containers[app].image"
            ]
        );
        assert_eq!(out[2].1.as_deref(), Some("a:1"));
        assert_eq!(out[2].2.as_deref(), Some("a:2"));

        let mut out = Vec::new();
        differences(
            "script",
            &json!("set -eu\nseed '/a'\nseed '/b'\n"),
            &json!("set -eu\nseed '/a'\nseed '/c'\n"),
            &mut out,
        );
        assert_eq!(
            out,
            [(
                "script (line 3)".to_string(),
                Some("seed '/b'".to_string()),
                Some("seed '/c'".to_string())
            )]
        );
    }
}
