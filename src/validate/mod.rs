//! Validate: raw documents in, the typed [`Model`] out, with every problem reported.
//!
//! This is the one place where input is judged. Each document is checked against its JSON Schema,
//! decoded into its [`raw`](crate::raw) mirror, then checked against KubeDirector's rules and
//! defaulted into the [`model`](crate::model). Problems are collected, not thrown, so one run
//! reports all of them, each at the line that caused it.
//!
//! `render` validates the apps its clusters use; `validate` checks every app. The rules live in
//! `app`, `cluster` (a role's own in `cluster/role`) and `settings`, each a driver that calls one
//! small function per rule; what they report is worded in `diags`.

mod accept;
mod adoption;
mod app;
mod cluster;
mod diags;
pub mod kubernetes;
mod kubernetes_fields;
pub mod prune;
pub mod schema;
mod settings;
mod tree;

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;

use crate::diag::Diagnostics;
use crate::document::pointer_escape;
use crate::load::{Document, Inputs};
use crate::model::{App, AppKey, AppSource, Model, Settings};
use crate::names;

pub use schema::SchemaKind;

/// The label Argo CD sets on the objects it tracks by label; kdrender never emits it.
const ARGOCD_INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// The annotation Argo CD sets on the objects it tracks by annotation.
const ARGOCD_TRACKING_ID: &str = "argocd.argoproj.io/tracking-id";

/// What the command line contributes to the settings.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--namespace`.
    pub namespace: Option<String>,
    /// Argo CD's `ARGOCD_APP_NAMESPACE`.
    pub argocd_namespace: Option<String>,
    /// Render only the clusters with these names (Argo CD's `clusters` parameter).
    pub clusters: Option<Vec<String>>,
    /// Labels for every object, over the settings' (Argo CD's `labels` parameter).
    pub labels: BTreeMap<String, String>,
}

/// Which apps to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Only apps that some cluster uses (`render`).
    UsedApps,
    /// Every app (`validate`).
    Everything,
}

/// Checks and decodes everything that was loaded: the settings first, then which apps there
/// are and which clusters are wanted, then each cluster's document (which names its app), the
/// apps, and last the clusters against their apps.
pub fn validate(
    inputs: &Inputs,
    overrides: &Overrides,
    scope: Scope,
    diagnostics: &mut Diagnostics,
) -> Model {
    let settings = settings::validate(inputs.settings.as_ref(), overrides, diagnostics);
    let app_documents = index_apps(inputs, diagnostics);
    check_shadowing(&app_documents, &settings, inputs, diagnostics);
    check_wanted_clusters(inputs, overrides, diagnostics);
    let known_apps: Vec<AppKey> = app_documents.keys().cloned().collect();
    let (decoded, used) = decode_clusters(inputs, overrides, &known_apps, diagnostics);
    let apps = validate_apps(&app_documents, scope, &used, diagnostics);
    let adoptions = adoption::validate(inputs, &settings, overrides, diagnostics);
    let clusters = decoded
        .into_iter()
        .filter_map(|cluster| {
            // An app that failed its own checks has been reported already.
            let app = apps.get(&cluster.app)?;
            let raw = adoption::keeping_names(cluster.raw, &adoptions, &settings);
            cluster::validate(raw, cluster.document, app, &settings, diagnostics)
        })
        .collect();
    Model {
        settings,
        apps,
        clusters,
        adoptions,
    }
}

/// A document's `metadata.name`, read from its tree before the document is judged.
fn metadata_name(document: &Document) -> String {
    document
        .root
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .to_string()
}

/// Apps by where they were found and their name, before they are judged, so that `render` can
/// judge only the apps its clusters use. Two apps of one name in one place are an error.
fn index_apps<'i>(
    inputs: &'i Inputs,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<AppKey, &'i Document> {
    let mut apps: BTreeMap<AppKey, &Document> = BTreeMap::new();
    for document in &inputs.apps {
        let source = if document.from_catalog {
            AppSource::Catalog
        } else {
            AppSource::Local
        };
        let key = (source, metadata_name(document));
        if let Some(first) = apps.get(&key) {
            let other = inputs.sources.describe(first.origin("/metadata/name"));
            let at = document.origin("/metadata/name");
            diagnostics.push(diags::duplicate_app(&key.1, at, other));
            continue;
        }
        apps.insert(key, document);
    }
    apps
}

