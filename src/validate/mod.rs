//! Validate: raw documents in, the typed [`Model`] out, with every problem reported.
//!
//! This is the one place where input is judged. Each document is checked against its JSON Schema,
//! decoded into its [`raw`](crate::raw) mirror, then checked against KubeDirector's rules and
//! defaulted into the [`model`](crate::model). Problems are collected, not thrown, so one run
//! reports all of them, each at the line that caused it.
//!
//! `render` validates the apps its clusters use; `validate` checks every app.

mod app;
mod cluster;
pub mod schema;
mod settings;

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::diag::{Diagnostic, Diagnostics};
use crate::document::pointer_escape;
use crate::load::{Document, Inputs};
use crate::model::{AppSource, Model, Settings};
use crate::names;

pub use schema::SchemaKind;

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

/// Checks and decodes everything that was loaded.
pub fn validate(
    inputs: &Inputs,
    overrides: &Overrides,
    scope: Scope,
    diagnostics: &mut Diagnostics,
) -> Model {
    let settings = settings::validate(inputs.settings.as_ref(), overrides, diagnostics);

    // Index apps by where they were found and their name, before judging them, so that `render`
    // can judge only the apps its clusters use.
    let mut app_documents: BTreeMap<(AppSource, String), &Document> = BTreeMap::new();
    for document in &inputs.apps {
        let name = document
            .root
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("")
            .to_string();
        let source = if document.from_catalog {
            AppSource::Catalog
        } else {
            AppSource::Local
        };
        if let Some(first) = app_documents.get(&(source, name.clone())) {
            diagnostics.push(
                Diagnostic::error(format!("two apps are named \"{name}\""))
                    .at(document.origin("/metadata/name"))
                    .help(format!(
                        "the other one is at {}",
                        inputs.sources.describe(first.origin("/metadata/name"))
                    )),
            );
            continue;
        }
        app_documents.insert((source, name), document);
    }
    check_shadowing(&app_documents, &settings, inputs, diagnostics);
    let known_apps: Vec<(AppSource, String)> = app_documents.keys().cloned().collect();

    let mut clusters = Vec::new();
    let mut used: BTreeMap<(AppSource, String), ()> = BTreeMap::new();
    let mut decoded_clusters = Vec::new();
    let cluster_name = |document: &Document| -> String {
        document
            .root
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("")
            .to_string()
    };
    if let Some(wanted) = &overrides.clusters {
        let present: Vec<String> = inputs.clusters.iter().map(cluster_name).collect();
        for name in wanted {
            if !present.contains(name) {
                let mut diagnostic = Diagnostic::error(format!(
                    "the clusters parameter names \"{name}\", which is not a KubeDirectorCluster below the rendered folder"
                ));
                if let Some(help) =
                    crate::diag::did_you_mean(name, present.iter().map(String::as_str))
                {
                    diagnostic = diagnostic.help(help);
                }
                diagnostics.push(diagnostic);
            }
        }
    }
    let wanted: Vec<&Document> = inputs
        .clusters
        .iter()
        .filter(|document| {
            overrides
                .clusters
                .as_ref()
                .is_none_or(|wanted| wanted.contains(&cluster_name(document)))
        })
        .collect();
    // Schema checks and decoding are independent per document: run them on every core.
    let decoded = crate::parallel::map(&wanted, |document| {
        let mut local = Diagnostics::default();
        local.enter(crate::diag::Stage::Validate);
        let raw = decode::<crate::raw::Cluster>(SchemaKind::Cluster, document, &mut local);
        (raw, local)
    });
    for (document, (raw, local)) in wanted.into_iter().zip(decoded) {
        diagnostics.extend(local);
        // The app a cluster names is checked even when the cluster itself is broken, so that
        // one run reports the problems of both.
        if let Some(key) = named_app(document, &known_apps) {
            used.insert(key, ());
        }
        if let Some(raw) = raw
            && let Some(key) = cluster::find_app(&raw, document, &known_apps, diagnostics)
        {
            used.insert(key.clone(), ());
            decoded_clusters.push((document, raw, key));
        }
    }

    let mut apps = BTreeMap::new();
    for (key, document) in &app_documents {
        if scope == Scope::UsedApps && !used.contains_key(key) {
            continue;
        }
        if let Some(raw) = decode::<crate::raw::App>(SchemaKind::App, document, diagnostics)
            && let Some(app) = app::validate(raw, document, key.0, diagnostics)
        {
            apps.insert(key.clone(), app);
        }
    }

    for (document, raw, key) in decoded_clusters {
        // An app that failed its own checks has been reported already.
        if let Some(app) = apps.get(&key)
            && let Some(cluster) = cluster::validate(raw, document, app, &settings, diagnostics)
        {
            clusters.push(cluster);
        }
    }

    Model {
        settings,
        apps,
        clusters,
    }
}

