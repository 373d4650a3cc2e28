//! Every problem the resolve stage reports, worded in one place: the rules in `resolve` decide,
//! these constructors say.

use std::fmt::Display;

use crate::diag::Diagnostic;
use crate::names::NameError;
use crate::source::Origin;

/// The advice for a run that is too large.
const SPLIT_THE_RUN: &str = "split the repository into several Applications or folders";

pub fn too_many_clusters(cap: usize, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "more than {cap} clusters to render in one run (this is cluster {})",
        cap.saturating_add(1)
    ))
    .at(at)
    .help(SPLIT_THE_RUN)
}

pub fn too_many_members_in_run(cap: usize, cluster: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "the clusters of this run have more than {cap} members in all (reached at cluster \"{cluster}\")"
    ))
    .at(at)
    .help(SPLIT_THE_RUN)
}

pub fn bad_label(label: &str, problem: &NameError, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("the {label} label would be invalid: {problem}")).at(at)
}

pub fn no_members(cluster: &str, at: Origin) -> Diagnostic {
    Diagnostic::warning(format!(
        "cluster \"{cluster}\" has no members; only its headless Service and configmeta are rendered"
    ))
    .at(at)
}

pub fn duplicate_cluster(
    cluster: &str,
    namespace: &str,
    at: Origin,
    other: impl Display,
) -> Diagnostic {
    Diagnostic::error(format!(
        "two clusters are named \"{cluster}\" in namespace \"{namespace}\""
    ))
    .at(at)
    .help(format!("the other one is at {other}"))
}

pub fn connects_to_itself(at: Origin) -> Diagnostic {
    Diagnostic::warning("a cluster cannot connect to itself; ignored").at(at)
}

pub fn connection_not_rendered(cluster: &str, namespace: &str, at: Origin) -> Diagnostic {
    Diagnostic::warning(format!(
        "connected cluster \"{cluster}\" is not rendered from this repository in namespace \"{namespace}\"; it is left out of configmeta.json"
    ))
    .at(at)
}

pub fn too_many_listed_members(cluster: &str, listed: usize, cap: usize, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "cluster \"{cluster}\" and the clusters it connects to have {listed} members, more than the {cap} its configmeta.json can list"
    ))
    .at(at)
    .help("a connected cluster is embedded whole in configmeta.json, which must fit a 1 MiB ConfigMap; connect fewer clusters")
}

// --- Adoptions ---------------------------------------------------------------------------------

pub fn adopted_role_unknown(role: &str, app: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "the Adoption pins role \"{role}\", which is not a role of app \"{app}\""
    ))
    .at(at)
    .help("an Adoption keeps the names of the roles KubeDirector ran; the app must be the one KubeDirector ran the cluster with")
}

pub fn adopted_volume_unmounted(role: &str, claim: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "role \"{role}\" has no storage here, but KubeDirector gave its members volumes ({claim}, …): their data would not be mounted"
    ))
    .at(at)
    .help("give the role the storage it had under KubeDirector")
}

pub fn adoption_removes_members(
    role: &str,
    running: usize,
    removed: usize,
    at: Origin,
) -> Diagnostic {
    Diagnostic::warning(format!(
        "KubeDirector runs {running} members of role \"{role}\", and this cluster asks for {}: adopting removes the other {removed}, and their volumes are deleted with them",
        running.saturating_sub(removed)
    ))
    .at(at)
    .help("adopt with the members KubeDirector runs, and scale in a change of its own")
}
