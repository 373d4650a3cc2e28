//! The rollout plan: two renders compared object by object (by kind, namespace and name).
//!
//! The plan holds the objects added, removed and changed (with a unified diff of each changed
//! object's YAML); the StatefulSets that restart, with their reasons ([`super::reasons`]); what
//! running members get in place, without a restart ([`super::inplace`]: the startscript events
//! of roles with a setup package, and the clusters whose `configmeta.json` changes); the
//! StatefulSets that scale or are created; what will be pruned; and warnings for changes
//! Kubernetes refuses in place or that lose data. Every list is sorted by namespace, cluster,
//! kind and name.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::inplace::{Notify, Refresh, in_place};
use super::reasons::{Index, Reason, at, restart_reasons};
use crate::render::{Kind, Object, names};

/// An object's identity in the plan.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    pub namespace: String,
    pub cluster: String,
    pub kind: String,
    pub name: String,
}

impl ObjectRef {
    pub(super) fn of(object: &Object) -> ObjectRef {
        ObjectRef {
            namespace: object.namespace.clone(),
            cluster: object.cluster.clone(),
            kind: object.kind.to_string(),
            name: object.name.clone(),
        }
    }
}

/// Objects by the identity the plan gives them: namespace, kind and name.
pub struct ByRef<'o>(BTreeMap<(&'o str, String, &'o str), &'o Object>);

impl<'o> ByRef<'o> {
    pub fn new(objects: &'o [Object]) -> ByRef<'o> {
        let by_ref = objects.iter().map(|o| {
            let key = (o.namespace.as_str(), o.kind.to_string(), o.name.as_str());
            (key, o)
        });
        ByRef(by_ref.collect())
    }

    /// The object `object` names, if there is one.
    pub fn get(&self, object: &ObjectRef) -> Option<&'o Object> {
        let key = (
            object.namespace.as_str(),
            object.kind.clone(),
            object.name.as_str(),
        );
        self.0.get(&key).copied()
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} {}", self.namespace, self.kind, self.name)
    }
}

/// A StatefulSet whose pods are replaced, one by one, and why.
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

/// What a warning is about; the names are part of the JSON format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    /// A field Kubernetes refuses to change in place.
    ImmutableField,
    /// A role with storage scales down: the removed members' volumes are deleted.
    ScaleDownDeletesVolumes,
    /// A role's StatefulSet goes away (its volumes stay).
    StatefulsetRemoved,
    /// A whole cluster goes away.
    ClusterRemoved,
    /// A cluster takes over a live KubeDirector's: it may sync only after the cutover.
    Adoption,
}

#[derive(Clone, Debug, Serialize)]
pub struct Warning {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub warning: WarningKind,
    /// The field concerned, for `immutable-field`.
    pub field: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Changed {
    #[serde(flatten)]
    pub object: ObjectRef,
    /// Unified diff of the object's YAML; empty in a cluster's part that is never shown
    /// ([`super::fleet::Shown`]).
    pub diff: String,
}

/// Everything a change does, in a stable order.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub added: Vec<ObjectRef>,
    pub removed: Vec<ObjectRef>,
    pub changed: Vec<Changed>,
    pub restarts: Vec<Restart>,
    /// Roles whose running members' startscript hears of the change, without a restart.
    pub notifies: Vec<Notify>,
    /// Clusters whose `configmeta.json` changes in running members.
    pub refreshes: Vec<Refresh>,
    pub scales: Vec<Scale>,
    /// StatefulSets that start (new roles and clusters).
    pub creates: Vec<ObjectRef>,
    /// StatefulSets that take over a live KubeDirector's pods and volumes ([`super::adoption`]).
    pub adopts: Vec<super::adoption::Adopt>,
    pub warnings: Vec<Warning>,
}

impl Plan {
    /// Nothing is added, removed or changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// Gives each changed object its unified diff; `base` and `head` are the objects the plan
    /// compared.
    pub fn add_diffs(&mut self, base: &ByRef<'_>, head: &ByRef<'_>) {
        for changed in &mut self.changed {
            let object = &changed.object;
            if let (Some(before), Some(after)) = (base.get(object), head.get(object)) {
                changed.diff = unified(&before.value, &after.value);
            }
        }
    }