/// An app below the rendered folder with the name of a catalog app would silently replace the
/// vetted one for every cluster that names it without `appCatalog: system`: an error naming
/// both files, unless the settings' `catalogOverrides` lists the name. A name listed there that
/// replaces nothing is a warning, so that stale allowances do not pile up.
fn check_shadowing(
    apps: &BTreeMap<(AppSource, String), &Document>,
    settings: &Settings,
    inputs: &Inputs,
    diagnostics: &mut Diagnostics,
) {
    let shadowed = |name: &str| {
        apps.get(&(AppSource::Local, name.to_string()))
            .zip(apps.get(&(AppSource::Catalog, name.to_string())))
    };
    for (_, name) in apps
        .keys()
        .filter(|(source, _)| *source == AppSource::Local)
    {
        let Some((local, vetted)) = shadowed(name) else {
            continue;
        };
        if settings.catalog_overrides.contains(name) {
            continue;
        }
        diagnostics.push(
            Diagnostic::error(format!(
                "app \"{name}\" has the name of an app in the catalog ({}), which it would silently replace",
                inputs.sources.describe(vetted.origin("/metadata/name"))
            ))
            .at(local.origin("/metadata/name"))
            .help(format!(
                "rename one of them, or list \"{name}\" in kdrender.yaml's catalogOverrides to replace the catalog's app on purpose"
            )),
        );
    }
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
    for (index, item) in items.iter().enumerate() {
        let Some(name) = item.as_str() else { continue };
        if shadowed(name).is_none() {
            diagnostics.push(
                Diagnostic::warning(format!(
                    "catalogOverrides names \"{name}\", but no app below the rendered folder replaces a catalog app of that name"
                ))
                .at(document.origin(&format!("/spec/catalogOverrides/{index}"))),
            );
        }
    }
}

/// The app a cluster document names, read from its tree without judging the document:
/// `appCatalog: local` looks below the rendered folder, `system` in the catalog folders, and no
/// value looks locally first.
fn named_app(document: &Document, known: &[(AppSource, String)]) -> Option<(AppSource, String)> {
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

/// Schema check, then decoding into the raw mirror.
fn decode<T: DeserializeOwned>(
    kind: SchemaKind,
    document: &Document,
    diagnostics: &mut Diagnostics,
) -> Option<T> {
    let value = document.root.to_json();
    if !schema::check(kind, document, &value, diagnostics) {
        return None;
    }
    match serde_json::from_value(value) {
        Ok(raw) => Some(raw),
        Err(e) => {
            diagnostics.push(
                Diagnostic::error(format!("cannot decode the document: {e}"))
                    .at(document.origin("")),
            );
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
        if let Err(message) = names::check_qualified_name(key) {
            diagnostics.push(Diagnostic::error(message.to_string()).at(document.key_origin(&at)));
        }
        if labels && let Err(message) = names::check_label_value(value) {
            diagnostics.push(Diagnostic::error(message.to_string()).at(document.origin(&at)));
        }
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
            diagnostics.push(
                Diagnostic::error(format!("{what} \"{id}\" appears twice"))
                    .at(document.origin(&pointer))
                    .help(format!("first at {}", schema::field_name(first))),
            );
        } else {
            seen.insert(id, pointer);
        }
    }
}
