//! KRM function (`kdrender fn`): a `ResourceList` in on stdin, the same list plus every rendered
//! object out on stdout, so that kustomize (`--enable-alpha-plugins --enable-exec`) and kpt can
//! run kdrender as a generator.
//!
//! The function's settings are its `functionConfig`, a `RenderFunction`
//! (`kdrender.dev/v1alpha1`) whose `spec.path` names the folder to render, relative to the
//! directory the tool runs the function in, which is the root of what the function may read
//! (the same confinement as `render`; see [`config`]). Input items pass through unchanged, as the
//! text they were written in (see [`resource_list`]); rendered objects get
//! `config.kubernetes.io/path` annotations naming the file kpt would write them to. Problems go
//! into `results` (severity `error`, with file and line; the first 50, then a count of the rest)
//! and to stderr, with exit code 1. The command that runs all this is
//! [`crate::commands::function`].

pub mod config;
mod resource_list;

use std::io::{self, Read};

use serde_json::{Map, Value, json};

use crate::diag::{Diagnostics, MAX_SHOWN, Severity};
use crate::options::OptionsError;
use crate::pipeline::Rendered;
use crate::source::{Location, SourceMap};
pub use config::{ConfigError, FUNCTION_API_VERSION, FUNCTION_KIND, FunctionConfig};
pub use resource_list::{ListError, ResourceList};

/// Why the function refuses to run, or cannot write its output.
#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    #[error("cannot read a ResourceList from stdin: {0}")]
    Stdin(#[source] io::Error),
    #[error(
        "the ResourceList on stdin is larger than {0} bytes, the limit for all inputs of a render"
    )]
    TooLarge(u64),
    #[error("stdin is not a ResourceList: {0}")]
    NotAList(#[source] ListError),
    #[error("stdin is not a ResourceList (kind: ResourceList)")]
    NotAResourceList,
    /// The functionConfig cannot be read, or the items cannot pass through unchanged.
    #[error(transparent)]
    List(#[from] ListError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    WorkingDirectory(#[from] OptionsError),
    #[error(
        "no objects rendered: no KubeDirectorCluster was found below spec.path (set spec.allowEmpty to allow it)"
    )]
    NothingRendered,
    /// Serialising the rendered objects or the results failed.
    #[error("{0}")]
    Yaml(Box<dyn std::error::Error + Send + Sync>),
}

impl FunctionError {
    pub fn exit_code(&self) -> i32 {
        crate::exit::INVALID_INPUT
    }
}

/// Reads the ResourceList from stdin, refusing more than the inputs of a whole run may hold.
pub fn read_input(stdin: &mut dyn Read) -> Result<String, FunctionError> {
    let limit = crate::load::InputLimits::default().max_total_bytes;
    let mut input = String::new();
    let read = stdin
        .take(limit.saturating_add(1))
        .read_to_string(&mut input)
        .map_err(FunctionError::Stdin)?;
    if u64::try_from(read).unwrap_or(u64::MAX) > limit {
        return Err(FunctionError::TooLarge(limit));
    }
    Ok(input)
}

/// The ResourceList a text holds.
pub fn read_list(input: &str) -> Result<ResourceList<'_>, FunctionError> {
    let list = ResourceList::read(input).map_err(FunctionError::NotAList)?;
    if list.kind.as_deref() != Some("ResourceList") {
        return Err(FunctionError::NotAResourceList);
    }
    Ok(list)
}

/// What the list's functionConfig asks for.
pub fn function_config(list: &ResourceList<'_>) -> Result<FunctionConfig, FunctionError> {
    let config = list.function_config()?;
    Ok(FunctionConfig::read(config.as_ref())?)
}

/// The output list of a successful run: the items passed through, the rendered objects, and the
/// warnings as results.
pub fn output(list: &ResourceList<'_>, rendered: &Rendered) -> Result<String, FunctionError> {
    let objects = rendered.objects.iter().map(with_path_annotations).collect();
    let warnings = results(&rendered.diagnostics, &rendered.sources, Severity::Warning);
    write(list, objects, warnings)
}