    /// Appends `other`'s entries to this plan's (the part of a cluster that sorts after every
    /// cluster already in it keeps the plan sorted).
    pub fn extend(&mut self, other: &Plan) {
        // Every list of the plan, named: a list added to the plan must be appended too.
        let Plan {
            added,
            removed,
            changed,
            restarts,
            notifies,
            refreshes,
            scales,
            creates,
            adopts,
            warnings,
        } = other;
        self.added.extend_from_slice(added);
        self.removed.extend_from_slice(removed);
        self.changed.extend_from_slice(changed);
        self.restarts.extend_from_slice(restarts);
        self.notifies.extend_from_slice(notifies);
        self.refreshes.extend_from_slice(refreshes);
        self.scales.extend_from_slice(scales);
        self.creates.extend_from_slice(creates);
        self.adopts.extend_from_slice(adopts);
        self.warnings.extend_from_slice(warnings);
    }
}

fn key(object: &Object) -> (Kind, String, String) {
    (object.kind, object.namespace.clone(), object.name.clone())
}

/// Compares the base render with the new one, with a unified diff of each changed object.
pub fn plan(base: &[Object], head: &[Object]) -> Plan {
    let mut plan = outline(base, head);
    plan.add_diffs(&ByRef::new(base), &ByRef::new(head));
    plan
}

/// The plan without the unified diffs (each changed object's `diff` is empty), which are half
/// of its cost: [`Plan::add_diffs`] adds them where they are shown.
pub fn outline(base: &[Object], head: &[Object]) -> Plan {
    let base_index: Index<'_> = base.iter().map(|o| (key(o), o)).collect();
    let head_index: Index<'_> = head.iter().map(|o| (key(o), o)).collect();
    let mut plan = Plan::default();

    for object in head {
        match base_index.get(&key(object)) {
            None => {
                plan.added.push(ObjectRef::of(object));
                if object.kind == Kind::StatefulSet {
                    plan.creates.push(ObjectRef::of(object));
                }
            }
            Some(before) if before.value != object.value => {
                plan.changed.push(Changed {
                    object: ObjectRef::of(object),
                    diff: String::new(),
                });
                match object.kind {
                    Kind::StatefulSet => {
                        compare_statefulsets(before, object, &base_index, &head_index, &mut plan)
                    }
                    Kind::Service => compare_services(before, object, &mut plan),
                    _ => {}
                }
            }
            Some(_) => {}
        }
    }
    for object in base {
        if !head_index.contains_key(&key(object)) {
            plan.removed.push(ObjectRef::of(object));
            if object.kind == Kind::StatefulSet && has_claims(object) {
                plan.warnings.push(Warning {
                    object: ObjectRef::of(object),
                    warning: WarningKind::StatefulsetRemoved,
                    field: None,
                    message: format!(
                        "role {} of cluster {} is removed: its pods stop; its volumes stay (whenDeleted: Retain) until deleted by hand, and a role that comes back finds them, already configured; `members: 0` deletes them instead, as KubeDirector did",
                        object.role.as_deref().unwrap_or("?"),
                        object.cluster
                    ),
                });
            }
        }
    }
    removed_clusters(base, head, &mut plan);
    (plan.notifies, plan.refreshes) = in_place(&base_index, &head_index);
    leave_out_restarting_roles(&mut plan);
    super::adoption::separate(&mut plan, head);

    plan.added.sort();
    plan.removed.sort();
    plan.creates.sort();
    plan.changed.sort_by(|a, b| a.object.cmp(&b.object));
    plan.restarts.sort_by(|a, b| a.object.cmp(&b.object));
    plan.notifies.sort_by(|a, b| a.object.cmp(&b.object));
    plan.refreshes.sort_by(|a, b| a.object.cmp(&b.object));
    plan.scales.sort_by(|a, b| a.object.cmp(&b.object));
    plan.warnings
        .sort_by(|a, b| (&a.object, a.warning, &a.field).cmp(&(&b.object, b.warning, &b.field)));
    plan
}

