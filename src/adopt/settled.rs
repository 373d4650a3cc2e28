//! Whether an exported cluster may be adopted, and its Adoption if so.
//!
//! Only a settled cluster may be: KubeDirector has finished with it (`status.state` is
//! `configured`), every member is `configured` (not being created, deleted, or failed in its
//! setup), no member has notifications KubeDirector has not delivered yet (kdrender's setup
//! runner would never deliver them), and each role's members are its StatefulSet's pods with
//! ordinals 0…n-1, each once (a gap is a member being replaced, which kdrender's StatefulSet
//! would create again empty). The identity kdrender pins must be there too: the namespace, the
//! UID, the service type, the headless Service, and node ids no higher than `lastNodeID`. Every
//! problem is reported, not only the first.

use serde_json::{Value, json};

use super::diags;
use super::export::{Cluster, MemberStatus, RoleStatus, Status};
use crate::diag::Diagnostics;
use crate::document::Node;
use crate::render::names as object_names;
use crate::source::{FileId, Origin};

/// KubeDirector's word for a cluster, and a member, that it has finished configuring.
const CONFIGURED: &str = "configured";
/// The service types a member Service may have.
const SERVICE_TYPES: [&str; 3] = ["ClusterIP", "NodePort", "LoadBalancer"];
/// The highest node id an Adoption holds (the schema's bound: room above it for new members).
const MAX_NODE_ID: i64 = 2_147_483_647;

/// Where an exported cluster was written: its file, its document, and the pointer to it.
pub struct Place<'d> {
    pub file: FileId,
    pub root: &'d Node,
    pub base: String,
}

impl Place<'_> {
    fn at(&self, pointer: &str) -> Origin {
        Origin {
            file: self.file,
            span: self.root.locate(&format!("{}{pointer}", self.base), false),
        }
    }
}

