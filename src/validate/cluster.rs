//! KubeDirectorCluster rules and defaulting (KubeDirector's cluster webhook, done offline).
//!
//! Rules, in the order KubeDirector's validator applies them: the app exists where `appCatalog`
//! says to look; the name and namespace are valid; every role is a role of the app and appears
//! once; selected roles with a minimum above zero are present; each role's own rules (`role`);
//! all roles together stay within 1000 members. Defaulting: `members` from the cardinality, the
//! service type and storage class from the settings, `defaultSecret` into roles without a
//! secret.
//!
//! What only a live controller could honour (auth tokens, encrypted secret keys, file injections
//! fetched at run time, connections to objects outside the repository) is reported as a warning
//! and left out, as documented; nothing is dropped silently.

mod role;

use std::collections::BTreeSet;

use crate::diag::{Diagnostics, did_you_mean};
use crate::load::Document;
use crate::model::{App, AppKey, Cluster, ClusterRole, ServiceType, Settings};
use crate::names;
use crate::raw;

use super::diags;

/// KubeDirector's cap on the members of one cluster.
pub const MAX_MEMBERS: u32 = 1000;

/// Finds the cluster's app, honouring `appCatalog`: `local` looks below the rendered folder,
/// `system` in the catalog folders, and no value looks locally first.
pub fn find_app(
    raw: &raw::Cluster,
    document: &Document,
    known: &[AppKey],
    diagnostics: &mut Diagnostics,
) -> Option<AppKey> {
    if let Some(key) = super::named_app(document, known) {
        return Some(key);
    }
    let looked = match raw.spec.app_catalog.as_deref() {
        Some("local") => "below the rendered folder (appCatalog: local)",
        Some("system") => "in the catalog folders (appCatalog: system)",
        _ => "below the rendered folder or in the catalog folders",
    };
    let names: Vec<&str> = known.iter().map(|(_, n)| n.as_str()).collect();
    let at = document.origin("/spec/app");
    diagnostics.push(diags::no_app(&raw.spec.app, looked, &names, at));
    None
}

pub fn validate(
    raw: raw::Cluster,
    document: &Document,
    app: &App,
    settings: &Settings,
    diagnostics: &mut Diagnostics,
) -> Option<Cluster> {
    let errors_before = diagnostics.error_count();
    let spec = raw.spec;
    let name = raw.metadata.name;
    check_name(document, &name, diagnostics);
    check_namespace(document, raw.metadata.namespace.as_deref(), diagnostics);
    warn_naming_scheme(document, spec.naming_scheme.as_deref(), diagnostics);
    warn_outside_connections(document, &spec.connections, diagnostics);
    let misspelt = check_known_roles(document, &spec.roles, app, diagnostics);
    let present = check_unique_roles(document, &spec.roles, diagnostics);
    check_selected_roles(document, app, &present, &misspelt, diagnostics);
    let context = role::Context {
        document,
        app,
        settings,
        default_secret: spec.default_secret.as_ref(),
    };
    // As many as written: a role is large, and a vector grown one by one keeps room for four.
    let mut roles = Vec::with_capacity(spec.roles.len());
    for (i, raw_role) in spec.roles.into_iter().enumerate() {
        roles.extend(context.cluster_role(i, raw_role, diagnostics));
    }
    check_total_members(document, &name, &roles, diagnostics);
    if diagnostics.error_count() > errors_before {
        return None;
    }
    roles.sort_by_cached_key(|role| app.roles.iter().position(|r| r.id == role.id));
    Some(Cluster {
        namespace: raw.metadata.namespace,
        app: app.name.clone(),
        app_key: (app.source, app.name.clone()),
        service_type: spec
            .service_type
            .as_deref()
            .and_then(ServiceType::parse)
            .unwrap_or(settings.default_service_type),
        connected_clusters: spec
            .connections
            .clusters
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let at = document.origin(&format!("/spec/connections/clusters/{i}"));
                (c.clone(), at)
            })
            .collect(),
        roles,
        origin: document.origin("/metadata/name"),
        name,
    })
}

