//! `Adoption` documents (what `kdrender adopt` writes): each checked against its schema and
//! against the shape of KubeDirector's own names, then matched to the cluster it belongs to by
//! namespace and name.
//!
//! Rules: one Adoption per cluster, and a cluster below the rendered folder for each; roles
//! listed once; each role's members are its StatefulSet's pods `<statefulSet>-0`, `-1`, … in
//! order, with the volumes its claim template names (`p-<pod>`), so that the volumes bind again;
//! node ids appear once and none above `lastNodeID`; Service names begin with a letter. A
//! cluster document that names its own `serviceType` keeps it (a warning when it differs from
//! KubeDirector's). A cluster file that still carries a live KubeDirector's `status` but has no
//! Adoption would get new names and new, empty volumes: a warning says so.

mod diags;

use std::collections::BTreeMap;

use crate::diag::Diagnostics;
use crate::load::{Document, Inputs};
use crate::model::{AdoptedMember, AdoptedRole, Adoption, NamingScheme, ServiceType, Settings};
use crate::names;
use crate::raw;
use crate::render::names as object_names;

use super::{Overrides, SchemaKind};

/// A cluster by the namespace it renders into and its name.
type ClusterKey = (String, String);

/// Every Adoption, by the cluster it belongs to; documents that break a rule are reported and
/// left out.
pub fn validate(
    inputs: &Inputs,
    settings: &Settings,
    overrides: &Overrides,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<ClusterKey, Adoption> {
    let clusters = cluster_documents(inputs, settings);
    let mut adoptions = BTreeMap::new();
    let mut seen: BTreeMap<ClusterKey, &Document> = BTreeMap::new();
    for document in &inputs.adoptions {
        let Some(raw) = super::decode::<raw::Adoption>(SchemaKind::Adoption, document, diagnostics)
        else {
            continue;
        };
        let key = (raw.metadata.namespace.clone(), raw.metadata.name.clone());
        if let Some(first) = seen.get(&key) {
            let first = inputs.sources.describe(first.origin("/metadata/name"));
            let at = document.origin("/metadata/name");
            diagnostics.push(diags::duplicate(&key.1, &key.0, at, first));
            continue;
        }
        seen.insert(key.clone(), document);
        let Some(cluster) = clusters.get(&key) else {
            let elsewhere = clusters.keys().filter(|(_, name)| *name == key.1);
            let at = document.origin("/metadata/namespace");
            diagnostics.push(diags::no_cluster(&key, elsewhere, at));
            continue;
        };
        if let Some(adoption) = adoption(raw, document, cluster, diagnostics) {
            adoptions.insert(key, adoption);
        }
    }
    warn_live_status(&clusters, &seen, overrides, diagnostics);
    adoptions
}

/// A cluster an Adoption belongs to keeps the names KubeDirector gave it under its
/// `namingScheme`, so the scheme is honoured rather than ignored: nothing to warn about.
pub fn keeping_names(
    mut cluster: raw::Cluster,
    adoptions: &BTreeMap<ClusterKey, Adoption>,
    settings: &Settings,
) -> raw::Cluster {
    let namespace =
        (cluster.metadata.namespace.clone()).unwrap_or_else(|| settings.namespace.clone());
    if adoptions.contains_key(&(namespace, cluster.metadata.name.clone())) {
        cluster.spec.naming_scheme = None;
    }
    cluster
}

/// The cluster documents below the rendered folder, by the namespace each renders into (its
/// own, else the settings', which the command line has already overridden) and its name.
fn cluster_documents<'i>(
    inputs: &'i Inputs,
    settings: &Settings,
) -> BTreeMap<ClusterKey, &'i Document> {
    let mut clusters = BTreeMap::new();
    for document in &inputs.clusters {
        let metadata = document.root.get("metadata");
        let text = |key: &str| metadata.and_then(|m| m.get(key)).and_then(|n| n.as_str());
        let Some(name) = text("name") else { continue };
        let namespace = text("namespace").unwrap_or(&settings.namespace);
        clusters
            .entry((namespace.to_string(), name.to_string()))
            .or_insert(document);
    }
    clusters
}

