//! Patches: the settings' `spec.patches`, checked on load ([`check`]) and applied to the
//! rendered objects they target ([`apply`]) before the rollout hash is computed, so that a
//! patch to a pod template rolls exactly the StatefulSets it matches and no other object
//! changes.
//!
//! A patch is a JSON merge patch (RFC 7386) or JSON Patch operations (RFC 6902), applied by the
//! `json-patch` crate. A patched object must keep its identity (apiVersion, kind, name,
//! namespace), a ConfigMap its data (config files belong to the templates, which the hash
//! covers), and must pass Kubernetes' schema of its kind; a patch that matches no object at all
//! is an error ([`unmatched`]). Every message points at the patch in the settings file.

mod diags;
pub mod placement;
pub mod selector;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics};
use crate::load::Document;
use crate::render::Kind;
use crate::source::Origin;
use crate::validate::kubernetes;
use crate::validate::schema::{failing_schema, field_name};
use selector::Requirement;

/// A checked patch of the settings.
#[derive(Clone, Debug)]
pub struct Patch {
    /// Its position in `spec.patches`.
    pub index: usize,
    pub target: Target,
    pub change: Change,
    /// The patch's entry in the settings file.
    pub origin: Origin,
    /// The entry as canonical JSON, to tell two versions of it apart (`kdrender diff`).
    pub written: String,
}

/// Which objects a patch changes: those that match every field given.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub selector: Vec<Requirement>,
}

#[derive(Clone, Debug)]
pub enum Change {
    Merge(Value),
    Operations(json_patch::Patch),
}

/// The settings' patches, checked; those that cannot be read are reported and left out.
pub fn check(
    document: &Document,
    raw: Vec<crate::raw::Patch>,
    diagnostics: &mut Diagnostics,
) -> Vec<Patch> {
    let entries = document.root.to_json();
    raw.into_iter()
        .enumerate()
        .filter_map(|(index, raw)| {
            let pointer = format!("/spec/patches/{index}");
            let written = entries.pointer(&pointer).map(Value::to_string);
            let patch = checked(document, &pointer, raw, diagnostics)?;
            Some(Patch {
                index,
                written: written.unwrap_or_default(),
                ..patch
            })
        })
        .collect()
}

fn checked(
    document: &Document,
    pointer: &str,
    raw: crate::raw::Patch,
    diagnostics: &mut Diagnostics,
) -> Option<Patch> {
    let selector = match raw.target.label_selector.as_deref().map(selector::parse) {
        Some(Err(problem)) => {
            let at = document.origin(&format!("{pointer}/target/labelSelector"));
            diagnostics.push(diags::bad_selector(&problem, at));
            return None;
        }
        Some(Ok(selector)) => selector,
        None => Vec::new(),
    };
    let change = match (raw.patch, raw.ops) {
        (Some(merge), _) => Change::Merge(merge),
        (None, Some(ops)) => match serde_json::from_value(ops) {
            Ok(ops) => Change::Operations(ops),
            Err(error) => {
                let at = document.origin(&format!("{pointer}/ops"));
                diagnostics.push(diags::bad_operations(&error, at));
                return None;
            }
        },
        // The schema requires one of them.
        (None, None) => return None,
    };
    let target = Target {
        kind: raw.target.kind,
        name: raw.target.name,
        namespace: raw.target.namespace,
        selector,
    };
    let origin = document.key_origin(&format!("{pointer}/target"));
    Some(Patch {
        index: 0,
        target,
        change,
        origin,
        written: String::new(),
    })
}