/// Every cluster the `clusters` parameter names must be below the rendered folder.
fn check_wanted_clusters(inputs: &Inputs, overrides: &Overrides, diagnostics: &mut Diagnostics) {
    let Some(wanted) = &overrides.clusters else {
        return;
    };
    let present: Vec<String> = inputs.clusters.iter().map(metadata_name).collect();
    for name in wanted.iter().filter(|name| !present.contains(name)) {
        diagnostics.push(diags::unknown_wanted_cluster(name, &present));
    }
}

/// A cluster document that passed its schema, with the app it names.
struct DecodedCluster<'i> {
    document: &'i Document,
    raw: crate::raw::Cluster,
    app: AppKey,
}

/// Checks the wanted clusters' documents against the schema and decodes them, and finds the
/// apps they name. The app a cluster names is used even when the cluster itself is broken, so
/// that one run reports the problems of both.
fn decode_clusters<'i>(
    inputs: &'i Inputs,
    overrides: &Overrides,
    known_apps: &[AppKey],
    diagnostics: &mut Diagnostics,
) -> (Vec<DecodedCluster<'i>>, BTreeSet<AppKey>) {
    let wanted: Vec<&Document> = inputs
        .clusters
        .iter()
        .filter(|document| {
            overrides
                .clusters
                .as_ref()
                .is_none_or(|wanted| wanted.contains(&metadata_name(document)))
        })
        .collect();
    // Schema checks and decoding are independent per document: run them on every core.
    let decoded = crate::parallel::map(&wanted, |document| {
        let mut local = Diagnostics::default();
        local.enter(crate::diag::Stage::Validate);
        let raw = decode::<crate::raw::Cluster>(SchemaKind::Cluster, document, &mut local);
        (raw, local)
    });
    let mut clusters = Vec::new();
    let mut used = BTreeSet::new();
    for (document, (raw, local)) in wanted.into_iter().zip(decoded) {
        diagnostics.extend(local);
        if let Some(key) = named_app(document, known_apps) {
            used.insert(key);
        }
        if let Some(raw) = raw
            && let Some(app) = cluster::find_app(&raw, document, known_apps, diagnostics)
        {
            used.insert(app.clone());
            clusters.push(DecodedCluster { document, raw, app });
        }
    }
    (clusters, used)
}

