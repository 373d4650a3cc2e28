//! Placement: the pod-spec fields KubeDirector's formats have no field for (node selector,
//! tolerations, priority class, topology spread constraints), given per cluster and role in the
//! settings' `spec.placement`, so that apps and clusters stay valid KubeDirector files.
//!
//! Render writes them into a role's pod template before the patches and the rollout hash, so a
//! change rolls exactly the roles it applies to. An entry that names a cluster or role that no
//! cluster of the run has is an error, like a patch that matches nothing.

use serde_json::{Map, Value};

use crate::diag::Diagnostics;
use crate::load::Document;
use crate::model::Cluster;
use crate::source::Origin;

use super::diags;

/// One entry of `spec.placement`, checked.
#[derive(Clone, Debug)]
pub struct Placement {
    /// The cluster it applies to; `None`: every cluster.
    pub cluster: Option<String>,
    /// The role it applies to; `None`: every role.
    pub role: Option<String>,
    /// The pod-spec fields it sets, by their names in the pod spec.
    pub fields: Map<String, Value>,
    /// The entry in the settings file.
    pub origin: Origin,
}

/// The settings' placement entries (the schema has checked their fields).
pub fn check(document: &Document, raw: Vec<crate::raw::Placement>) -> Vec<Placement> {
    raw.into_iter()
        .enumerate()
        .map(|(index, raw)| {
            // Messages point at the name that selects the roles, else at the entry.
            let entry = format!("/spec/placement/{index}");
            let named = match (&raw.role, &raw.cluster) {
                (Some(_), _) => format!("{entry}/role"),
                (None, Some(_)) => format!("{entry}/cluster"),
                (None, None) => entry,
            };
            let fields = [
                (
                    "nodeSelector",
                    raw.node_selector.map(|s| serde_json::json!(s)),
                ),
                ("tolerations", raw.tolerations),
                (
                    "priorityClassName",
                    raw.priority_class_name.map(Value::from),
                ),
                ("topologySpreadConstraints", raw.topology_spread_constraints),
            ];
            Placement {
                cluster: raw.cluster,
                role: raw.role,
                fields: fields
                    .into_iter()
                    .filter_map(|(name, value)| Some((name.to_string(), value?)))
                    .collect(),
                origin: document.origin(&named),
            }
        })
        .collect()
}

/// Writes the fields of every entry that applies to the role into its StatefulSet's pod spec,
/// in order (a later entry's field replaces an earlier one's).
pub fn apply(placement: &[Placement], cluster: &str, role: &str, statefulset: &mut Value) {
    let Some(pod_spec) = statefulset
        .pointer_mut("/spec/template/spec")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for entry in placement.iter().filter(|e| e.applies_to(cluster, role)) {
        for (name, value) in &entry.fields {
            pod_spec.insert(name.clone(), value.clone());
        }
    }
}

impl Placement {
    fn applies_to(&self, cluster: &str, role: &str) -> bool {
        self.cluster.as_deref().is_none_or(|c| c == cluster)
            && self.role.as_deref().is_none_or(|r| r == role)
    }
}

/// Entries that apply to no role of the clusters read: a misspelt name would silently leave the
/// pods unplaced. With only some clusters rendered (`partial`: the Argo CD `clusters`
/// parameter), an entry naming another cluster is fine.
pub fn check_targets(
    placement: &[Placement],
    clusters: &[Cluster],
    partial: bool,
    diagnostics: &mut Diagnostics,
) {
    for entry in placement {
        let applies = clusters.iter().any(|cluster| {
            cluster
                .roles
                .iter()
                .any(|role| entry.applies_to(&cluster.name, &role.id))
        });
        let elsewhere = partial && entry.cluster.is_some();
        if !applies && !elsewhere {
            diagnostics.push(diags::placement_matches_nothing(entry.origin));
        }
    }
}
