//! Every problem the validate stage reports, worded in one place.
//!
//! The rules in `app`, `cluster`, `settings`, `schema` and the stage's driver decide; these
//! constructors say. Each takes what its message names and where it points, and returns the
//! diagnostic; none of them decides whether there is a problem.

use std::fmt::Display;

use crate::diag::{Diagnostic, did_you_mean};
use crate::names::NameError;
use crate::quantity::QuantityError;
use crate::source::Origin;

use super::schema::field_name;

// --- The run: apps found twice, the catalog, the clusters asked for ---------------------------

pub fn duplicate_app(name: &str, at: Origin, other: impl Display) -> Diagnostic {
    Diagnostic::error(format!("two apps are named \"{name}\""))
        .at(at)
        .help(format!("the other one is at {other}"))
}

pub fn shadowed_catalog_app(name: &str, vetted: impl Display, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "app \"{name}\" has the name of an app in the catalog ({vetted}), which it would silently replace"
    ))
    .at(at)
    .help(format!(
        "rename one of them, or list \"{name}\" in kdrender.yaml's catalogOverrides to replace the catalog's app on purpose"
    ))
}

pub fn unused_catalog_override(name: &str, at: Origin) -> Diagnostic {
    Diagnostic::warning(format!(
        "catalogOverrides names \"{name}\", but no app below the rendered folder replaces a catalog app of that name"
    ))
    .at(at)
}

pub fn unknown_wanted_cluster(name: &str, present: &[String]) -> Diagnostic {
    let diagnostic = Diagnostic::error(format!(
        "the clusters parameter names \"{name}\", which is not a KubeDirectorCluster below the rendered folder"
    ));
    match did_you_mean(name, present.iter().map(String::as_str)) {
        Some(help) => diagnostic.help(help),
        None => diagnostic,
    }
}

pub fn undecodable(error: &serde_json::Error, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("cannot decode the document: {error}")).at(at)
}

/// A name, label key or label value that breaks Kubernetes' rules, in their own words.
pub fn bad_name(problem: &NameError, at: Origin) -> Diagnostic {
    Diagnostic::error(problem.to_string()).at(at)
}

/// An id listed twice; `first` is the pointer to where it was listed first.
pub fn repeated_id(what: &str, id: &str, at: Origin, first: &str) -> Diagnostic {
    Diagnostic::error(format!("{what} \"{id}\" appears twice"))
        .at(at)
        .help(format!("first at {}", field_name(first)))
}

/// A label or annotation that Argo CD sets on the objects it tracks.
pub fn set_by_argocd(key: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "{key} is set by Argo CD for resource tracking; kdrender never emits it"
    ))
    .at(at)
}

// --- Schemas ----------------------------------------------------------------------------------

pub fn unknown_field(key: &str, field: &str, known: &[&str], at: Origin) -> Diagnostic {
    let diagnostic = Diagnostic::error(format!("unknown field `{key}` in {field}"))
        .at(at)
        .label("not a field of this object");
    if let Some(suggestion) = did_you_mean(key, known.iter().copied()) {
        diagnostic.help(suggestion)
    } else if !known.is_empty() {
        diagnostic.help(format!("known fields: {}", known.join(", ")))
    } else {
        diagnostic
    }
}

pub fn missing_field(field: &str, name: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("{field} is missing the required field `{name}`")).at(at)
}

/// A value of the wrong form; `description` is the schema's word for the right one.
pub fn wrong_form(
    field: &str,
    value: &serde_json::Value,
    description: Option<&str>,
    pattern: &str,
    at: Origin,
) -> Diagnostic {
    let help = match description {
        Some(description) => description.to_string(),
        None => format!("it must match the pattern {pattern}"),
    };
    Diagnostic::error(format!("{field}: {value} does not have the required form"))
        .at(at)
        .help(help)
}

/// Any other schema error, in jsonschema's words.
pub fn schema_error(field: &str, error: impl Display, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("{field}: {error}")).at(at)
}

