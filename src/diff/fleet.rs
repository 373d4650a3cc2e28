//! The plan at fleet scale: one part per cluster, and clusters whose parts are alike grouped so
//! that a change made in many clusters is shown once, with the list of clusters.
//!
//! Every entry of the plan belongs to one cluster (its object's). [`split`] cuts the plan into
//! the clusters' parts; [`group`] compares the parts with what differs per cluster by
//! construction normalised away ([`likeness`]) and keeps, per group, the part of its first
//! cluster to show. Groups come in the order of their first clusters (namespace, name).
//! [`Part::of`] makes one cluster's part and its likeness as soon as the cluster is compared
//! ([`super::clusters`]), and [`gather`] puts the parts together and groups them.

mod delta;
mod likeness;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::plan::{ByRef, ObjectRef, Plan};
use crate::emit::compact;
use crate::hash::ANNOTATION;
use crate::render::{Kind, Object};

/// A cluster, by namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ClusterRef {
    pub namespace: String,
    pub name: String,
}

impl ClusterRef {
    fn of(object: &ObjectRef) -> ClusterRef {
        ClusterRef {
            namespace: object.namespace.clone(),
            name: object.cluster.clone(),
        }
    }
}

impl std::fmt::Display for ClusterRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Clusters whose changes are alike, and the first one's part of the plan, to show.
#[derive(Clone, Debug)]
pub struct Group {
    /// Sorted by namespace and name; never empty.
    pub clusters: Vec<ClusterRef>,
    /// The first cluster's part of the plan.
    pub plan: Plan,
}

impl Group {
    /// The cluster whose part is shown.
    pub fn shown(&self) -> Option<&ClusterRef> {
        self.clusters.first()
    }
}

/// The rollout hashes each cluster's StatefulSets carry, at the base and in the working tree:
/// values that differ per cluster by construction.
type Hashes = BTreeMap<ClusterRef, BTreeSet<String>>;

/// The rollout hashes of the StatefulSets among `objects`, by cluster.
fn hashes<'o>(objects: impl IntoIterator<Item = &'o Object>) -> Hashes {
    let pointer = format!(
        "/spec/template/metadata/annotations/{}",
        ANNOTATION.replace('~', "~0").replace('/', "~1")
    );
    let mut hashes = Hashes::new();
    for object in objects {
        if object.kind != Kind::StatefulSet {
            continue;
        }
        if let Some(hash) = object.value.pointer(&pointer).and_then(Value::as_str) {
            let cluster = ClusterRef {
                namespace: object.namespace.clone(),
                name: object.cluster.clone(),
            };
            hashes.entry(cluster).or_default().insert(hash.to_string());
        }
    }
    hashes
}

/// The plan's entries by cluster.
pub fn split(plan: &Plan) -> BTreeMap<ClusterRef, Plan> {
    // Every list of the plan, named: a list added to the plan must be split too.
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
    } = plan;
    let mut parts: BTreeMap<ClusterRef, Plan> = BTreeMap::new();
    for item in added {
        part(&mut parts, item).added.push(item.clone());
    }
    for item in removed {
        part(&mut parts, item).removed.push(item.clone());
    }
    for item in changed {
        part(&mut parts, &item.object).changed.push(item.clone());
    }
    for item in restarts {
        part(&mut parts, &item.object).restarts.push(item.clone());
    }
    for item in notifies {
        part(&mut parts, &item.object).notifies.push(item.clone());
    }
    for item in refreshes {
        part(&mut parts, &item.object).refreshes.push(item.clone());
    }
    for item in scales {
        part(&mut parts, &item.object).scales.push(item.clone());
    }
    for item in creates {
        part(&mut parts, item).creates.push(item.clone());
    }
    for item in adopts {
        part(&mut parts, &item.object).adopts.push(item.clone());
    }
    for item in warnings {
        part(&mut parts, &item.object).warnings.push(item.clone());
    }
    parts
}

/// The part of the plan of `object`'s cluster.
fn part<'p>(parts: &'p mut BTreeMap<ClusterRef, Plan>, object: &ObjectRef) -> &'p mut Plan {
    parts.entry(ClusterRef::of(object)).or_default()
}

/// The objects of one render by namespace, kind and name, as the plan names them.
/// What must be equal for two clusters to change alike: a digest of their normalised parts
/// ([`normalized`]), with each cluster's namespace left as it is (`[0]`) and normalised away
/// (`[1]`), for when the clusters that change lie in one namespace or in several.
type Likeness = [[u8; 32]; 2];

