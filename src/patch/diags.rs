//! Every message about patches: their checks on load and their application to rendered objects.
//! Each is pointed at the patch in the settings file.

use crate::diag::Diagnostic;
use crate::source::Origin;

pub fn bad_selector(problem: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("this label selector cannot be read: {problem}")).at(at)
}

pub fn bad_operations(error: &serde_json::Error, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("these JSON Patch operations cannot be read: {error}"))
        .at(at)
        .help("each operation is {op, path} with `value` for add, replace and test, `from` for move and copy (RFC 6902)")
}

pub fn matches_nothing(at: Origin) -> Diagnostic {
    Diagnostic::error("this patch matches no rendered object")
        .at(at)
        .label("no object has this kind, name, namespace and labels")
        .help("a patch that silently stops applying would drop its change from the live system; kdrender renders ConfigMap, NetworkPolicy, PodDisruptionBudget, Service and StatefulSet objects")
}

pub fn placement_matches_nothing(at: Origin) -> Diagnostic {
    Diagnostic::error("this placement entry applies to no role of any cluster")
        .at(at)
        .label("no cluster has a role with this cluster name and role id")
        .help("a misspelt name would leave the pods placed anywhere; `cluster` is a cluster's metadata.name, `role` a role id")
}

pub fn cannot_apply(object: &str, error: &json_patch::PatchError, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("this patch cannot be applied to {object}: {error}")).at(at)
}

pub fn changes_identity(object: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "this patch changes the apiVersion, kind, name or namespace of {object}"
    ))
    .at(at)
    .help("a patch changes an object; it cannot turn it into another one")
}

pub fn changes_config_data(object: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("this patch changes the data of {object}"))
        .at(at)
        .help("config files come from the app's templates, where the rollout hash sees them; a patched file would change without restarting the pods that read it")
}

/// The patched object broke Kubernetes' schema of its kind: the first problems, one a line.
pub fn breaks_schema(object: &str, problems: &[String], at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "this patch leaves {object} invalid for Kubernetes: {}",
        problems.join("; ")
    ))
    .at(at)
}