/// The first schema error of a document too large to list them all.
pub fn only_first_schema_error(first: Diagnostic, values: usize) -> Diagnostic {
    let note = format!(
        "the document holds more than {values} values, so only its first schema error is listed"
    );
    let help = match &first.help {
        Some(help) => format!("{help}; {note}"),
        None => note,
    };
    first.help(help)
}

// --- Apps -------------------------------------------------------------------------------------

pub fn same_object_name(first: &str, second: &str, munged: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "role ids \"{first}\" and \"{second}\" give the same object name \"{munged}\""
    ))
    .at(at)
    .help("object names are lower-cased, with '_' and '.' turned into '-'")
}

/// A reference to a role or service the app does not define.
pub fn undefined(what: &str, id: &str, known: &[&str], at: Origin) -> Diagnostic {
    let diagnostic =
        Diagnostic::error(format!("{what} \"{id}\" is not defined in this app")).at(at);
    match did_you_mean(id, known.iter().copied()) {
        Some(help) => diagnostic.help(help),
        None => diagnostic.help(format!("defined: {}", known.join(", "))),
    }
}

pub fn dashboard_without_scheme(service: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "service \"{service}\" is a dashboard and so needs endpoint.urlScheme"
    ))
    .at(at)
}

pub fn auth_token_not_rendered(service: &str, at: Origin) -> Diagnostic {
    Diagnostic::warning(format!(
        "service \"{service}\" asks for an auth token: a random token cannot be rendered deterministically, so configmeta.json carries an empty authToken and no token annotation is set"
    ))
    .at(at)
    .help("protect the endpoint with a Secret you manage (SOPS, Sealed Secrets, External Secrets)")
}

pub fn unknown_extension_role(id: &str, role_ids: &[&str], at: Origin) -> Diagnostic {
    let diagnostic = Diagnostic::error(format!(
        "spec.kdrender.roles names \"{id}\", which is not a role of this app"
    ))
    .at(at);
    match did_you_mean(id, role_ids.iter().copied()) {
        Some(help) => diagnostic.help(help),
        None => diagnostic,
    }
}

pub fn no_image(role: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "role \"{role}\" has no image: set imageRepoTag on it or defaultImageRepoTag on the app"
    ))
    .at(at)
}

pub fn tty_without_stdin(role: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "role \"{role}\" sets containerSpec.tty without stdin"
    ))
    .at(at)
}

/// An app's minimum (`minResources`, `minStorage`) that is not a quantity.
pub fn bad_minimum(problem: &QuantityError, at: Origin) -> Diagnostic {
    Diagnostic::error(problem.to_string()).at(at)
}

pub fn cardinality_above_cap(cardinality: &str, cap: u32, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "cardinality \"{cardinality}\" asks for more than the {cap} members a cluster may have"
    ))
    .at(at)
}

// --- Settings and the command line ------------------------------------------------------------

pub fn bad_parameter_label(problem: &NameError) -> Diagnostic {
    Diagnostic::error(format!("plugin parameter \"labels\": {problem}"))
}

pub fn parameter_sets_tracking_label(key: &str) -> Diagnostic {
    Diagnostic::error(format!(
        "plugin parameter \"labels\": {key} is set by Argo CD for resource tracking"
    ))
}

/// `source`: which setting named the namespace.
pub fn bad_namespace_from(source: &str, problem: &NameError) -> Diagnostic {
    Diagnostic::error(format!("namespace from {source} is not valid: {problem}"))
}

pub fn bad_cluster_domain(problem: &NameError, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("clusterDomain {problem}"))
        .at(at)
        .help("it ends every member's FQDN (<pod>.<cluster>.<namespace>.svc.<clusterDomain>), which DNS limits to 253 characters")
}

pub fn bad_default_storage_class(problem: &NameError, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "defaultStorageClassName {problem} (a DNS-1123 subdomain)"
    ))
    .at(at)
}