/// The output list of a refused run: the items passed through (when they can be), and the
/// error as a result. `None` when not even an empty list can be written.
pub fn refusal(list: &ResourceList<'_>, error: &FunctionError) -> Option<String> {
    failed(
        list,
        vec![result(&error.to_string(), None, Severity::Error)],
    )
}

/// The output list of a run whose inputs do not render: every error as a result.
pub fn failure(
    list: &ResourceList<'_>,
    diagnostics: &Diagnostics,
    sources: &SourceMap,
) -> Option<String> {
    failed(list, results(diagnostics, sources, Severity::Error))
}

/// The items (or, when they cannot pass through, none) and the results.
fn failed(list: &ResourceList<'_>, results: Vec<Value>) -> Option<String> {
    write(list, Vec::new(), results.clone())
        .or_else(|_| write(&ResourceList::default(), Vec::new(), results))
        .ok()
}

/// A rendered object with the annotations that tell kpt which file to write it to.
fn with_path_annotations(object: &crate::render::Object) -> Value {
    let mut value = object.value.clone();
    let path = crate::output_dir::file_name(object);
    let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) else {
        return value;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(annotations) = annotations.as_object_mut() {
        for key in [
            "config.kubernetes.io/path",
            "internal.config.kubernetes.io/path",
        ] {
            annotations.insert(key.to_string(), json!(path));
        }
        for key in [
            "config.kubernetes.io/index",
            "internal.config.kubernetes.io/index",
        ] {
            annotations.insert(key.to_string(), json!("0"));
        }
    }
    value
}

/// The problems of one severity as KRM results: the first [`MAX_SHOWN`] in order, then one
/// that counts the rest.
fn results(diagnostics: &Diagnostics, sources: &SourceMap, severity: Severity) -> Vec<Value> {
    let found: Vec<&crate::diag::Diagnostic> = diagnostics
        .sorted()
        .into_iter()
        .filter(|d| d.severity == severity)
        .collect();
    let mut out: Vec<Value> = found
        .iter()
        .take(MAX_SHOWN)
        .map(|d| result(&d.message, d.origin.map(|o| sources.describe(o)), severity))
        .collect();
    let hidden = found
        .len()
        .saturating_sub(MAX_SHOWN)
        .saturating_add(diagnostics.dropped(severity));
    if hidden > 0 {
        let label = severity_name(severity);
        let plural = if hidden == 1 { "" } else { "s" };
        let message = format!("… and {hidden} more {label}{plural}");
        out.push(result(&message, None, severity));
    }
    out
}

/// KRM's name of a severity.
fn severity_name(severity: Severity) -> &'static str {
    if severity == Severity::Error {
        "error"
    } else {
        "warning"
    }
}

/// A KRM result, at a place in an input file when it has one.
fn result(message: &str, at: Option<Location<'_>>, severity: Severity) -> Value {
    let severity = severity_name(severity);
    match at {
        None => json!({"message": message, "severity": severity}),
        Some(at) => json!({
            "message": format!("{at}: {message}"),
            "severity": severity,
            "file": {"path": at.path},
        }),
    }
}

/// The output list: the input's items as written, then `objects` and `results` from kdrender's
/// own emitter.
fn write(
    list: &ResourceList<'_>,
    objects: Vec<Value>,
    results: Vec<Value>,
) -> Result<String, FunctionError> {
    let yaml =
        |value: &Value| crate::emit::to_yaml(value).map_err(|e| FunctionError::Yaml(e.into()));
    let rendered = if objects.is_empty() {
        String::new()
    } else {
        yaml(&Value::Array(objects))?
    };
    let results = if results.is_empty() {
        String::new()
    } else {
        yaml(&json!({ "results": results }))?
    };
    Ok(list.write(&rendered, &results)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_names_its_file_whatever_the_file_is_called() {
        let at = Location {
            path: "envs/a:b/cluster.yaml",
            line: 3,
            column: 7,
        };
        let found = result("wrong", Some(at), Severity::Error);
        assert_eq!(
            found,
            json!({
                "message": "envs/a:b/cluster.yaml:3:7: wrong",
                "severity": "error",
                "file": {"path": "envs/a:b/cluster.yaml"},
            })
        );
        let found = result("odd", None, Severity::Warning);
        assert_eq!(found, json!({"message": "odd", "severity": "warning"}));
    }
}
