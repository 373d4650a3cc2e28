//! Node ids (configmeta.json's `node.id` and each role's `node_ids`), counted as KubeDirector
//! counts them for a new cluster: 1, 2, … N, one per member.
//!
//! KubeDirector hands out ids from a counter kept in the cluster's status (`lastNodeID`) as it
//! creates members, and never hands one out twice. A renderer keeps no state, so the order is
//! defined instead: the roles in the app's order, and within a role its members by ordinal. For
//! a new cluster this gives KubeDirector's ids up to the order of the roles (KubeDirector creates
//! the roles of a new cluster in an order it does not define, each role's members in a block in
//! ordinal order). Where the two must differ: a role that grows or shrinks renumbers the
//! members of the roles after it (KubeDirector would give the new members the next ids and keep
//! every other), and a member that comes back after a scale-down gets its old id again. Growing
//! the last role, or only adding roles after the others, changes no existing id.
//!
//! An Adoption is the counter's state: adopted members keep the ids KubeDirector gave them, and
//! every other member counts on from `lastNodeID`, in the same order. A new cluster is the case
//! of no state: counting starts after 0.

use crate::model::{Adoption, App, Cluster};

/// Each role's node ids, in the app's role order: one per member the cluster asks for.
pub fn count(app: &App, cluster: &Cluster, adoption: Option<&Adoption>) -> Vec<Vec<u32>> {
    let mut next = adoption.map_or(0, |a| a.last_node_id);
    app.roles
        .iter()
        .map(|app_role| {
            let members = cluster
                .roles
                .iter()
                .find(|r| r.id == app_role.id)
                .map_or(0, |r| r.members);
            let adopted = adoption.and_then(|a| a.role(&app_role.id));
            (0..members)
                .map(|ordinal| {
                    let pinned =
                        adopted.and_then(|role| role.members.get(usize::try_from(ordinal).ok()?));
                    match pinned {
                        Some(member) => member.node_id,
                        None => {
                            next = next.saturating_add(1);
                            next
                        }
                    }
                })
                .collect()
        })
        .collect()
}