/// Applies, in order, every patch that targets the object; returns the patches applied. A patch
/// that fails leaves the object as it was and is reported.
pub fn apply(
    patches: &[Patch],
    kind: Kind,
    object: &mut Value,
    diagnostics: &mut Diagnostics,
) -> Vec<usize> {
    let mut applied = Vec::new();
    for patch in patches {
        if !targets(&patch.target, kind, object) {
            continue;
        }
        match patched(patch, kind, object) {
            Ok(value) => {
                *object = value;
                applied.push(patch.index);
            }
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    applied
}

/// Whether a target names the object, as the earlier patches left it.
fn targets(target: &Target, kind: Kind, object: &Value) -> bool {
    let field = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
    let labels: BTreeMap<String, String> = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    target.kind.as_deref().is_none_or(|k| k == kind.as_str())
        && target
            .name
            .as_deref()
            .is_none_or(|n| Some(n) == field("/metadata/name"))
        && target
            .namespace
            .as_deref()
            .is_none_or(|n| Some(n) == field("/metadata/namespace"))
        && selector::matches(&target.selector, &labels)
}

/// The object with the patch applied, if it is still the same, valid object.
fn patched(patch: &Patch, kind: Kind, object: &Value) -> Result<Value, Diagnostic> {
    let described = describe(kind, object);
    let mut value = object.clone();
    match &patch.change {
        Change::Merge(merge) => json_patch::merge(&mut value, merge),
        Change::Operations(ops) => json_patch::patch(&mut value, ops)
            .map_err(|error| diags::cannot_apply(&described, &error, patch.origin))?,
    }
    let identity = [
        "/apiVersion",
        "/kind",
        "/metadata/name",
        "/metadata/namespace",
    ];
    if identity
        .iter()
        .any(|p| value.pointer(p) != object.pointer(p))
    {
        return Err(diags::changes_identity(&described, patch.origin));
    }
    let data = ["/data", "/binaryData"];
    if kind == Kind::ConfigMap && data.iter().any(|p| value.pointer(p) != object.pointer(p)) {
        return Err(diags::changes_config_data(&described, patch.origin));
    }
    let problems = schema_problems(kind, &value);
    if !problems.is_empty() {
        return Err(diags::breaks_schema(&described, &problems, patch.origin));
    }
    Ok(value)
}

/// `StatefulSet data/kafka-broker`.
fn describe(kind: Kind, object: &Value) -> String {
    let field = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
    format!(
        "{kind} {}/{}",
        field("/metadata/namespace").unwrap_or_default(),
        field("/metadata/name").unwrap_or_default()
    )
}

/// Patches that matched no object of the run. When only some clusters were rendered (the
/// Argo CD `clusters` parameter), a patch may be meant for the others: nothing is said.
pub fn unmatched(patches: &[Patch], matched: &BTreeSet<usize>, partial: bool) -> Vec<Diagnostic> {
    if partial {
        return Vec::new();
    }
    patches
        .iter()
        .filter(|patch| !matched.contains(&patch.index))
        .map(|patch| diags::matches_nothing(patch.origin))
        .collect()
}

/// At most this many schema problems are named per patched object.
const MAX_PROBLEMS: usize = 3;

/// What Kubernetes' schema of the kind finds wrong with an object, worded for one line each.
fn schema_problems(kind: Kind, value: &Value) -> Vec<String> {
    let (schema, validator) = validator(kind);
    validator
        .iter_errors(value)
        .take(MAX_PROBLEMS)
        .map(|error| {
            let field = field_name(error.instance_path().as_str());
            match error.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    let key = unexpected.first().map(String::as_str).unwrap_or_default();
                    let known = failing_schema(schema, &error)
                        .and_then(|node| node.get("properties"))
                        .and_then(Value::as_object)
                        .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>())
                        .unwrap_or_default();
                    let hint = crate::diag::did_you_mean(key, known)
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default();
                    format!("unknown field `{key}` in {field}{hint}")
                }
                _ => format!("{field}: {error}"),
            }
        })
        .collect()
}

/// Kubernetes' schema of a rendered kind, compiled on first use: only runs with patches pay for
/// it.
#[expect(
    clippy::expect_used,
    reason = "the definitions are part of the program, not its input: a unit test compiles each \
              of them, so one that does not compile never ships"
)]
fn validator(kind: Kind) -> &'static (Value, jsonschema::Validator) {
    type Compiled = OnceLock<(Value, jsonschema::Validator)>;
    static NETWORK_POLICY: Compiled = OnceLock::new();
    static DISRUPTION_BUDGET: Compiled = OnceLock::new();
    static CONFIG_MAP: Compiled = OnceLock::new();
    static SERVICE: Compiled = OnceLock::new();
    static STATEFUL_SET: Compiled = OnceLock::new();
    let (cell, definition) = match kind {
        Kind::NetworkPolicy => (&NETWORK_POLICY, "io.k8s.api.networking.v1.NetworkPolicy"),
        Kind::PodDisruptionBudget => (
            &DISRUPTION_BUDGET,
            "io.k8s.api.policy.v1.PodDisruptionBudget",
        ),
        Kind::ConfigMap => (&CONFIG_MAP, "io.k8s.api.core.v1.ConfigMap"),
        Kind::Service => (&SERVICE, "io.k8s.api.core.v1.Service"),
        Kind::StatefulSet => (&STATEFUL_SET, "io.k8s.api.apps.v1.StatefulSet"),
    };
    cell.get_or_init(|| {
        let schema = kubernetes::object_schema(definition);
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .with_retriever(kubernetes::Embedded)
            .build(&schema)
            .expect("embedded Kubernetes definitions compile");
        (schema, validator)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rendered_kind_has_a_compiled_schema() {
        for kind in [
            Kind::NetworkPolicy,
            Kind::PodDisruptionBudget,
            Kind::ConfigMap,
            Kind::Service,
            Kind::StatefulSet,
        ] {
            let (_, validator) = validator(kind);
            assert!(
                !validator.is_valid(&serde_json::json!({"kind": kind, "x": 1})),
                "{kind}"
            );
        }
        let bad = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "dat": {}});
        let problems = schema_problems(Kind::ConfigMap, &bad);
        assert_eq!(
            problems,
            ["unknown field `dat` in the document (did you mean \"data\"?)"]
        );
    }
}