/// One Adoption, checked; `None` when it breaks a rule (reported).
fn adoption(
    raw: raw::Adoption,
    document: &Document,
    cluster: &Document,
    diagnostics: &mut Diagnostics,
) -> Option<Adoption> {
    let errors_before = diagnostics.error_count();
    let spec = raw.spec;
    check_service_name(
        &spec.cluster_service,
        document,
        "/spec/clusterService",
        diagnostics,
    );
    let ids = spec
        .roles
        .iter()
        .enumerate()
        .map(|(i, role)| (format!("/spec/roles/{i}/id"), role.id.as_str()));
    super::check_unique(document, "role", ids, diagnostics);
    let roles: Vec<AdoptedRole> = (spec.roles.into_iter().enumerate())
        .map(|(i, role)| adopted_role(role, i, document, diagnostics))
        .collect();
    check_node_ids(&roles, spec.last_node_id, diagnostics);
    let service_type = service_type(&spec.service_type, cluster, diagnostics);
    if diagnostics.error_count() > errors_before {
        return None;
    }
    Some(Adoption {
        cluster: raw.metadata.name,
        namespace: raw.metadata.namespace,
        id: spec.id,
        cluster_service: spec.cluster_service,
        service_type,
        naming_scheme: match spec.naming_scheme.as_str() {
            "CrNameRole" => NamingScheme::CrNameRole,
            _ => NamingScheme::Uid,
        },
        last_node_id: spec.last_node_id,
        roles,
        origin: document.origin("/metadata/name"),
    })
}

/// A role's members are its StatefulSet's pods in ordinal order, each with the volume the claim
/// template `p` names for it; their Services are valid Service names.
fn adopted_role(
    role: raw::AdoptedRole,
    index: usize,
    document: &Document,
    diagnostics: &mut Diagnostics,
) -> AdoptedRole {
    let pointer = format!("/spec/roles/{index}");
    let mut members = Vec::new();
    for (ordinal, member) in role.members.into_iter().enumerate() {
        let at = format!("{pointer}/members/{ordinal}");
        let pod = object_names::pod(&role.stateful_set, ordinal);
        if member.pod != pod {
            let origin = document.origin(&format!("{at}/pod"));
            diagnostics.push(diags::pod_out_of_order(&member.pod, &pod, origin));
        }
        let claim = object_names::member_claim(object_names::PERSISTED_CLAIM, &pod);
        if let Some(pvc) = member.pvc.as_ref().filter(|pvc| **pvc != claim) {
            let origin = document.origin(&format!("{at}/pvc"));
            diagnostics.push(diags::claim_not_bound(pvc, &claim, origin));
        }
        if let Some(service) = &member.service {
            check_service_name(service, document, &format!("{at}/service"), diagnostics);
        }
        members.push(AdoptedMember {
            service: member.service,
            node_id: member.node_id,
            claim: member.pvc,
            origin: document.origin(&at),
        });
    }
    AdoptedRole {
        id: role.id,
        statefulset: role.stateful_set,
        members,
        origin: document.origin(&format!("{pointer}/id")),
    }
}

/// A Service name is a DNS-1035 label (the schema checks the rest of its form).
fn check_service_name(
    name: &str,
    document: &Document,
    pointer: &str,
    diagnostics: &mut Diagnostics,
) {
    if let Err(problem) = names::check_dns1035_label(name) {
        diagnostics.push(super::diags::bad_name(&problem, document.origin(pointer)));
    }
}

/// Node ids are unique, and none is above `lastNodeID`, which members added later count on from.
fn check_node_ids(roles: &[AdoptedRole], last_node_id: u32, diagnostics: &mut Diagnostics) {
    let mut seen: BTreeMap<u32, &AdoptedMember> = BTreeMap::new();
    for member in roles.iter().flat_map(|role| &role.members) {
        if member.node_id > last_node_id {
            let at = member.origin;
            diagnostics.push(diags::node_id_above_last(member.node_id, last_node_id, at));
        }
        if seen.insert(member.node_id, member).is_some() {
            diagnostics.push(diags::repeated_node_id(member.node_id, member.origin));
        }
    }
}

/// KubeDirector's service type, unless the cluster document names its own (which wins: a
/// warning when the two differ, since the members' addresses change with it).
fn service_type(
    adopted: &str,
    cluster: &Document,
    diagnostics: &mut Diagnostics,
) -> Option<ServiceType> {
    let own = cluster
        .root
        .get("spec")
        .and_then(|spec| spec.get("serviceType"))
        .and_then(|node| node.as_str());
    match own {
        None => ServiceType::parse(adopted),
        Some(own) => {
            if own != adopted {
                let at = cluster.origin("/spec/serviceType");
                diagnostics.push(diags::service_type_changes(own, adopted, at));
            }
            None
        }
    }
}

/// A cluster file exported from a live KubeDirector (it still has a `status`) without an
/// Adoption renders under new names, with new volumes.
fn warn_live_status(
    clusters: &BTreeMap<ClusterKey, &Document>,
    adopted: &BTreeMap<ClusterKey, &Document>,
    overrides: &Overrides,
    diagnostics: &mut Diagnostics,
) {
    for (key, document) in clusters {
        let wanted = overrides
            .clusters
            .as_ref()
            .is_none_or(|wanted| wanted.contains(&key.1));
        let live = document.root.get("status").is_some_and(|s| !s.is_null());
        if wanted && live && !adopted.contains_key(key) {
            let at = document.key_origin("/status");
            diagnostics.push(diags::live_status_without_adoption(&key.1, at));
        }
    }
}