/// One cluster's part of the plan, and its likeness to others'.
#[derive(Debug)]
pub struct Part {
    pub cluster: ClusterRef,
    pub plan: Plan,
    likeness: Likeness,
}

/// The objects a plan compared, as [`Part::of`] reads them.
pub struct Sides<'o> {
    pub base: ByRef<'o>,
    pub head: ByRef<'o>,
    hashes: Hashes,
}

impl<'o> Sides<'o> {
    pub fn new(base: &'o [Object], head: &'o [Object]) -> Sides<'o> {
        Sides {
            base: ByRef::new(base),
            head: ByRef::new(head),
            hashes: hashes(base.iter().chain(head)),
        }
    }
}

impl Part {
    /// `cluster`'s part `plan` of the plan of `sides`.
    pub fn of(cluster: ClusterRef, plan: Plan, sides: &Sides<'_>) -> Part {
        let no_hashes = BTreeSet::new();
        let hashes = sides.hashes.get(&cluster).unwrap_or(&no_hashes);
        let whole = whole(&plan, sides);
        let likeness = [false, true].map(|namespaces_differ| {
            let identity = likeness::Identity::new(
                (&cluster.namespace, &cluster.name),
                hashes,
                namespaces_differ,
            );
            normalized_digest(&whole, &identity)
        });
        Part {
            cluster,
            plan,
            likeness,
        }
    }
}

/// Which clusters' parts may be shown whole, diffs included. JSON prints every cluster's; text
/// prints each group's first cluster's, so a cluster is left without diffs once a cluster
/// before it (namespace, name) is known to change alike: it cannot be the first of its group.
/// Alike here means both likenesses equal, so it holds whichever [`gather`] groups by. Workers
/// compare clusters in about their order, so nearly every other cluster of a group is known
/// to follow one already seen.
#[derive(Debug, Default)]
pub struct Shown {
    every: bool,
    /// The first cluster seen so far with each likeness.
    firsts: std::sync::Mutex<BTreeMap<Likeness, ClusterRef>>,
}

impl Shown {
    /// Every cluster's part is shown (JSON).
    pub fn every() -> Shown {
        Shown {
            every: true,
            ..Shown::default()
        }
    }

    /// Only the first cluster of each group is shown (text).
    pub fn firsts() -> Shown {
        Shown::default()
    }

    /// Whether `part` may be shown: no cluster before it is known to change alike.
    pub fn may_show(&self, part: &Part) -> bool {
        if self.every {
            return true;
        }
        let mut firsts = self
            .firsts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match firsts.get(&part.likeness) {
            Some(first) if *first < part.cluster => false,
            _ => {
                firsts.insert(part.likeness, part.cluster.clone());
                true
            }
        }
    }
}

/// Clusters grouped by their normalised parts of the plan, in the order of their first clusters.
/// `base` and `head` are the objects the plan compared.
pub fn group(plan: &Plan, base: &[Object], head: &[Object]) -> Vec<Group> {
    let sides = Sides::new(base, head);
    let parts = split(plan)
        .into_iter()
        .map(|(cluster, part)| Part::of(cluster, part, &sides));
    gather(parts).1
}

/// The clusters' parts (in cluster order, each with an entry) as one plan, and grouped.
pub fn gather(parts: impl IntoIterator<Item = Part>) -> (Plan, Vec<Group>) {
    let parts: Vec<Part> = parts.into_iter().collect();
    // One namespace for all is no difference: left as it is, it cannot be taken for a word of
    // the text that merely spells the same.
    let namespaces: BTreeSet<&str> = parts.iter().map(|p| p.cluster.namespace.as_str()).collect();
    let namespaces_differ = usize::from(namespaces.len() > 1);
    let mut whole = Plan::default();
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: BTreeMap<[u8; 32], usize> = BTreeMap::new();
    for part in parts {
        whole.extend(&part.plan);
        let key = part
            .likeness
            .get(namespaces_differ)
            .copied()
            .unwrap_or_default();
        match by_key.get(&key).and_then(|&index| groups.get_mut(index)) {
            Some(group) => group.clusters.push(part.cluster),
            None => {
                by_key.insert(key, groups.len());
                groups.push(Group {
                    clusters: vec![part.cluster],
                    plan: part.plan,
                });
            }
        }
    }
    (whole, groups)
}

