//! The comparison, cluster by cluster: each cluster of the working tree is compared with the
//! base's kept objects ([`super::kept`]) as soon as it is rendered, on the worker that rendered
//! it ([`compare`]), into its part of the plan ([`fleet::Part`]). Only objects that differ are
//! parsed back from their text; an object equal on both sides lends its tree to the base (or,
//! beyond StatefulSets and ConfigMaps, whose trees the plan reads, both sides stand in with
//! `null`, equal as the objects are).
//!
//! The plan matches objects by kind, namespace and name, not by cluster. A cluster whose
//! objects the base holds under another cluster, or that lacks some of its base objects
//! (removed, or moved to another cluster), is therefore kept compact and compared once the
//! whole working tree is rendered ([`settle`]), with every object either side holds under its
//! keys; so are the base's clusters the working tree no longer renders.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::fleet::{self, ClusterRef, Part, Shown, Sides};
use super::kept::{Kept, Key, Side};
use super::plan;
use crate::render::{Kind, Object};

/// What comparing one cluster of the working tree leaves.
#[derive(Debug)]
pub enum Compared {
    /// A cluster `--cluster` leaves out.
    Left,
    /// Compared: its part of the plan (`None` when it does not change).
    Done(ClusterRef, Option<Box<Part>>),
    /// Its objects, kept, for [`settle`].
    Held(Vec<Kept>),
}

/// One rendered cluster of the working tree compared with the base: what is left of it, its
/// name (`None` for a cluster without objects) and its size as compact JSON (for the output
/// limit). `names`: `--cluster`'s clusters (every cluster when empty).
pub fn compare(
    objects: Vec<Object>,
    base: &Side,
    names: &[String],
    shown: &Shown,
) -> ((Compared, Option<String>), usize) {
    let Some(first) = objects.first() else {
        return ((Compared::Left, None), 0);
    };
    let name = first.cluster.clone();
    let cluster = ClusterRef {
        namespace: first.namespace.clone(),
        name: name.clone(),
    };
    if !names.is_empty() && !names.contains(&name) {
        let size = objects
            .iter()
            .map(|o| crate::emit::json_size(&o.value))
            .sum();
        return ((Compared::Left, Some(name)), size);
    }
    if !self_contained(&cluster, &objects, base) {
        let kept: Vec<Kept> = objects.into_iter().map(Kept::keep).collect();
        let size = kept.iter().map(Kept::size).sum();
        return ((Compared::Held(kept), Some(name)), size);
    }
    let (base_objects, head, size) = paired(objects, base);
    let outline = plan::outline(&base_objects, &head);
    let part = fleet::split(&outline).remove(&cluster).map(|part| {
        let sides = Sides::new(&base_objects, &head);
        let mut part = Part::of(cluster.clone(), part, &sides);
        // Unified diffs are half the plan's cost: made only for parts that may be shown.
        if shown.may_show(&part) {
            part.plan.add_diffs(&sides.base, &sides.head);
        }
        Box::new(part)
    });
    ((Compared::Done(cluster, part), Some(name)), size)
}

/// Whether the cluster's part of the plan can be told from its own objects on both sides: all
/// of them belong to it, the base holds none of their keys under another cluster, and it
/// renders every object the base holds under it.
fn self_contained(cluster: &ClusterRef, objects: &[Object], base: &Side) -> bool {
    let mut paired = 0usize;
    for object in objects {
        if object.namespace != cluster.namespace || object.cluster != cluster.name {
            return false;
        }
        match base.find(object.kind, &object.namespace, &object.name) {
            Some(kept) if kept.cluster != object.cluster => return false,
            Some(_) => paired = paired.saturating_add(1),
            None => {}
        }
    }
    base.cluster(cluster).count() == paired
}

