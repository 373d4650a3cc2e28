//! What the Adoption rules report, worded in one place.

use std::fmt::Display;

use crate::diag::Diagnostic;
use crate::source::Origin;

/// The help every refusal of a pinned name ends with.
const REGENERATE: &str = "write the Adoption again with `kdrender adopt` from `kubectl get kubedirectorcluster NAME -o yaml`";

pub fn duplicate(cluster: &str, namespace: &str, at: Origin, first: impl Display) -> Diagnostic {
    Diagnostic::error(format!(
        "two Adoptions belong to cluster \"{cluster}\" in namespace \"{namespace}\""
    ))
    .at(at)
    .help(format!("the other one is at {first}"))
}

/// An Adoption whose cluster is not below the rendered folder (or renders elsewhere).
pub fn no_cluster<'k>(
    (namespace, cluster): &(String, String),
    elsewhere: impl Iterator<Item = &'k (String, String)>,
    at: Origin,
) -> Diagnostic {
    let diagnostic = Diagnostic::error(format!(
        "this Adoption belongs to cluster \"{cluster}\" in namespace \"{namespace}\", and no KubeDirectorCluster below the rendered folder renders there"
    ))
    .at(at);
    let namespaces: Vec<String> = elsewhere.map(|(ns, _)| format!("\"{ns}\"")).collect();
    if namespaces.is_empty() {
        diagnostic.help("an Adoption pins the names of the cluster of the same name; without it, the Adoption would silently pin nothing")
    } else {
        diagnostic.help(format!(
            "\"{cluster}\" renders into namespace {}: set its metadata.namespace (or --namespace) to the namespace KubeDirector ran it in",
            namespaces.join(", ")
        ))
    }
}

pub fn pod_out_of_order(pod: &str, expected: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "member pod \"{pod}\" should be \"{expected}\": a StatefulSet names its pods <statefulSet>-<ordinal>, and the members are listed in ordinal order from 0"
    ))
    .at(at)
    .help(REGENERATE)
}

pub fn claim_not_bound(pvc: &str, claim: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "volume \"{pvc}\" would not be bound again: the StatefulSet's claim template names this member's volume \"{claim}\""
    ))
    .at(at)
    .help(REGENERATE)
}

pub fn node_id_above_last(node_id: u32, last: u32, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "node id {node_id} is above lastNodeID {last}: members added later would be given it again"
    ))
    .at(at)
    .help(REGENERATE)
}

pub fn repeated_node_id(node_id: u32, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("node id {node_id} is given to two members"))
        .at(at)
        .help(REGENERATE)
}

pub fn service_type_changes(own: &str, adopted: &str, at: Origin) -> Diagnostic {
    Diagnostic::warning(format!(
        "serviceType {own} replaces {adopted}, which KubeDirector gave this cluster's member Services (the Adoption's serviceType): adopting changes their type, and with it their addresses"
    ))
    .at(at)
}

pub fn live_status_without_adoption(cluster: &str, at: Origin) -> Diagnostic {
    Diagnostic::warning(format!(
        "cluster \"{cluster}\" carries a live KubeDirector's status, but no Adoption: it renders under new names, so its members would start over on new, empty volumes instead of the ones KubeDirector gave them"
    ))
    .at(at)
    .help("to move a live cluster over with its data, run `kdrender adopt` on `kubectl get kubedirectorcluster NAME -o yaml` and keep its output next to this file (docs/migration.md); to start afresh, delete the status")
}
