//! Where a template's file goes: its scope (every role, one role, or each member of one) and
//! its path in the container, from its name in the template folder; and its mode, from its
//! optional first-line directive.
#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use super::{Template, start_of};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::App;
use crate::render::{diags, names};
use crate::source::Span;

/// Mount points the renderer owns, where config files may not go.
const RESERVED_PATHS: [&str; 2] = [names::GUESTCONFIG_DIR, names::KDRENDER_DIR];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    AllRoles,
    Role(String),
    Member(String),
}

/// Where a template's file goes, from its name in the folder: its scope and its path in the
/// container (`None` for `include/`).
pub(super) fn place(app: &App, name: &str) -> Result<Option<(Scope, String)>, Diagnostic> {
    let Some(stem) = name.strip_suffix(".j2") else {
        return Err(diags::not_a_template(name));
    };
    let (top, rest) = stem.split_once('/').unwrap_or((stem, ""));
    let (scope, target) = match top {
        "include" => return Ok(None),
        "all" => (Scope::AllRoles, format!("/{rest}")),
        "roles" | "members" => {
            let (role, path) = rest.split_once('/').unwrap_or((rest, ""));
            if app.role(role).is_none() {
                return Err(diags::not_a_role(name, role, app));
            }
            let scope = if top == "roles" {
                Scope::Role(role.to_string())
            } else {
                Scope::Member(role.to_string())
            };
            (scope, format!("/{path}"))
        }
        _ => return Err(diags::misplaced_template(name)),
    };
    check_target(&target).map_err(|error| diags::bad_target(name, &error))?;
    Ok(Some((scope, target)))
}

/// Two templates may not write the same file of a role, nor one file inside another.
pub(super) fn overlapping_targets(templates: &[Template], diagnostics: &mut Diagnostics) {
    for (i, a) in templates.iter().enumerate() {
        for b in templates.iter().take(i) {
            let overlap = a.scope == Scope::AllRoles
                || b.scope == Scope::AllRoles
                || scope_role(&a.scope) == scope_role(&b.scope);
            let nested = a.target == b.target
                || a.target.starts_with(&format!("{}/", b.target))
                || b.target.starts_with(&format!("{}/", a.target));
            if overlap && nested {
                diagnostics.push(diags::overlapping_targets(
                    &b.name,
                    &a.name,
                    &a.target,
                    start_of(a.file),
                ));
            }
        }
    }
}

fn scope_role(scope: &Scope) -> Option<&str> {
    match scope {
        Scope::AllRoles => None,
        Scope::Role(r) | Scope::Member(r) => Some(r),
    }
}

/// Why a template's path in the container is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("a template needs a file path below its role folder")]
    NoFile,
    #[error("{0} is not a clean absolute path")]
    NotClean(String),
    #[error("{0}: config file paths may hold only letters, digits, '-', '_', '.' and '/'")]
    Characters(String),
    #[error("{target} is inside {reserved}, which kdrender itself mounts")]
    Reserved {
        target: String,
        reserved: &'static str,
    },
}

fn check_target(target: &str) -> Result<(), TargetError> {
    if target.len() < 2 || target.ends_with('/') {
        return Err(TargetError::NoFile);
    }
    if target
        .split('/')
        .skip(1)
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(TargetError::NotClean(target.to_string()));
    }
    if !target
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return Err(TargetError::Characters(target.to_string()));
    }
    if let Some(reserved) = RESERVED_PATHS
        .iter()
        .find(|r| target == **r || target.starts_with(&format!("{r}/")))
    {
        return Err(TargetError::Reserved {
            target: target.to_string(),
            reserved,
        });
    }
    Ok(())
}

/// Why a template's `{# kdrender: … #}` directive is refused; `span` covers the directive.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DirectiveError {
    #[error("mode {value} is not an octal file mode such as 0755")]
    Mode { value: String, span: Span },
    #[error("unknown kdrender directive \"{setting}\" (known: mode=0NNN)")]
    Unknown { setting: String, span: Span },
}

impl DirectiveError {
    pub fn span(&self) -> Span {
        match self {
            DirectiveError::Mode { span, .. } | DirectiveError::Unknown { span, .. } => *span,
        }
    }
}

/// The optional first-line directive `{# kdrender: mode=0755 #}`.
pub(super) fn directive_mode(source: &str) -> Result<Option<u32>, DirectiveError> {
    let Some(rest) = source.strip_prefix("{#") else {
        return Ok(None);
    };
    let Some((comment, _)) = rest.split_once("#}") else {
        return Ok(None);
    };
    let body = comment
        .trim()
        .trim_start_matches('-')
        .trim_end_matches('-')
        .trim();
    let Some(settings) = body.strip_prefix("kdrender:") else {
        return Ok(None);
    };
    let span = Span::new(0, comment.len().saturating_add(4));
    let mut mode = None;
    for setting in settings.split_whitespace() {
        match setting.split_once('=') {
            Some(("mode", value)) => {
                let parsed = u32::from_str_radix(value.trim_start_matches("0o"), 8)
                    .ok()
                    .filter(|m| *m <= 0o777);
                match parsed {
                    Some(m) => mode = Some(m),
                    None => {
                        return Err(DirectiveError::Mode {
                            value: value.to_string(),
                            span,
                        });
                    }
                }
            }
            _ => {
                return Err(DirectiveError::Unknown {
                    setting: setting.to_string(),
                    span,
                });
            }
        }
    }
    Ok(mode)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn mode_directive_is_octal_and_strict() {
        assert_eq!(
            directive_mode("{# kdrender: mode=0755 #}\n#!/bin/sh\n"),
            Ok(Some(0o755))
        );
        assert_eq!(
            directive_mode("{#- kdrender: mode=0600 -#}x"),
            Ok(Some(0o600))
        );
        assert_eq!(directive_mode("{# just a comment #}"), Ok(None));
        assert!(directive_mode("{# kdrender: mode=0999 #}").is_err());
        assert!(directive_mode("{# kdrender: owner=root #}").is_err());
    }

    #[test]
    fn targets_must_be_clean_paths_outside_reserved_mounts() {
        assert!(check_target("/etc/kafka/server.properties").is_ok());
        assert!(check_target("/etc/guestconfig/x").is_err());
        assert!(check_target("/etc/../x").is_err());
        assert!(check_target("/etc/a b").is_err());
        assert!(check_target("/").is_err());
    }
}
