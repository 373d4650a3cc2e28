//! Every problem the validate stage reports, worded in one place.
//!
//! The rules in `app`, `cluster`, `settings`, `schema` and the stage's driver decide; these
//! constructors say. Each takes what its message names and where it points, and returns the
//! diagnostic; none of them decides whether there is a problem.

use std::fmt::Display;

use crate::diag::{Diagnostic, did_you_mean};
use crate::model::Cardinality;
use crate::names::NameError;
use crate::quantity::{Quantity, QuantityError};
use crate::render::names::VERSION_LABEL;
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
        "--cluster or the clusters parameter names \"{name}\", which is not a KubeDirectorCluster below the rendered folder"
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

/// An unknown field where KubeDirector's CRD keeps unknown fields; `parent` is the pointer to
/// the object that holds it.
pub fn preserved_unknown_field(key: &str, parent: &str, known: &[&str], at: Origin) -> Diagnostic {
    let diagnostic = Diagnostic::warning(format!(
        "unknown field `{key}` in {}: ignored (KubeDirector's CRD keeps unknown fields here for old apps, and KubeDirector ignores them too)",
        field_name(parent)
    ))
    .at(at)
    .label("not a field of this object");
    match did_you_mean(key, known.iter().copied()) {
        Some(suggestion) => diagnostic.help(format!(
            "{suggestion} As written, it sets nothing, in KubeDirector as here"
        )),
        None => diagnostic.help(
            "KubeDirector will stop keeping such fields; put what they say into the app's labels or annotations",
        ),
    }
}

/// A required field written as `null`, which the API server prunes as if it were absent.
pub fn missing_field_written_null(missing: Diagnostic) -> Diagnostic {
    missing
        .help("it is written without a value (null), which Kubernetes drops as if it were absent")
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

/// The app's version is not a label value, so objects carry no version label.
pub fn version_not_a_label(problem: &NameError, at: Origin) -> Diagnostic {
    Diagnostic::warning(format!(
        "the objects carry no {VERSION_LABEL} label: {problem}"
    ))
    .at(at)
    .help("KubeDirector accepts any version (and sets no such label); a rewritten value would name a version the app does not have, so the label is left off, and configmeta.json carries the version as written")
}

pub fn cardinality_above_cap(cardinality: &str, cap: u32, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "cardinality \"{cardinality}\" asks for more than the {cap} members a cluster may have"
    ))
    .at(at)
}

// --- Clusters ---------------------------------------------------------------------------------

/// `looked`: where the app was looked for, as `appCatalog` says.
pub fn no_app(name: &str, looked: &str, known: &[&str], at: Origin) -> Diagnostic {
    let diagnostic = Diagnostic::error(format!("no app named \"{name}\" {looked}")).at(at);
    if let Some(help) = did_you_mean(name, known.iter().copied()) {
        diagnostic.help(help)
    } else if known.is_empty() {
        diagnostic.help(
            "no KubeDirectorApp was found at all; the settings' catalog folders name where to look",
        )
    } else {
        diagnostic
    }
}

pub fn bad_cluster_name(problem: &NameError, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("cluster name {problem}")).at(at)
}

pub fn bad_namespace(problem: &NameError, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("namespace {problem}")).at(at)
}

pub fn uid_naming_scheme(at: Origin) -> Diagnostic {
    Diagnostic::warning(
        "namingScheme UID gives random names in KubeDirector; kdrender always names objects <cluster>-<role>",
    )
    .at(at)
}

pub fn configmap_connections_not_embedded(names: &[String], at: Origin) -> Diagnostic {
    connections_not_embedded(
        "configmaps",
        names,
        "they live outside the repository, which is all kdrender reads",
        "ConfigMaps",
        at,
    )
}

pub fn secret_connections_not_embedded(names: &[String], at: Origin) -> Diagnostic {
    connections_not_embedded(
        "secrets",
        names,
        "secret values never go into the configmeta ConfigMap",
        "Secrets",
        at,
    )
}

fn connections_not_embedded(
    field: &str,
    names: &[String],
    why: &str,
    what: &str,
    at: Origin,
) -> Diagnostic {
    Diagnostic::warning(format!(
        "connections.{field} ({}) are not embedded in configmeta.json: {why}",
        names.join(", ")
    ))
    .at(at)
    .help(format!(
        "mount the {what} into the roles instead (role.secret, or a config-file template)"
    ))
}

pub fn unknown_cluster_role(role: &str, app: &str, app_roles: &[&str], at: Origin) -> Diagnostic {
    let diagnostic = Diagnostic::error(format!("role \"{role}\" is not a role of app \"{app}\""))
        .at(at)
        .label("unknown role");
    match did_you_mean(role, app_roles.iter().copied()) {
        Some(help) => diagnostic.help(help),
        None => diagnostic.help(format!("the app's roles: {}", app_roles.join(", "))),
    }
}

pub fn repeated_cluster_role(role: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("role \"{role}\" appears twice")).at(at)
}

pub fn missing_selected_role(role: &str, app: &str, minimum: u32, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "role \"{role}\" is missing: app \"{app}\" needs at least {minimum} member(s) of it"
    ))
    .at(at)
}

