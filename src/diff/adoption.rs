//! A first adoption, as what it is: a StatefulSet of a cluster adopted from KubeDirector
//! (it carries [`names::ADOPTED_ANNOTATION`]) that the base did not render is not created. Once
//! KubeDirector's own StatefulSet is deleted with `--cascade=orphan`, it takes over the running
//! pods of the same names, rolls them one at a time, and its claim templates bind the volumes
//! KubeDirector made for them. The plan lists such StatefulSets as adoptions, with the pods and
//! volumes they take over, instead of among the StatefulSets that start, and warns, once per
//! cluster, that it may sync only after the cutover.

use std::collections::BTreeMap;

use serde::Serialize;

use super::plan::{ObjectRef, Plan, Warning, WarningKind};
use super::reasons::at;
use crate::render::{Kind, Object, names};

/// A StatefulSet that takes over a live KubeDirector role.
#[derive(Clone, Debug, Serialize)]
pub struct Adopt {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub role: String,
    /// The annotation's value: the KubeDirectorCluster taken over.
    pub from: String,
    /// The running pods it takes over, by name.
    pub pods: Vec<String>,
    /// The volumes its claim templates bind again, by name.
    pub claims: Vec<String>,
}

/// Moves the StatefulSets among `plan.creates` that adopt KubeDirector's into `plan.adopts`.
pub fn separate(plan: &mut Plan, head: &[Object]) {
    let adopted: Vec<(ObjectRef, Adopt)> = head
        .iter()
        .filter(|object| object.kind == Kind::StatefulSet)
        .filter_map(|object| Some((object, adopted_from(object)?)))
        .map(|(object, from)| {
            let adopt = adopt(object, from);
            (adopt.object.clone(), adopt)
        })
        .filter(|(object, _)| plan.creates.contains(object))
        .collect();
    plan.creates
        .retain(|object| !adopted.iter().any(|(adopts, _)| adopts == object));
    plan.adopts
        .extend(adopted.into_iter().map(|(_, adopt)| adopt));
    plan.adopts.sort_by(|a, b| a.object.cmp(&b.object));
    plan.warnings.extend(cutover_warnings(&plan.adopts));
}

/// One warning per adopted cluster: what to do before the adoption syncs.
fn cutover_warnings(adopts: &[Adopt]) -> Vec<Warning> {
    let mut clusters: BTreeMap<(&str, &str), Vec<&Adopt>> = BTreeMap::new();
    for adopt in adopts {
        let key = (
            adopt.object.namespace.as_str(),
            adopt.object.cluster.as_str(),
        );
        clusters.entry(key).or_default().push(adopt);
    }
    clusters
        .into_iter()
        .map(|((namespace, cluster), adopts)| {
            let statefulsets: Vec<&str> = adopts.iter().map(|a| a.object.name.as_str()).collect();
            let from = adopts.first().map_or("", |a| a.from.as_str());
            Warning {
                object: ObjectRef {
                    namespace: namespace.to_string(),
                    cluster: cluster.to_string(),
                    kind: "KubeDirectorCluster".into(),
                    name: cluster.to_string(),
                },
                warning: WarningKind::Adoption,
                field: None,
                message: format!(
                    "cluster {cluster} takes over a live KubeDirector cluster ({from}); let it sync only after the cutover (docs/migration.md): with KubeDirector still running, `kubectl delete kubedirectorcluster {cluster} -n {namespace} --cascade=orphan`, check that its volumes have no owner left, then `kubectl delete statefulset {} -n {namespace} --cascade=orphan`",
                    statefulsets.join(" ")
                ),
            }
        })
        .collect()
}

fn adopted_from(statefulset: &Object) -> Option<String> {
    let pointer = format!(
        "/metadata/annotations/{}",
        crate::document::pointer_escape(names::ADOPTED_ANNOTATION)
    );
    at(&statefulset.value, &pointer)
        .as_str()
        .map(str::to_string)
}

fn adopt(statefulset: &Object, from: String) -> Adopt {
    let replicas = at(&statefulset.value, "/spec/replicas")
        .as_u64()
        .unwrap_or(0);
    let pods: Vec<String> = (0..replicas)
        .map(|ordinal| names::pod(&statefulset.name, ordinal))
        .collect();
    let templates: Vec<&str> = at(&statefulset.value, "/spec/volumeClaimTemplates")
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|claim| at(claim, "/metadata/name").as_str())
                .collect()
        })
        .unwrap_or_default();
    let claims = pods
        .iter()
        .flat_map(|pod| templates.iter().map(move |t| names::member_claim(t, pod)))
        .collect();
    Adopt {
        object: ObjectRef {
            namespace: statefulset.namespace.clone(),
            cluster: statefulset.cluster.clone(),
            kind: statefulset.kind.to_string(),
            name: statefulset.name.clone(),
        },
        role: statefulset.role.clone().unwrap_or_default(),
        from,
        pods,
        claims,
    }
}

/// A list of names for a line of text: all of them when few, else the first, the last and how
/// many.
pub fn shown(names: &[String]) -> String {
    match (names.first(), names.last()) {
        (Some(first), Some(last)) if names.len() > 4 => {
            format!("{first} … {last} ({})", names.len())
        }
        _ => names.join(", "),
    }
}