/// The base's objects for the cluster's `objects` (each parsed back where it differs), the
/// objects themselves, and their size as compact JSON.
fn paired(mut objects: Vec<Object>, base: &Side) -> (Vec<Object>, Vec<Object>, usize) {
    let mut size = 0usize;
    let mut before = Vec::new();
    for object in &mut objects {
        let Some(kept) = base.find(object.kind, &object.namespace, &object.name) else {
            size = size.saturating_add(crate::emit::json_size(&object.value));
            continue;
        };
        let (same, object_size) = kept.same_as(&object.value);
        size = size.saturating_add(object_size);
        if !same {
            before.push(kept.object());
        } else if matches!(object.kind, Kind::StatefulSet | Kind::ConfigMap) {
            before.push(kept.with_value(object.value.clone()));
        } else {
            object.value = Value::Null;
            before.push(kept.with_value(Value::Null));
        }
    }
    (before, objects, size)
}

/// The parts of the clusters [`compare`] held, and of the base's clusters the working tree does
/// not render (`done`: the clusters compared already), each compared with every object either
/// side holds under its keys.
pub fn settle(held: Vec<Kept>, base: &Side, done: &BTreeSet<ClusterRef>) -> Vec<Part> {
    let head = Side::new(held, BTreeSet::new());
    let clusters: BTreeSet<&ClusterRef> = head
        .clusters()
        .chain(base.clusters().filter(|c| !done.contains(*c)))
        .collect();
    let mut parts = Vec::new();
    for cluster in clusters {
        let mut before: BTreeMap<Key, &Kept> = BTreeMap::new();
        let mut after: BTreeMap<Key, &Kept> = BTreeMap::new();
        for kept in base.cluster(cluster) {
            before.insert(kept.key(), kept);
            after.extend(head.get(&kept.key()).map(|k| (kept.key(), k)));
        }
        for kept in head.cluster(cluster) {
            after.insert(kept.key(), kept);
            before.extend(base.get(&kept.key()).map(|k| (kept.key(), k)));
        }
        let base_objects: Vec<Object> = before.values().map(|k| k.object()).collect();
        let head_objects: Vec<Object> = after.values().map(|k| k.object()).collect();
        let plan = plan::plan(&base_objects, &head_objects);
        if let Some(part) = fleet::split(&plan).remove(cluster) {
            let sides = Sides::new(&base_objects, &head_objects);
            parts.push(Part::of(cluster.clone(), part, &sides));
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::plan::Plan;
    use crate::render::RolloutFacts;
    use serde_json::json;

    fn object(kind: Kind, cluster: &str, name: &str, value: Value) -> Object {
        Object {
            value,
            kind,
            name: name.into(),
            namespace: "prod".into(),
            cluster: cluster.into(),
            role: Some("worker".into()),
            origin: crate::source::Origin {
                file: crate::source::FileId(0),
                span: crate::source::Span::default(),
            },
            rollout: (kind == Kind::StatefulSet).then(|| Box::new(RolloutFacts::default())),
            patches: Vec::new(),
        }
    }

    /// The plan and groups as `diff` makes them: the base kept, the head compared cluster by
    /// cluster (in render order), the rest settled; with `shown`'s diffs.
    fn compared(base: Vec<Object>, head: Vec<Object>, shown: &Shown) -> (Plan, Vec<fleet::Group>) {
        let base = Side::new(base.into_iter().map(Kept::keep).collect(), BTreeSet::new());
        let mut by_cluster: BTreeMap<String, Vec<Object>> = BTreeMap::new();
        for object in head {
            by_cluster
                .entry(object.cluster.clone())
                .or_default()
                .push(object);
        }
        let (mut parts, mut held, mut done) = (Vec::new(), Vec::new(), BTreeSet::new());
        for objects in by_cluster.into_values() {
            match compare(objects, &base, &[], shown).0.0 {
                Compared::Done(cluster, part) => {
                    parts.extend(part.map(|part| *part));
                    done.insert(cluster);
                }
                Compared::Held(kept) => held.extend(kept),
                Compared::Left => {}
            }
        }
        parts.extend(settle(held, &base, &done));
        parts.sort_by(|a, b| a.cluster.cmp(&b.cluster));
        fleet::gather(parts)
    }

    /// The plan and groups of the whole trees compared at once.
    fn at_once(base: &[Object], head: &[Object]) -> (Plan, Vec<fleet::Group>) {
        let plan = plan::plan(base, head);
        let groups = fleet::group(&plan, base, head);
        (plan, groups)
    }

    /// Cluster `name`: a files ConfigMap saying `setting`, a StatefulSet whose template carries
    /// `hash`, a Service and a PodDisruptionBudget.
    fn cluster(name: &str, setting: &str, hash: &str) -> Vec<Object> {
        let statefulset = format!("{name}-worker");
        vec![
            object(
                Kind::ConfigMap,
                name,
                &format!("{statefulset}-files"),
                json!({"data": {"w.conf": setting}}),
            ),
            object(
                Kind::StatefulSet,
                name,
                &statefulset,
                json!({"spec": {"replicas": 2, "template": {"metadata": {"annotations": {crate::hash::ANNOTATION: hash}}}}}),
            ),
            object(
                Kind::Service,
                name,
                name,
                json!({"spec": {"clusterIP": "None"}}),
            ),
            object(
                Kind::PodDisruptionBudget,
                name,
                &statefulset,
                json!({"spec": {}}),
            ),
        ]
    }

    #[test]
    fn equal_objects_beside_changed_ones_and_an_equal_object_moving_clusters_plan_as_at_once() {
        let mut base = Vec::new();
        let mut head = Vec::new();
        for name in ["alpha", "bravo", "charlie", "delta"] {
            base.extend(cluster(name, "x=1", "h0"));
        }
        // alpha and bravo change alike, charlie otherwise; delta's config file is equal as text on both sides,
        // only its pod template changes.
        head.extend(cluster("alpha", "x=2", "h1"));
        head.extend(cluster("bravo", "x=2", "h1"));
        head.extend(cluster("charlie", "x=3", "h2"));
        head.extend(cluster("delta", "x=1", "h3"));
        // The base's Service "e" of cluster "m" is, equal as text, cluster "e"'s in the working
        // tree: neither removed nor changed, and m (whose other object stays) does not change.
        let service = json!({"spec": {"clusterIP": "None"}});
        base.push(object(Kind::Service, "m", "e", service.clone()));
        base.push(object(Kind::Service, "m", "m", service.clone()));
        head.push(object(Kind::Service, "e", "e", service.clone()));
        head.push(object(Kind::Service, "m", "m", service));
        let (plan, groups) = compared(base.clone(), head.clone(), &Shown::every());
        let (whole_plan, whole_groups) = at_once(&base, &head);
        assert_eq!(format!("{plan:?}"), format!("{whole_plan:?}"));
        assert_eq!(format!("{groups:?}"), format!("{whole_groups:?}"));
        // Text shows the groups only: their parts are whole, and bravo's diffs, never shown,
        // are left out.
        let (text_plan, text_groups) = compared(base.clone(), head.clone(), &Shown::firsts());
        assert_eq!(format!("{text_groups:?}"), format!("{whole_groups:?}"));
        let diffs = |plan: &Plan, cluster: &str| -> Vec<String> {
            let changed = plan.changed.iter().filter(|c| c.object.cluster == cluster);
            changed.map(|c| c.diff.clone()).collect()
        };
        assert_eq!(diffs(&whole_plan, "bravo").len(), 2);
        assert!(diffs(&whole_plan, "bravo").iter().all(|d| !d.is_empty()));
        assert_eq!(diffs(&text_plan, "bravo"), ["", ""]);
        assert_eq!(diffs(&text_plan, "alpha"), diffs(&whole_plan, "alpha"));
        let clusters: Vec<Vec<String>> = groups
            .iter()
            .map(|g| g.clusters.iter().map(ToString::to_string).collect())
            .collect();
        assert_eq!(
            clusters,
            [
                vec!["prod/alpha", "prod/bravo"],
                vec!["prod/charlie"],
                vec!["prod/delta"]
            ]
        );
        assert_eq!(plan.restarts.len(), 4);
        assert!(plan.removed.is_empty() && plan.added.is_empty());
    }
}