/// A role that restarts starts with the new `configmeta.json`: it is not among those that keep
/// the old one.
fn leave_out_restarting_roles(plan: &mut Plan) {
    let restarting: BTreeSet<(&str, &str, &str)> = plan
        .restarts
        .iter()
        .map(|r| {
            (
                r.object.namespace.as_str(),
                r.object.cluster.as_str(),
                r.role.as_str(),
            )
        })
        .collect();
    for refresh in &mut plan.refreshes {
        let (namespace, cluster) = (
            refresh.object.namespace.as_str(),
            refresh.object.cluster.as_str(),
        );
        refresh
            .stale
            .retain(|role| !restarting.contains(&(namespace, cluster, role.as_str())));
    }
}

/// Clusters rendered at the base and not any more.
fn removed_clusters(base: &[Object], head: &[Object], plan: &mut Plan) {
    let clusters = |objects: &[Object]| -> BTreeMap<(String, String), usize> {
        let mut counts = BTreeMap::new();
        for o in objects {
            *counts
                .entry((o.namespace.clone(), o.cluster.clone()))
                .or_insert(0) += 1;
        }
        counts
    };
    let remaining = clusters(head);
    for ((namespace, cluster), count) in clusters(base) {
        if !remaining.contains_key(&(namespace.clone(), cluster.clone())) {
            plan.warnings.push(Warning {
                object: ObjectRef {
                    namespace,
                    cluster: cluster.clone(),
                    kind: "KubeDirectorCluster".into(),
                    name: cluster.clone(),
                },
                warning: WarningKind::ClusterRemoved,
                field: None,
                message: format!(
                    "cluster {cluster} is removed: its {count} objects will be pruned and its members stop; their volumes stay until deleted by hand"
                ),
            });
        }
    }
}

fn has_claims(statefulset: &Object) -> bool {
    at(&statefulset.value, "/spec/volumeClaimTemplates")
        .as_array()
        .is_some_and(|claims| !claims.is_empty())
}

fn compare_services(before: &Object, after: &Object, plan: &mut Plan) {
    let headless = |o: &Object| at(&o.value, "/spec/clusterIP") == "None";
    if headless(before) != headless(after) {
        plan.warnings.push(Warning {
            object: ObjectRef::of(after),
            warning: WarningKind::ImmutableField,
            field: Some("spec.clusterIP".into()),
            message: format!(
                "the Service becomes {}: spec.clusterIP cannot change in place, so Kubernetes refuses the update; delete the Service (`kubectl delete service {} -n {}`) and let the GitOps tool create it again",
                if headless(after) { "headless" } else { "not headless" },
                after.name,
                after.namespace
            ),
        });
    }
}

fn compare_statefulsets(
    before: &Object,
    after: &Object,
    base: &Index<'_>,
    head: &Index<'_>,
    plan: &mut Plan,
) {
    immutable_fields(before, after, plan);
    let replicas = |o: &Object| at(&o.value, "/spec/replicas").as_u64().unwrap_or(0);
    let (from, to) = (replicas(before), replicas(after));
    if from != to {
        plan.scales.push(Scale {
            object: ObjectRef::of(after),
            from,
            to,
        });
        if to < from && has_claims(before) {
            plan.warnings.push(Warning {
                object: ObjectRef::of(after),
                warning: WarningKind::ScaleDownDeletesVolumes,
                field: None,
                message: format!(
                    "{} scales down from {from} to {to} members: the volumes of {} are deleted with them (persistentVolumeClaimRetentionPolicy.whenScaled: Delete), and their data is lost",
                    after.name,
                    deleted_claims(before, to, from)
                ),
            });
        }
    }
    // A role scaled to zero, or from zero, keeps its StatefulSet but has no pods to restart.
    if from > 0
        && to > 0
        && at(&before.value, "/spec/template") != at(&after.value, "/spec/template")
    {
        plan.restarts.push(Restart {
            object: ObjectRef::of(after),
            role: after.role.clone().unwrap_or_default(),
            reasons: restart_reasons(before, after, base, head),
        });
    }
}

