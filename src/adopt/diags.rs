//! What `kdrender adopt` reports, worded in one place.

use crate::diag::Diagnostic;
use crate::source::Origin;

/// The advice for a cluster KubeDirector has not finished with.
const WAIT: &str = "wait until KubeDirector has finished with the cluster (kubectl get kubedirectorcluster NAME shows it configured, every member configured), export it again and adopt that";

pub fn read_failed(shown: &str, error: &std::io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot read {shown}: {error}"))
}

pub fn too_large(shown: &str, limit: u64) -> Diagnostic {
    Diagnostic::error(format!(
        "{shown} is larger than {limit} bytes, the limit for an export"
    ))
}

pub fn not_utf8(shown: &str) -> Diagnostic {
    Diagnostic::error(format!("{shown} is not valid UTF-8"))
}

pub fn no_clusters(shown: &str) -> Diagnostic {
    Diagnostic::error(format!("{shown} holds no KubeDirectorCluster"))
        .help("give it what `kubectl get kubedirectorcluster NAME -n NAMESPACE -o yaml` prints (several names, or none for all, print a List)")
}

pub fn not_a_cluster(kind: &str, at: Origin) -> Diagnostic {
    let kind = if kind.is_empty() {
        "a document without a kind"
    } else {
        kind
    };
    Diagnostic::warning(format!(
        "{kind} is not a KubeDirectorCluster; it is left out of the adoption"
    ))
    .at(at)
}

pub fn undecodable(error: &serde_json::Error, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("this KubeDirectorCluster cannot be read: {error}")).at(at)
}

pub fn duplicate(cluster: &str, namespace: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "cluster \"{cluster}\" in namespace \"{namespace}\" is in the export twice"
    ))
    .at(at)
}

pub fn missing(field: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "{field} is missing: kdrender pins it, and a live KubeDirector always shows it"
    ))
    .at(at)
    .help("export the cluster with `kubectl get kubedirectorcluster NAME -n NAMESPACE -o yaml`, status included")
}

pub fn bad_service_type(found: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "spec.serviceType is \"{found}\"; KubeDirector's member Services are ClusterIP, NodePort or LoadBalancer, and its webhook always sets one"
    ))
    .at(at)
}

pub fn no_status(cluster: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "cluster \"{cluster}\" has no status: there is nothing KubeDirector named to keep"
    ))
    .at(at)
    .help("export it from the live system with `kubectl get kubedirectorcluster NAME -n NAMESPACE -o yaml`; a cluster KubeDirector never ran needs no adoption")
}

pub fn cluster_not_configured(cluster: &str, state: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "cluster \"{cluster}\" is \"{state}\", not \"configured\": KubeDirector has not finished with it, and what it would still do would be lost"
    ))
    .at(at)
    .help(WAIT)
}

pub fn member_not_configured(pod: &str, state: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "member {pod} is \"{state}\", not \"configured\": only a settled cluster can be adopted"
    ))
    .at(at)
    .help(WAIT)
}

pub fn pending_notifications(pod: &str, pending: usize, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "member {pod} has {pending} notification(s) KubeDirector has not delivered yet; nothing would deliver them after the adoption"
    ))
    .at(at)
    .help(WAIT)
}

pub fn ordinal_out_of_place(pod: &str, statefulset: &str, count: usize, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "member {pod} does not fit its role's StatefulSet: its {count} members must be its pods {statefulset}-0 to {statefulset}-{}, each once",
        count.saturating_sub(1)
    ))
    .at(at)
    .help("a gap in the ordinals is a member being removed or replaced; kdrender's StatefulSet would create it again, empty. Wait until KubeDirector has finished, export again and adopt that")
}

pub fn node_id_out_of_range(node_id: i64, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "status.lastNodeID {node_id} is outside what kdrender keeps (0 to 2147483647)"
    ))
    .at(at)
}

pub fn member_node_id(pod: &str, node_id: i64, last: i64, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "member {pod} has node id {node_id}, outside 1 to lastNodeID ({last})"
    ))
    .at(at)
}

pub fn unexpected_claim(pod: &str, pvc: &str, claim: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "member {pod}'s volume is \"{pvc}\", but a StatefulSet's claim template names it \"{claim}\": kdrender's StatefulSet would not bind it"
    ))
    .at(at)
}