/// A cluster's part of the plan as one value, whose strings [`Part::of`] normalises (with the
/// cluster's own names, id and hashes as placeholders): what must be equal for two clusters to
/// change alike. Objects added and removed count with their whole content, changed ones with
/// the fields that changed ([`delta`]), not with the unified diff, whose context and order
/// depend on the cluster's name.
fn whole(part: &Plan, sides: &Sides<'_>) -> Value {
    let (base, head) = (&sides.base, &sides.head);
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
    } = part;
    let added: Vec<Value> = added
        .iter()
        .map(|o| json!([o, value_of(head, o)]))
        .collect();
    let removed: Vec<Value> = removed
        .iter()
        .map(|o| json!([o, value_of(base, o)]))
        .collect();
    let changed: Vec<Value> = changed
        .iter()
        .map(|c| {
            let (before, after) = (value_of(base, &c.object), value_of(head, &c.object));
            json!([c.object, delta::delta(before, after)])
        })
        .collect();
    json!({
        "added": added,
        "removed": removed,
        "changed": changed,
        "restarts": restarts,
        "notifies": notifies,
        "refreshes": refreshes,
        "scales": scales,
        "creates": creates,
        "adopts": adopts,
        "warnings": warnings,
    })
}

/// An object's value on one side (null where it is absent).
fn value_of<'o>(side: &ByRef<'o>, object: &ObjectRef) -> &'o Value {
    static ABSENT: Value = Value::Null;
    side.get(object).map_or(&ABSENT, |o| &o.value)
}

/// SHA-256 of `value` as compact JSON with every string value in it normalised (keys are the
/// format's own field names).
fn normalized_digest(value: &Value, identity: &likeness::Identity) -> [u8; 32] {
    let mut text = String::new();
    compact::write_mapped(value, &mut text, &|s| identity.normalize(s));
    Sha256::digest(text.as_bytes()).into()
}

/// How many lines a changed object's diff adds and removes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub insertions: usize,
    pub deletions: usize,
}

impl Stat {
    /// The lines a unified diff adds and removes (it has no file headers: every line that starts
    /// with `+` or `-` is a change).
    pub fn of_diff(diff: &str) -> Stat {
        let mut stat = Stat::default();
        for line in diff.split_terminator('\n') {
            match line.chars().next() {
                Some('+') => stat.insertions = stat.insertions.saturating_add(1),
                Some('-') => stat.deletions = stat.deletions.saturating_add(1),
                _ => {}
            }
        }
        stat
    }
}