/// The cluster's name is a DNS-1123 subdomain, as Kubernetes requires of its objects' names.
fn check_name(document: &Document, name: &str, diagnostics: &mut Diagnostics) {
    if let Err(problem) = names::check_dns1123_subdomain(name) {
        let at = document.origin("/metadata/name");
        diagnostics.push(diags::bad_cluster_name(&problem, at));
    }
}

/// A namespace the cluster names is a DNS-1123 label.
fn check_namespace(document: &Document, namespace: Option<&str>, diagnostics: &mut Diagnostics) {
    if let Some(namespace) = namespace
        && let Err(problem) = names::check_dns1123_label(namespace)
    {
        let at = document.origin("/metadata/namespace");
        diagnostics.push(diags::bad_namespace(&problem, at));
    }
}

/// `namingScheme: UID` is KubeDirector's random naming, which kdrender never does.
fn warn_naming_scheme(document: &Document, scheme: Option<&str>, diagnostics: &mut Diagnostics) {
    if scheme == Some("UID") {
        let at = document.origin("/spec/namingScheme");
        diagnostics.push(diags::uid_naming_scheme(at));
    }
}

/// Connections to ConfigMaps and Secrets name objects outside the repository: left out.
fn warn_outside_connections(
    document: &Document,
    connections: &raw::Connections,
    diagnostics: &mut Diagnostics,
) {
    if !connections.configmaps.is_empty() {
        let at = document.origin("/spec/connections/configmaps");
        let names = &connections.configmaps;
        diagnostics.push(diags::configmap_connections_not_embedded(names, at));
    }
    if !connections.secrets.is_empty() {
        let at = document.origin("/spec/connections/secrets");
        let names = &connections.secrets;
        diagnostics.push(diags::secret_connections_not_embedded(names, at));
    }
}

/// Every role is a role of the app; returns the ids that are not.
fn check_known_roles<'r>(
    document: &Document,
    roles: &'r [raw::ClusterRole],
    app: &App,
    diagnostics: &mut Diagnostics,
) -> Vec<&'r str> {
    let app_roles: Vec<&str> = app.roles.iter().map(|r| r.id.as_str()).collect();
    let mut unknown = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        if app.role(&role.id).is_none() {
            unknown.push(role.id.as_str());
            let at = document.origin(&format!("/spec/roles/{i}/id"));
            diagnostics.push(diags::unknown_cluster_role(
                &role.id, &app.name, &app_roles, at,
            ));
        }
    }
    unknown
}

/// Every role appears once; returns the ids present.
fn check_unique_roles<'r>(
    document: &Document,
    roles: &'r [raw::ClusterRole],
    diagnostics: &mut Diagnostics,
) -> BTreeSet<&'r str> {
    let mut present = BTreeSet::new();
    for (i, role) in roles.iter().enumerate() {
        if !present.insert(role.id.as_str()) {
            let at = document.origin(&format!("/spec/roles/{i}/id"));
            diagnostics.push(diags::repeated_cluster_role(&role.id, at));
        }
    }
    present
}

/// Every selected role that needs members is present. A misspelt role already reported as
/// unknown is the same mistake, reported once.
fn check_selected_roles(
    document: &Document,
    app: &App,
    present: &BTreeSet<&str>,
    misspelt: &[&str],
    diagnostics: &mut Diagnostics,
) {
    for selected in &app.selected_roles {
        let Some(app_role) = app.role(selected) else {
            continue;
        };
        let minimum = app_role.cardinality.minimum;
        let reported = misspelt
            .iter()
            .any(|id| did_you_mean(id, [selected.as_str()]).is_some());
        if minimum > 0 && !present.contains(selected.as_str()) && !reported {
            let at = document.key_origin("/spec/roles");
            diagnostics.push(diags::missing_selected_role(
                selected, &app.name, minimum, at,
            ));
        }
    }
}

/// All roles together stay within KubeDirector's cap on a cluster's members.
fn check_total_members(
    document: &Document,
    name: &str,
    roles: &[ClusterRole],
    diagnostics: &mut Diagnostics,
) {
    let total: u64 = roles.iter().map(|role| u64::from(role.members)).sum();
    if total > u64::from(MAX_MEMBERS) {
        let at = document.key_origin("/spec/roles");
        diagnostics.push(diags::too_many_members(name, total, MAX_MEMBERS, at));
    }
}