/// A warning for each field of a StatefulSet's spec that Kubernetes refuses to change.
fn immutable_fields(before: &Object, after: &Object, plan: &mut Plan) {
    for field in [
        "podManagementPolicy",
        "selector",
        "serviceName",
        "volumeClaimTemplates",
    ] {
        let pointer = format!("/spec/{field}");
        if at(&before.value, &pointer) == at(&after.value, &pointer) {
            continue;
        }
        let extra = if field == "volumeClaimTemplates" {
            "; existing members keep their volumes as they are (grow them by editing each PersistentVolumeClaim, if the StorageClass allows expansion)"
        } else {
            ""
        };
        plan.warnings.push(Warning {
            object: ObjectRef::of(after),
            warning: WarningKind::ImmutableField,
            field: Some(format!("spec.{field}")),
            message: format!(
                "spec.{field} changes, which Kubernetes refuses for a StatefulSet: delete it with `kubectl delete statefulset {} -n {} --cascade=orphan` (its pods keep running) and let the GitOps tool create it again{extra}",
                after.name, after.namespace
            ),
        });
    }
}

/// The PersistentVolumeClaims of members `from..to` (`<claim>-<statefulset>-<ordinal>`), for
/// messages: all of them when few, else the first and the last.
fn deleted_claims(statefulset: &Object, from: u64, to: u64) -> String {
    let claims: Vec<&str> = at(&statefulset.value, "/spec/volumeClaimTemplates")
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| at(c, "/metadata/name").as_str())
                .collect()
        })
        .unwrap_or_default();
    let claims_of = |ordinal: u64| {
        let pod = names::pod(&statefulset.name, ordinal);
        claims
            .iter()
            .map(move |claim| names::member_claim(claim, &pod))
    };
    let all: Vec<String> = (from..to).flat_map(claims_of).collect();
    match (
        all.get(..2),
        all.len().checked_sub(2).and_then(|last| all.get(last..)),
    ) {
        (Some(first), Some(last)) if all.len() > 6 => format!(
            "{} … {} ({} claims)",
            first.join(", "),
            last.join(", "),
            all.len()
        ),
        _ => all.join(", "),
    }
}

/// A unified diff of two objects' YAML, three lines of context.
pub fn unified(before: &Value, after: &Value) -> String {
    let before = crate::emit::to_yaml(before).unwrap_or_default();
    let after = crate::emit::to_yaml(after).unwrap_or_default();
    similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(false)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(kind: Kind, name: &str, spec: Value) -> Object {
        Object {
            value: json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "spec": spec}),
            kind,
            name: name.into(),
            namespace: "data".into(),
            cluster: "db".into(),
            role: Some("r".into()),
            origin: crate::source::Origin {
                file: crate::source::FileId(0),
                span: crate::source::Span::default(),
            },
            rollout: None,
            patches: Vec::new(),
        }
    }

    #[test]
    fn a_service_switching_between_headless_and_not_is_a_warning() {
        let headless = object(Kind::Service, "db", json!({"clusterIP": "None"}));
        let normal = object(Kind::Service, "db", json!({"type": "ClusterIP"}));
        let plan = plan(&[headless], std::slice::from_ref(&normal));
        assert_eq!(plan.warnings.len(), 1);
        assert_eq!(plan.warnings[0].warning, WarningKind::ImmutableField);
        assert_eq!(plan.warnings[0].field.as_deref(), Some("spec.clusterIP"));
        let same = super::plan(std::slice::from_ref(&normal), std::slice::from_ref(&normal));
        assert!(same.is_empty() && same.warnings.is_empty());
    }

    #[test]
    fn a_scale_down_names_the_claims_it_deletes() {
        let sts = |replicas: u64| {
            object(
                Kind::StatefulSet,
                "db-r",
                json!({"replicas": replicas, "volumeClaimTemplates": [{"metadata": {"name": "p"}}, {"metadata": {"name": "b0"}}]}),
            )
        };
        let plan = plan(&[sts(4)], &[sts(2)]);
        assert_eq!(plan.scales.len(), 1);
        assert_eq!(plan.warnings.len(), 1);
        assert_eq!(
            plan.warnings[0].warning,
            WarningKind::ScaleDownDeletesVolumes
        );
        assert!(
            plan.warnings[0]
                .message
                .contains("p-db-r-2, b0-db-r-2, p-db-r-3, b0-db-r-3"),
            "{}",
            plan.warnings[0].message
        );
        assert_eq!(
            deleted_claims(&sts(20), 0, 20),
            "p-db-r-0, b0-db-r-0 … p-db-r-19, b0-db-r-19 (40 claims)"
        );
    }
}