/// The groups as JSON: each group's clusters (the first is the one the text shows), how many
/// there are, and what each of them changes.
pub fn json(groups: &[Group]) -> Value {
    Value::Array(
        groups
            .iter()
            .map(|group| {
                let plan = &group.plan;
                json!({
                    "clusters": group.clusters,
                    "count": group.clusters.len(),
                    "objects": {
                        "added": plan.added.len(),
                        "removed": plan.removed.len(),
                        "changed": plan.changed.len(),
                    },
                    "restarts": plan.restarts.len(),
                    "warnings": plan.warnings.len(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::plan::plan;
    use crate::render::names::files_configmap;
    use serde_json::json;

    /// A role's files ConfigMap and StatefulSet in cluster `cluster`, whose config file says
    /// `setting` and lists the cluster's members, with a per-member key (which sorts by the
    /// cluster's name) and a rollout hash of its own.
    fn role(namespace: &str, cluster: &str, setting: &str, hash: &str) -> Vec<Object> {
        let statefulset = format!("{cluster}-worker");
        let object = |kind: Kind, name: String, value: Value| Object {
            value,
            kind,
            name,
            namespace: namespace.into(),
            cluster: cluster.into(),
            role: Some("worker".into()),
            origin: crate::source::Origin {
                file: crate::source::FileId(0),
                span: crate::source::Span::default(),
            },
            rollout: None,
            patches: Vec::new(),
        };
        let config = format!("peers={cluster}-worker-0.{cluster}.{namespace}.svc\n{setting}\n");
        vec![
            object(
                Kind::ConfigMap,
                files_configmap(&statefulset),
                json!({"data": {"etc_w.conf": config, format!("{cluster}-worker-0.id"): "1"}}),
            ),
            object(
                Kind::StatefulSet,
                statefulset,
                json!({"spec": {"template": {"metadata": {"annotations": {ANNOTATION: hash}}}}}),
            ),
        ]
    }

    #[test]
    fn only_a_part_no_earlier_cluster_changes_alike_to_may_be_shown() {
        let part = |name: &str, likeness: u8| Part {
            cluster: ClusterRef {
                namespace: "ns".into(),
                name: name.into(),
            },
            plan: Plan::default(),
            likeness: [[likeness; 32], [likeness; 32]],
        };
        let shown = Shown::firsts();
        assert!(shown.may_show(&part("b", 1)));
        // After a cluster that changes alike: never its group's first.
        assert!(!shown.may_show(&part("c", 1)));
        // Before it (a worker may finish it later): perhaps the first.
        assert!(shown.may_show(&part("a", 1)));
        assert!(!shown.may_show(&part("b", 1)));
        // A different change.
        assert!(shown.may_show(&part("d", 2)));
        // Alike by one likeness only: it may be grouped apart.
        let mut half = part("e", 1);
        half.likeness[1] = [3; 32];
        assert!(shown.may_show(&half));
        let every = Shown::every();
        assert!(every.may_show(&part("b", 1)) && every.may_show(&part("c", 1)));
    }

    #[test]
    fn normalised_serialisation_rewrites_every_string_value_and_no_key() {
        let identity = likeness::Identity::new(("prod", "db"), &[], false);
        let value = json!({
            "db": ["db-0.db.prod", 3, null, {"name": "db", "other": "mydb"}],
            "flag": true,
        });
        let name = format!("{}c", likeness::MARK);
        let expected = json!({
            "db": [format!("{name}-0.{name}.prod"), 3, null, {"name": name, "other": "mydb"}],
            "flag": true,
        });
        let mut normalized = String::new();
        compact::write_mapped(&value, &mut normalized, &|s| identity.normalize(s));
        assert_eq!(normalized, serde_json::to_string(&expected).unwrap());
        let digest: [u8; 32] = Sha256::digest(normalized.as_bytes()).into();
        assert_eq!(normalized_digest(&value, &identity), digest);
    }

    /// The plan of `clusters` (namespace, name, setting before, setting after), grouped.
    fn grouped(clusters: &[(&str, &str, &str, &str)]) -> Vec<Vec<String>> {
        let (mut base, mut head) = (Vec::new(), Vec::new());
        for (namespace, cluster, before, after) in clusters {
            // Every cluster's hash is its own, on both sides.
            base.extend(role(
                namespace,
                cluster,
                before,
                &format!("v1-{cluster}{namespace}0"),
            ));
            head.extend(role(
                namespace,
                cluster,
                after,
                &format!("v1-{cluster}{namespace}1"),
            ));
        }
        let plan = plan(&base, &head);
        group(&plan, &base, &head)
            .iter()
            .map(|g| g.clusters.iter().map(ToString::to_string).collect())
            .collect()
    }

    #[test]
    fn an_edit_alike_in_many_clusters_is_one_group_and_a_different_one_another() {
        let groups = grouped(&[
            ("prod", "east", "threads=4", "threads=8"),
            // Its per-member key sorts after the config file's, east's before: still alike.
            ("prod", "zz-north", "threads=4", "threads=8"),
            ("prod", "west", "threads=4", "threads=16"),
            ("staging", "east", "threads=4", "threads=8"),
        ]);
        assert_eq!(
            groups,
            [
                vec!["prod/east", "prod/zz-north", "staging/east"],
                vec!["prod/west"]
            ]
        );
    }

    #[test]
    fn the_part_shown_is_the_first_clusters_own() {
        let (mut base, mut head) = (Vec::new(), Vec::new());
        for cluster in ["west", "east"] {
            base.extend(role("prod", cluster, "x=1", &format!("v1-{cluster}0")));
            head.extend(role("prod", cluster, "x=2", &format!("v1-{cluster}1")));
        }
        head.extend(role("prod", "north", "x=2", "v1-n"));
        let plan = plan(&base, &head);
        let groups = group(&plan, &base, &head);
        assert_eq!(groups.len(), 2, "{groups:#?}");
        assert_eq!(groups[0].clusters.len(), 2);
        assert!(
            groups[0]
                .plan
                .changed
                .iter()
                .all(|c| c.object.cluster == "east")
        );
        assert_eq!(groups[1].plan.added.len(), 2);
        assert_eq!(split(&plan).len(), 3);
    }

    #[test]
    fn diffs_are_counted_by_their_lines() {
        let stat = Stat::of_diff("@@ -1,3 +1,3 @@\n a\n-b\n+c\n+d\n---\n");
        assert_eq!(
            stat,
            Stat {
                insertions: 2,
                deletions: 2
            }
        );
    }
}