pub fn wrong_member_count(
    role: &str,
    members: u32,
    app: &str,
    cardinality: Cardinality,
    at: Origin,
) -> Diagnostic {
    let rule = if cardinality.open {
        format!("at least {}", cardinality.minimum)
    } else {
        format!("exactly {}", cardinality.minimum)
    };
    Diagnostic::error(format!(
        "role \"{role}\" has {members} member(s), but app \"{app}\" gives it cardinality \"{cardinality}\" ({rule})"
    ))
    .at(at)
}

pub fn too_many_members(cluster: &str, total: u64, cap: u32, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "cluster \"{cluster}\" has {total} members in all; at most {cap} are allowed"
    ))
    .at(at)
}

/// A cluster's quantity that is not one; `pointer` names the field.
pub fn bad_quantity(pointer: &str, problem: &QuantityError, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("{}: {problem}", field_name(pointer))).at(at)
}

pub fn negative_amount(pointer: &str, amount: &Quantity, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "{}: {amount} is negative; Kubernetes refuses negative resource amounts",
        field_name(pointer)
    ))
    .at(at)
}

pub fn request_over_limit(
    role: &str,
    resource: &str,
    request: &Quantity,
    limit: &Quantity,
    at: Origin,
) -> Diagnostic {
    Diagnostic::error(format!(
        "role \"{role}\" requests {request} of {resource}, more than its limit of {limit}"
    ))
    .at(at)
}

/// `request`: the role's request for the resource, if it makes one.
pub fn below_min_resources(
    role: &str,
    request: Option<&Quantity>,
    resource: &str,
    app: &str,
    minimum: &Quantity,
    at: Origin,
) -> Diagnostic {
    let (asked, help) = match request {
        Some(request) => (
            format!("requests {request} of {resource}"),
            "KubeDirector compares whole units, rounded up: 1500m of cpu meets a minimum of 2, 1 does not",
        ),
        None => (
            format!("requests no {resource}"),
            "KubeDirector compares requests only: a limit alone does not meet a minimum",
        ),
    };
    Diagnostic::error(format!(
        "role \"{role}\" {asked}, below app \"{app}\"'s minResources of {minimum}"
    ))
    .at(at)
    .help(help)
}

pub fn bad_storage_class(role: &str, problem: &NameError, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "role \"{role}\": storage class name {problem} (a DNS-1123 subdomain)"
    ))
    .at(at)
}

pub fn storage_not_positive(role: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!("role \"{role}\": storage size must be above zero")).at(at)
}

pub fn storage_below_minimum(
    role: &str,
    size: &Quantity,
    app: &str,
    minimum: &Quantity,
    at: Origin,
) -> Diagnostic {
    Diagnostic::error(format!(
        "role \"{role}\" has {size} of storage; app \"{app}\" needs at least {minimum}"
    ))
    .at(at)
}

pub fn no_storage(role: &str, app: &str, minimum: &Quantity, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "role \"{role}\" has no storage; app \"{app}\" needs at least {minimum}"
    ))
    .at(at)
}

pub fn shared_memory_not_positive(at: Origin) -> Diagnostic {
    Diagnostic::error("sharedMemory must be above zero").at(at)
}

pub fn pod_name_reserved(at: Origin) -> Diagnostic {
    Diagnostic::error(
        "POD_NAME is set by kdrender (the member's pod name) and cannot be overridden",
    )
    .at(at)
}

pub fn file_injections_not_rendered(role: &str, at: Origin) -> Diagnostic {
    Diagnostic::warning(format!(
        "role \"{role}\": fileInjections are not rendered: kdrender works offline and fetches nothing"
    ))
    .at(at)
    .help("put the files in the app's config-file templates, or bake them into the image")
}

pub fn secret_keys_not_rendered(role: &str, at: Origin) -> Diagnostic {
    Diagnostic::warning(format!(
        "role \"{role}\": secretKeys are not rendered: secret values never go into the configmeta ConfigMap"
    ))
    .at(at)
    .without_snippet()
    .help("keep the values in a Secret and mount it with the role's `secret` field")
}

/// `what` is mounted where kdrender mounts its own `volume`.
pub fn mount_path_taken(
    role: &str,
    what: &str,
    path: &str,
    volume: &str,
    at: Origin,
) -> Diagnostic {
    Diagnostic::error(format!(
        "role \"{role}\": {what} is mounted at {path}, where kdrender mounts its volume \"{volume}\""
    ))
    .at(at)
    .help("Kubernetes refuses two mounts at one path (KubeDirector refuses mounts on its own too); mount it elsewhere, below that path if need be")
}

/// `what` is mounted where `first` already is.
pub fn mount_path_repeated(
    role: &str,
    what: &str,
    path: &str,
    first: &str,
    at: Origin,
) -> Diagnostic {
    Diagnostic::error(format!(
        "role \"{role}\": {what} is mounted at {path}, where {first} already is"
    ))
    .at(at)
    .help("Kubernetes refuses two mounts at one path")
}

// --- Settings and the command line ------------------------------------------------------------

pub fn bad_parameter_label(problem: &NameError) -> Diagnostic {
    Diagnostic::error(format!(
        "label from --label or the labels parameter: {problem}"
    ))
}

pub fn parameter_sets_tracking_label(key: &str) -> Diagnostic {
    Diagnostic::error(format!(
        "label from --label or the labels parameter: {key} is set by Argo CD for resource tracking"
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