/// The Adoption of one exported cluster; `None` when it may not be adopted (reported).
pub fn adoption(
    cluster: &Cluster,
    place: &Place<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<Value> {
    let errors_before = diagnostics.error_count();
    let name = &cluster.metadata.name;
    check_identity(cluster, place, diagnostics);
    let Some(status) = &cluster.status else {
        diagnostics.push(diags::no_status(name, place.at("")));
        return None;
    };
    check_status(name, status, place, diagnostics);
    let roles: Vec<Value> = (status.roles.iter().enumerate())
        .filter_map(|(i, role)| adopted_role(role, i, status.last_node_id, place, diagnostics))
        .collect();
    if diagnostics.error_count() > errors_before {
        return None;
    }
    let naming_scheme = match cluster.spec.naming_scheme.as_str() {
        "CrNameRole" => "CrNameRole",
        _ => "UID",
    };
    Some(json!({
        "apiVersion": "kdrender.dev/v1alpha1",
        "kind": "Adoption",
        "metadata": {"name": name, "namespace": cluster.metadata.namespace},
        "spec": {
            "id": cluster.metadata.uid,
            "clusterService": status.cluster_service,
            "serviceType": cluster.spec.service_type,
            "namingScheme": naming_scheme,
            "lastNodeID": status.last_node_id,
            "roles": roles,
        },
    }))
}

/// What kdrender pins of the cluster's own identity is in the export.
fn check_identity(cluster: &Cluster, place: &Place<'_>, diagnostics: &mut Diagnostics) {
    let metadata = &cluster.metadata;
    for (field, value) in [
        ("metadata.name", &metadata.name),
        ("metadata.namespace", &metadata.namespace),
        ("metadata.uid", &metadata.uid),
    ] {
        if value.is_empty() {
            diagnostics.push(diags::missing(field, place.at("/metadata")));
        }
    }
    let service_type = &cluster.spec.service_type;
    if !SERVICE_TYPES.contains(&service_type.as_str()) {
        diagnostics.push(diags::bad_service_type(
            service_type,
            place.at("/spec/serviceType"),
        ));
    }
}

/// KubeDirector has finished with the cluster, and named its headless Service.
fn check_status(name: &str, status: &Status, place: &Place<'_>, diagnostics: &mut Diagnostics) {
    if status.state != CONFIGURED {
        diagnostics.push(diags::cluster_not_configured(
            name,
            &status.state,
            place.at("/status/state"),
        ));
    }
    if status.cluster_service.is_empty() {
        diagnostics.push(diags::missing("status.clusterService", place.at("/status")));
    }
    if !(0..=MAX_NODE_ID).contains(&status.last_node_id) {
        let at = place.at("/status/lastNodeID");
        diagnostics.push(diags::node_id_out_of_range(status.last_node_id, at));
    }
}

/// A role's pinned names: its StatefulSet and its members in ordinal order. A role KubeDirector
/// has removed (no StatefulSet, no members) is left out.
fn adopted_role(
    role: &RoleStatus,
    index: usize,
    last_node_id: i64,
    place: &Place<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<Value> {
    let pointer = format!("/status/roles/{index}");
    if role.stateful_set.is_empty() {
        if !role.members.is_empty() {
            diagnostics.push(diags::missing("statefulSet", place.at(&pointer)));
        }
        return None;
    }
    let Some(by_ordinal) = ordinals(role, &pointer, place, diagnostics) else {
        // Every reason is reported: the members are checked even when they do not fit.
        for (i, member) in role.members.iter().enumerate() {
            let at = format!("{pointer}/members/{i}");
            check_member(member, &at, last_node_id, place, diagnostics);
        }
        return None;
    };
    let members: Vec<Value> = by_ordinal
        .into_iter()
        .map(|(i, member)| {
            let at = format!("{pointer}/members/{i}");
            check_member(member, &at, last_node_id, place, diagnostics);
            adopted_member(member)
        })
        .collect();
    Some(json!({"id": role.id, "statefulSet": role.stateful_set, "members": members}))
}

/// The members in ordinal order, with their index in the export; `None` (reported) unless the
/// pods are exactly `<statefulSet>-0` … `<statefulSet>-<n-1>`.
fn ordinals<'r>(
    role: &'r RoleStatus,
    pointer: &str,
    place: &Place<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<(usize, &'r MemberStatus)>> {
    let prefix = format!("{}-", role.stateful_set);
    let mut slots: Vec<Option<(usize, &MemberStatus)>> = vec![None; role.members.len()];
    let mut fits = true;
    for (i, member) in role.members.iter().enumerate() {
        let ordinal = (member.pod.strip_prefix(&prefix))
            .filter(|digits| !digits.starts_with('0') || *digits == "0")
            .and_then(|digits| digits.parse::<usize>().ok());
        let at = place.at(&format!("{pointer}/members/{i}/pod"));
        match ordinal.and_then(|o| slots.get_mut(o)) {
            Some(slot @ None) => *slot = Some((i, member)),
            _ => {
                fits = false;
                let count = role.members.len();
                diagnostics.push(diags::ordinal_out_of_place(
                    &member.pod,
                    &role.stateful_set,
                    count,
                    at,
                ));
            }
        }
    }
    fits.then(|| slots.into_iter().flatten().collect())
}

/// A member is configured, has nothing left to be told, and has a node id and volume that fit.
fn check_member(
    member: &MemberStatus,
    pointer: &str,
    last_node_id: i64,
    place: &Place<'_>,
    diagnostics: &mut Diagnostics,
) {
    let pod = &member.pod;
    if member.state != CONFIGURED {
        let at = place.at(&format!("{pointer}/state"));
        diagnostics.push(diags::member_not_configured(pod, &member.state, at));
    }
    let pending = member.state_detail.pending_notify_cmds.len();
    if pending > 0 {
        let at = place.at(&format!("{pointer}/stateDetail/pendingNotifyCmds"));
        diagnostics.push(diags::pending_notifications(pod, pending, at));
    }
    if !(1..=last_node_id.min(MAX_NODE_ID)).contains(&member.node_id) {
        let at = place.at(&format!("{pointer}/nodeID"));
        diagnostics.push(diags::member_node_id(pod, member.node_id, last_node_id, at));
    }
    let claim = object_names::member_claim(object_names::PERSISTED_CLAIM, pod);
    if !member.pvc.is_empty() && member.pvc != claim {
        let at = place.at(&format!("{pointer}/pvc"));
        diagnostics.push(diags::unexpected_claim(pod, &member.pvc, &claim, at));
    }
}

fn adopted_member(member: &MemberStatus) -> Value {
    let mut value = json!({"pod": member.pod, "nodeID": member.node_id});
    if let Value::Object(map) = &mut value {
        for (key, text) in [("service", &member.service), ("pvc", &member.pvc)] {
            if !text.is_empty() {
                map.insert(key.to_string(), json!(text));
            }
        }
    }
    value
}
