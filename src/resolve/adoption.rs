//! An Adoption against the cluster it belongs to: every role it pins is a role of the app; a
//! member KubeDirector gave a volume still gets one (its role has storage), or its data would
//! not be mounted; and adopting with fewer members than KubeDirector runs, which removes the
//! others with their volumes, is a warning.

use crate::diag::Diagnostics;
use crate::model::{AdoptedRole, Adoption, App, Cluster};

use super::diags;

pub fn check(adoption: &Adoption, app: &App, cluster: &Cluster, diagnostics: &mut Diagnostics) {
    for adopted in &adoption.roles {
        if app.role(&adopted.id).is_none() {
            diagnostics.push(diags::adopted_role_unknown(
                &adopted.id,
                &app.name,
                adopted.origin,
            ));
            continue;
        }
        check_role(adopted, cluster, diagnostics);
    }
}

/// One adopted role against the cluster's role of the same id.
fn check_role(adopted: &AdoptedRole, cluster: &Cluster, diagnostics: &mut Diagnostics) {
    let role = cluster.roles.iter().find(|r| r.id == adopted.id);
    let members = role.map_or(0, |r| r.members);
    let kept = usize::try_from(members).unwrap_or(usize::MAX);
    if let Some(removed) = adopted.members.len().checked_sub(kept).filter(|n| *n > 0) {
        let at = role.map_or(cluster.origin, |r| r.origin);
        let running = adopted.members.len();
        diagnostics.push(diags::adoption_removes_members(
            &adopted.id,
            running,
            removed,
            at,
        ));
    }
    let has_storage = role.is_some_and(|r| r.storage.is_some());
    for member in adopted.members.iter().take(kept) {
        if let (Some(claim), false) = (&member.claim, has_storage) {
            let at = role.map_or(cluster.origin, |r| r.origin);
            diagnostics.push(diags::adopted_volume_unmounted(&adopted.id, claim, at));
        }
    }
}