/// Checks the apps in scope: every app, or only those that some cluster uses.
fn validate_apps(
    documents: &BTreeMap<AppKey, &Document>,
    scope: Scope,
    used: &BTreeSet<AppKey>,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<AppKey, App> {
    let mut apps = BTreeMap::new();
    for (key, document) in documents {
        if scope == Scope::UsedApps && !used.contains(key) {
            continue;
        }
        if let Some(raw) = decode::<crate::raw::App>(SchemaKind::App, document, diagnostics)
            && let Some(app) = app::validate(raw, document, key.0, diagnostics)
        {
            apps.insert(key.clone(), app);
        }
    }
    apps
}

/// An app below the rendered folder with the name of a catalog app would silently replace the
/// vetted one for every cluster that names it without `appCatalog: system`: an error naming
/// both files, unless the settings' `catalogOverrides` lists the name.
fn check_shadowing(
    apps: &BTreeMap<AppKey, &Document>,
    settings: &Settings,
    inputs: &Inputs,
    diagnostics: &mut Diagnostics,
) {
    for ((source, name), local) in apps {
        let vetted = apps.get(&(AppSource::Catalog, name.clone()));
        let Some(vetted) = vetted.filter(|_| *source == AppSource::Local) else {
            continue;
        };
        if settings.catalog_overrides.contains(name) {
            continue;
        }
        let vetted = inputs.sources.describe(vetted.origin("/metadata/name"));
        let at = local.origin("/metadata/name");
        diagnostics.push(diags::shadowed_catalog_app(name, vetted, at));
    }
    check_catalog_overrides(apps, inputs, diagnostics);
}

/// A name in `catalogOverrides` that replaces nothing is a warning, so that stale allowances do
/// not pile up.
fn check_catalog_overrides(
    apps: &BTreeMap<AppKey, &Document>,
    inputs: &Inputs,
    diagnostics: &mut Diagnostics,
) {
    let Some(document) = &inputs.settings else {
        return;
    };
    let listed = document
        .root
        .get("spec")
        .and_then(|spec| spec.get("catalogOverrides"));
    let Some(crate::document::Value::Seq(items)) = listed.map(|node| &node.value) else {
        return;
    };
    let replaces = |name: &str| {
        [AppSource::Local, AppSource::Catalog]
            .into_iter()
            .all(|source| apps.contains_key(&(source, name.to_string())))
    };
    for (index, item) in items.iter().enumerate() {
        let Some(name) = item.as_str() else { continue };
        if !replaces(name) {
            let at = document.origin(&format!("/spec/catalogOverrides/{index}"));
            diagnostics.push(diags::unused_catalog_override(name, at));
        }
    }
}

/// The app a cluster document names, read from its tree without judging the document:
/// `appCatalog: local` looks below the rendered folder, `system` in the catalog folders, and no
/// value looks locally first.
fn named_app(document: &Document, known: &[AppKey]) -> Option<AppKey> {
    let spec = document.root.get("spec")?;
    let name = spec.get("app")?.as_str()?;
    let places: &[AppSource] = match spec.get("appCatalog").and_then(|c| c.as_str()) {
        Some("local") => &[AppSource::Local],
        Some("system") => &[AppSource::Catalog],
        _ => &[AppSource::Local, AppSource::Catalog],
    };
    places
        .iter()
        .map(|place| (*place, name.to_string()))
        .find(|key| known.contains(key))
}

/// Pruning as the API server prunes (apps and clusters), the schema check, then decoding into
/// the raw mirror.
fn decode<T: DeserializeOwned>(
    kind: SchemaKind,
    document: &Document,
    diagnostics: &mut Diagnostics,
) -> Option<T> {
    let (value, pruned) = match kind {
        SchemaKind::App | SchemaKind::Cluster => {
            let admitted = prune::admit(kind, document, diagnostics);
            (admitted.value, admitted.pruned)
        }
        SchemaKind::Settings | SchemaKind::Adoption => (document.root.to_json(), BTreeSet::new()),
    };
    if !schema::check(kind, document, &value, &pruned, diagnostics) {
        return None;
    }
    match serde_json::from_value(value) {
        Ok(raw) => Some(raw),
        Err(error) => {
            diagnostics.push(diags::undecodable(&error, document.origin("")));
            None
        }
    }
}

/// Checks label or annotation keys and values of a map at `pointer`.
fn check_metadata_map(
    document: &Document,
    pointer: &str,
    map: &BTreeMap<String, String>,
    labels: bool,
    diagnostics: &mut Diagnostics,
) {
    for (key, value) in map {
        let at = format!("{pointer}/{}", pointer_escape(key));
        if let Err(problem) = names::check_qualified_name(key) {
            diagnostics.push(diags::bad_name(&problem, document.key_origin(&at)));
        }
        if labels && let Err(problem) = names::check_label_value(value) {
            diagnostics.push(diags::bad_name(&problem, document.origin(&at)));
        }
    }
}

/// Checks the labels and annotations for a role's pods and member Services, below `pointer`.
fn check_role_metadata(
    document: &Document,
    pointer: &str,
    metadata: &crate::raw::RoleMetadata,
    diagnostics: &mut Diagnostics,
) {
    for (field, map, labels) in [
        ("podLabels", &metadata.pod_labels, true),
        ("podAnnotations", &metadata.pod_annotations, false),
        ("serviceLabels", &metadata.service_labels, true),
        ("serviceAnnotations", &metadata.service_annotations, false),
    ] {
        let pointer = format!("{pointer}/{field}");
        check_metadata_map(document, &pointer, map, labels, diagnostics);
    }
}

/// Reports ids that appear twice in a list, pointing at the second.
fn check_unique<'a>(
    document: &Document,
    what: &str,
    items: impl IntoIterator<Item = (String, &'a str)>,
    diagnostics: &mut Diagnostics,
) {
    let mut seen: BTreeMap<&str, String> = BTreeMap::new();
    for (pointer, id) in items {
        if let Some(first) = seen.get(id) {
            diagnostics.push(diags::repeated_id(
                what,
                id,
                document.origin(&pointer),
                first,
            ));
        } else {
            seen.insert(id, pointer);
        }
    }
}
