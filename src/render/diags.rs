//! The render stage's diagnostics, one constructor per problem, so that their wording is found
//! (and kept) in one place. Problems that have an error type ([`TargetError`], [`KeyError`],
//! [`DirectiveError`], [`TooDeep`], [`Failure`], [`Overrun`], [`Refusal`]) take their message
//! from it; these constructors add where the problem is and what helps.

use super::MAX_CONFIGMAP_BYTES;
use super::files::{DirectiveError, KeyError, Refusal, TargetError};
use super::nesting::TooDeep;
use super::sandbox::{Failure, Overrun};
use crate::diag::{Diagnostic, did_you_mean};
use crate::model::App;
use crate::names::MAX_DNS_NAME;
use crate::source::{FileId, Origin};

/// A ConfigMap over Kubernetes' size limit, measured once it is complete.
pub fn configmap_too_big(name: &str, size: usize, origin: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "ConfigMap {name} would hold {size} bytes; Kubernetes refuses more than {MAX_CONFIGMAP_BYTES}"
    ))
    .at(origin)
    .help("fewer members, or smaller per-member config files")
}

/// A member's FQDN longer than a DNS name may be.
pub fn fqdn_too_long(fqdn: &str, origin: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "member FQDN \"{fqdn}\" is {} characters long; DNS names have at most {MAX_DNS_NAME}",
        fqdn.len()
    ))
    .at(origin)
    .help("shorten the cluster's name, its namespace or the settings' clusterDomain")
}

// Placing templates (their names in the folder).

pub fn not_a_template(name: &str) -> Diagnostic {
    Diagnostic::error(format!(
        "{name} in the config-file folder is not a template: template names end in .j2"
    ))
}

pub fn not_a_role(name: &str, role: &str, app: &App) -> Diagnostic {
    let diagnostic = Diagnostic::error(format!(
        "{name}: \"{role}\" is not a role of app \"{}\"",
        app.name
    ));
    match did_you_mean(role, app.roles.iter().map(|r| r.id.as_str())) {
        Some(help) => diagnostic.help(help),
        None => diagnostic,
    }
}

pub fn misplaced_template(name: &str) -> Diagnostic {
    Diagnostic::error(format!(
        "{name}: templates go under all/, roles/<role>/, members/<role>/ or include/"
    ))
}

pub fn bad_target(name: &str, error: &TargetError) -> Diagnostic {
    Diagnostic::error(format!("{name}: {error}"))
}

/// Two templates that write the same file of a role, or one inside the other.
pub fn overlapping_targets(first: &str, second: &str, target: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "{first} and {second} both place {target} in the same role"
    ))
    .at(at)
}

// Compiling templates.

pub fn bad_directive(error: &DirectiveError, file: FileId) -> Diagnostic {
    Diagnostic::error(error.to_string()).at(Origin {
        file,
        span: error.span(),
    })
}

pub fn nested_too_deep(too_deep: &TooDeep, file: FileId) -> Diagnostic {
    Diagnostic::error(too_deep.to_string()).at(Origin {
        file,
        span: too_deep.span(),
    })
}

/// A template that does not compile or render, at the place minijinja names.
pub fn template_failed(failure: &Failure, at: Origin) -> Diagnostic {
    Diagnostic::error(failure.to_string()).at(at)
}

// Rendering templates into a role's files ConfigMap.

pub fn not_rendered(refusal: &Refusal, at: Origin) -> Diagnostic {
    Diagnostic::error(refusal.to_string()).at(at)
}

pub fn gave_up(overrun: &Overrun, at: Origin) -> Diagnostic {
    Diagnostic::error(overrun.to_string())
        .at(at)
        .help("minijinja does this work inside one step, where fuel does not reach: printing, comparing or serialising a value that holds the same lists many times over, or a list repeated with `*`")
}

pub fn bad_key(path: &str, key: &str, configmap: &str, error: &KeyError, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "{path} writes key \"{key}\" of ConfigMap {configmap}, which {error}"
    ))
    .at(at)
}

pub fn key_clash(other: &str, path: &str, key: &str, configmap: &str, at: Origin) -> Diagnostic {
    Diagnostic::error(format!(
        "{other} and {path} both write key \"{key}\" of ConfigMap {configmap}: one file would get the other's content"
    ))
    .at(at)
    .help("a file's key is its path with '/' turned into '_' (per-member files: <pod>.<key>); rename one of them")
}

/// A files ConfigMap over Kubernetes' size limit, found as it fills.
pub fn files_too_big(
    configmap: &str,
    path: &str,
    key: &str,
    bytes: usize,
    at: Origin,
) -> Diagnostic {
    Diagnostic::error(format!(
        "ConfigMap {configmap} would hold more than {MAX_CONFIGMAP_BYTES} bytes with {path} ({bytes} bytes for key \"{key}\"); Kubernetes refuses more"
    ))
    .at(at)
    .help("smaller config files, or fewer members for per-member files")
}
