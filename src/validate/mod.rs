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
use crate::model::{Adoption, App, AppKey, AppSource, Cluster, Model, Settings};
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
/// are and which clusters are wanted, the apps those clusters name, the Adoptions, and last
/// each wanted cluster against its app, on every core. Each cluster's document is taken out of
/// `inputs` and dropped as soon as it is judged, so the trees and decoded forms of all
/// clusters are never held at once: what stays is the model, and the files' text.
pub fn validate(
    inputs: &mut Inputs,
    overrides: &Overrides,
    scope: Scope,
    diagnostics: &mut Diagnostics,
) -> Model {
    let settings = settings::validate(inputs.settings.as_ref(), overrides, diagnostics);
    let app_documents = index_apps(inputs, diagnostics);
    check_shadowing(&app_documents, &settings, inputs, diagnostics);
    check_wanted_clusters(inputs, overrides, diagnostics);
    let known_apps: Vec<AppKey> = app_documents.keys().cloned().collect();
    let used = named_apps(inputs, overrides, &known_apps);
    let apps = validate_apps(&app_documents, scope, &used, diagnostics);
    let adoptions = adoption::validate(inputs, &settings, overrides, diagnostics);
    let wanted: Vec<Document> = std::mem::take(&mut inputs.clusters)
        .into_iter()
        .filter(|document| is_wanted(document, overrides))
        .collect();
    let world = World {
        known_apps: &known_apps,
        apps: &apps,
        adoptions: &adoptions,
        settings: &settings,
    };
    let (sources, limits) = (&inputs.sources, inputs.limits);
    let judged = crate::parallel::map_owned(by_file(wanted), |summaries| {
        let documents = Document::parse_whole(summaries, sources, limits);
        let judge = |document: Result<Document, _>| {
            let mut local = Diagnostics::default();
            local.enter(crate::diag::Stage::Validate);
            let cluster = match document {
                Ok(document) => world.judge_cluster(&document, &mut local),
                Err(diagnostic) => {
                    local.push(diagnostic);
                    None
                }
            };
            (cluster, local)
        };
        documents.into_iter().map(judge).collect::<Vec<_>>()
    });
    let mut clusters = Vec::with_capacity(judged.len());
    for (cluster, local) in judged.into_iter().flatten() {
        diagnostics.extend(local);
        clusters.extend(cluster);
    }
    Model {
        settings,
        apps,
        clusters,
        adoptions,
    }
}

/// Documents in their order, those of one file together (they come one after another), so that
/// each file is parsed again once however many clusters it holds.
fn by_file(documents: Vec<Document>) -> Vec<Vec<Document>> {
    let mut files: Vec<Vec<Document>> = Vec::new();
    for document in documents {
        match files.last_mut() {
            Some(file) if file.last().is_some_and(|last| last.file == document.file) => {
                file.push(document);
            }
            _ => files.push(vec![document]),
        }
    }
    files
}

/// What a cluster is judged against: the apps there are, those that passed their checks, the
/// Adoptions and the settings.
struct World<'a> {
    known_apps: &'a [AppKey],
    apps: &'a BTreeMap<AppKey, App>,
    adoptions: &'a BTreeMap<(String, String), Adoption>,
    settings: &'a Settings,
}

impl World<'_> {
    /// One cluster document: pruned and checked against the schema, decoded, matched with its
    /// app, then held to KubeDirector's rules and defaulted.
    fn judge_cluster(&self, document: &Document, diagnostics: &mut Diagnostics) -> Option<Cluster> {
        let raw = decode::<crate::raw::Cluster>(SchemaKind::Cluster, document, diagnostics)?;
        let key = cluster::find_app(&raw, document, self.known_apps, diagnostics)?;
        // An app that failed its own checks has been reported already.
        let app = self.apps.get(&key)?;
        let raw = adoption::keeping_names(raw, self.adoptions, self.settings);
        cluster::validate(raw, document, app, self.settings, diagnostics)
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

/// Whether the `clusters` parameter, if given, names this cluster document.
fn is_wanted(document: &Document, overrides: &Overrides) -> bool {
    overrides
        .clusters
        .as_ref()
        .is_none_or(|wanted| wanted.contains(&metadata_name(document)))
}

/// The apps the wanted clusters name, read from their trees before any cluster is judged, so
/// that only those apps are checked and a broken cluster's app is still checked: one run
/// reports the problems of both.
fn named_apps(inputs: &Inputs, overrides: &Overrides, known_apps: &[AppKey]) -> BTreeSet<AppKey> {
    inputs
        .clusters
        .iter()
        .filter(|document| is_wanted(document, overrides))
        .filter_map(|document| named_app(document, known_apps))
        .collect()
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::{Overrides, Scope};
    use crate::diag::Diagnostics;
    use crate::load::{self, Files, InputLimits, Reader};

    /// The model and the report of judging everything below `folder`, with cluster documents
    /// summarized on load from `summarize_from` input files on.
    fn judged(folder: &Path, summarize_from: usize, overrides: &Overrides, scope: Scope) -> String {
        let limits = InputLimits {
            summarize_from,
            ..InputLimits::default()
        };
        let mut reader = match Reader::new(folder, folder, Files::Disk, limits) {
            Ok(reader) => reader,
            Err(refused) => return format!("{refused:?}"),
        };
        let mut diagnostics = Diagnostics::default();
        let mut inputs = load::load(&mut reader, &mut diagnostics);
        let model = super::validate(&mut inputs, overrides, scope, &mut diagnostics);
        format!("{model:#?}\n{}", diagnostics.render(&inputs.sources))
    }

    /// Every folder the tests and examples hold: good repositories, and broken ones (several
    /// clusters in one file, JSON, Adoptions, exports with a `status`, names that do not fit).
    fn folders() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut folders = Vec::new();
        for parent in ["tests/fixtures", "tests/corpus", "examples"] {
            let Ok(entries) = std::fs::read_dir(root.join(parent)) else {
                continue;
            };
            folders.extend(
                entries
                    .flatten()
                    .map(|entry| entry.path())
                    .filter(|path| path.is_dir()),
            );
        }
        folders.sort();
        folders
    }

    /// A large run judges each cluster from a summary kept since loading and the document
    /// parsed again; it must judge exactly as a small run, which keeps the whole tree: the same
    /// model, the same problems at the same places, in the same order.
    #[test]
    fn clusters_judged_from_summaries_are_judged_as_whole_ones() {
        let folders = folders();
        assert!(folders.len() > 50, "{folders:?}");
        let wanted = Overrides {
            clusters: Some(vec![
                "kafka".into(),
                "tables".into(),
                "no-such-cluster".into(),
            ]),
            ..Overrides::default()
        };
        for folder in &folders {
            for overrides in [&Overrides::default(), &wanted] {
                for scope in [Scope::UsedApps, Scope::Everything] {
                    let whole = judged(folder, usize::MAX, overrides, scope);
                    let summarized = judged(folder, 0, overrides, scope);
                    assert_eq!(whole, summarized, "{} {scope:?}", folder.display());
                }
            }
        }
    }
}
