//! KRM function (`kdrender fn`): a `ResourceList` in on stdin, the same list plus every rendered
//! object out on stdout, so that kustomize (`--enable-alpha-plugins --enable-exec`) and kpt can
//! run kdrender as a generator.
//!
//! The function's settings are its `functionConfig`, a `RenderFunction`
//! (`kdrender.dev/v1alpha1`) whose `spec.path` names the folder to render, relative to the
//! directory the tool runs the function in, which is the root of what the function may read
//! (the same confinement as `render`). Input items pass through unchanged, as the text they
//! were written in (see [`resource_list`]); rendered objects get `config.kubernetes.io/path`
//! annotations naming the file kpt would write them to. Problems go into `results` (severity
//! `error`, with file and line; the first 50, then a count of the rest) and to stderr, with exit
//! code 1.

mod resource_list;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::cli::{Environment, InputOptions};
use crate::diag::{MAX_SHOWN, Severity};
use crate::validate::{Overrides, Scope};
use crate::{Outcome, Text, exit, output_dir};
use resource_list::ResourceList;

pub const FUNCTION_KIND: &str = "RenderFunction";
pub const FUNCTION_API_VERSION: &str = "kdrender.dev/v1alpha1";

/// What the functionConfig asks for.
#[derive(Debug)]
struct FunctionConfig {
    path: PathBuf,
    overrides: Overrides,
    allow_empty: bool,
}

fn function_config(config: Option<&Value>) -> Result<FunctionConfig, String> {
    let Some(config) = config.filter(|c| !c.is_null()) else {
        return Err(format!(
            "the ResourceList has no functionConfig; give a {FUNCTION_KIND} ({FUNCTION_API_VERSION}) with spec.path"
        ));
    };
    if config["kind"] != FUNCTION_KIND || config["apiVersion"] != FUNCTION_API_VERSION {
        return Err(format!(
            "the functionConfig must be a {FUNCTION_KIND} of {FUNCTION_API_VERSION}, not {} {}",
            config["apiVersion"], config["kind"]
        ));
    }
    let empty = Map::new();
    let spec = config["spec"].as_object().unwrap_or(&empty);
    for key in spec.keys() {
        if !["path", "namespace", "allowEmpty", "clusters", "labels"].contains(&key.as_str()) {
            return Err(format!(
                "unknown field spec.{key} in the {FUNCTION_KIND}; known: path, namespace, allowEmpty, clusters, labels"
            ));
        }
    }
    let path = spec
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the {FUNCTION_KIND} needs spec.path: the folder to render"))?;
    let path = confined_path(path)?;
    let strings = |field: &str| -> Result<Option<Vec<String>>, String> {
        match spec.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| format!("spec.{field} must be a list of strings")),
            Some(_) => Err(format!("spec.{field} must be a list of strings")),
        }
    };
    let mut labels = std::collections::BTreeMap::new();
    if let Some(map) = spec.get("labels") {
        let map = map
            .as_object()
            .ok_or("spec.labels must be a map of strings")?;
        for (key, value) in map {
            let value = value
                .as_str()
                .ok_or("spec.labels must be a map of strings")?;
            labels.insert(key.clone(), value.to_string());
        }
    }
    let namespace = match spec.get("namespace") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("spec.namespace must be a string".to_string()),
    };
    let allow_empty = match spec.get("allowEmpty") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("spec.allowEmpty must be true or false".to_string()),
    };
    Ok(FunctionConfig {
        path,
        overrides: Overrides {
            namespace,
            clusters: strings("clusters")?,
            labels,
            ..Overrides::default()
        },
        allow_empty,
    })
}

/// `spec.path` as a path below the folder the function runs in: relative, and not leaving it
/// (where its symlinks lead is judged when reading starts, as for `render`).
fn confined_path(path: &str) -> Result<PathBuf, String> {
    let folded = crate::cli::normalize(Path::new(path));
    if Path::new(path).is_absolute() {
        return Err(format!(
            "spec.path {path} is absolute; it must be relative to the folder the function runs in, which is all the function reads"
        ));
    }
    if folded.starts_with("..") {
        return Err(format!(
            "spec.path {path} leads outside the folder the function runs in, which is all the function reads"
        ));
    }
    Ok(folded)
}

/// Reads the ResourceList from stdin, refusing more than the inputs of a whole run may hold.
pub fn read_input(stdin: &mut dyn std::io::Read, input: &mut String) -> Result<(), String> {
    let limit = crate::load::InputLimits::default().max_total_bytes;
    use std::io::Read as _;
    let read = stdin
        .take(limit.saturating_add(1))
        .read_to_string(input)
        .map_err(|e| format!("cannot read a ResourceList from stdin: {e}"))?;
    if u64::try_from(read).unwrap_or(u64::MAX) > limit {
        return Err(format!(
            "the ResourceList on stdin is larger than {limit} bytes, the limit for all inputs of a render"
        ));
    }
    Ok(())
}

/// Runs the function on a ResourceList's text.
pub fn run(input: &str, env: &Environment) -> Outcome {
    let list = match ResourceList::read(input) {
        Ok(list) => list,
        Err(message) => {
            let message = format!("stdin is not a ResourceList: {message}");
            return failure(&ResourceList::default(), vec![result(&message, None)]);
        }
    };
    if list.kind.as_deref() != Some("ResourceList") {
        let message = "stdin is not a ResourceList (kind: ResourceList)";
        return failure(&ResourceList::default(), vec![result(message, None)]);
    }
    let config = match list
        .function_config()
        .and_then(|config| function_config(config.as_ref()))
    {
        Ok(config) => config,
        Err(message) => return failure(&list, vec![result(&message, None)]),
    };
    // The folder kustomize or kpt runs the function in is the root: nothing outside it is read.
    let root = match env.working_directory() {
        Ok(root) => root,
        Err(diagnostic) => return failure(&list, vec![result(&diagnostic.message, None)]),
    };
    let options = InputOptions {
        path: root.join(&config.path),
        root,
        overrides: Overrides {
            argocd_namespace: None,
            ..config.overrides
        },
    };
    match crate::render_objects(&options, Scope::UsedApps, crate::emit::MAX_OUTPUT_BYTES) {
        Ok(rendered) => {
            let stderr = rendered.diagnostics.render(&rendered.sources);
            if rendered.objects.is_empty() && !config.allow_empty {
                let message = "no objects rendered: no KubeDirectorCluster was found below spec.path (set spec.allowEmpty to allow it)";
                return failure(&list, vec![result(message, None)]);
            }
            let objects = rendered.objects.iter().map(with_path_annotations).collect();
            let warnings = results(&rendered.diagnostics, &rendered.sources, Severity::Warning);
            match write(&list, objects, warnings) {
                Ok(text) => Outcome {
                    stdout: Text::from(text),
                    stderr,
                    code: exit::SUCCESS,
                },
                Err(message) => failure(&ResourceList::default(), vec![result(&message, None)]),
            }
        }
        Err(report) => {
            let errors = results(&report.diagnostics, &report.sources, Severity::Error);
            let mut outcome = failure(&list, errors);
            outcome.stderr = report.report();
            outcome
        }
    }
}

/// A rendered object with the annotations that tell kpt which file to write it to.
fn with_path_annotations(object: &crate::render::Object) -> Value {
    let mut value = object.value.clone();
    let path = output_dir::file_name(object);
    for key in [
        "config.kubernetes.io/path",
        "internal.config.kubernetes.io/path",
    ] {
        value["metadata"]["annotations"][key] = json!(path);
    }
    for key in [
        "config.kubernetes.io/index",
        "internal.config.kubernetes.io/index",
    ] {
        value["metadata"]["annotations"][key] = json!("0");
    }
    value
}

/// The problems of one severity as KRM results: the first [`MAX_SHOWN`] in order, then one
/// that counts the rest.
fn results(
    diagnostics: &crate::diag::Diagnostics,
    sources: &crate::source::SourceMap,
    severity: Severity,
) -> Vec<Value> {
    let found: Vec<&crate::diag::Diagnostic> = diagnostics
        .sorted()
        .into_iter()
        .filter(|d| d.severity == severity)
        .collect();
    let label = if severity == Severity::Error {
        "error"
    } else {
        "warning"
    };
    let mut out: Vec<Value> = found
        .iter()
        .take(MAX_SHOWN)
        .map(|d| {
            let mut r = result(
                &d.message,
                d.origin.map(|o| sources.describe(o).to_string()),
            );
            r["severity"] = json!(label);
            r
        })
        .collect();
    let hidden = found
        .len()
        .saturating_sub(MAX_SHOWN)
        .saturating_add(diagnostics.dropped(severity));
    if hidden > 0 {
        let plural = if hidden == 1 { "" } else { "s" };
        let mut r = result(&format!("… and {hidden} more {label}{plural}"), None);
        r["severity"] = json!(label);
        out.push(r);
    }
    out
}

/// A KRM result; `at` is `path:line:column`.
fn result(message: &str, at: Option<String>) -> Value {
    let mut result = json!({"message": message, "severity": "error"});
    if let Some(at) = at {
        let path = at.split(':').next().unwrap_or_default().to_string();
        result["message"] = json!(format!("{at}: {message}"));
        result["file"] = json!({"path": path});
    }
    result
}

/// The output list: the input's items as written, then `objects` and `results` from kdrender's
/// own emitter.
fn write(list: &ResourceList, objects: Vec<Value>, results: Vec<Value>) -> Result<String, String> {
    let rendered = if objects.is_empty() {
        String::new()
    } else {
        crate::emit::to_yaml(&Value::Array(objects)).map_err(|e| e.to_string())?
    };
    let results = if results.is_empty() {
        String::new()
    } else {
        crate::emit::to_yaml(&json!({ "results": results })).map_err(|e| e.to_string())?
    };
    list.write(&rendered, &results)
}

fn failure(list: &ResourceList, results: Vec<Value>) -> Outcome {
    let stderr: String = results
        .iter()
        .map(|r| format!("error: {}\n", r["message"].as_str().unwrap_or_default()))
        .collect();
    let stdout = write(list, Vec::new(), results.clone())
        .or_else(|_| write(&ResourceList::default(), Vec::new(), results));
    Outcome {
        stdout: stdout.map(Text::from).unwrap_or_default(),
        stderr,
        code: exit::INVALID_INPUT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_config_is_checked() {
        let ok = function_config(Some(&json!({
            "apiVersion": FUNCTION_API_VERSION, "kind": FUNCTION_KIND,
            "spec": {"path": "clusters", "allowEmpty": true, "clusters": ["a"], "labels": {"t": "x"}},
        })))
        .unwrap();
        assert_eq!(ok.path, PathBuf::from("clusters"));
        assert!(ok.allow_empty);
        assert_eq!(ok.overrides.clusters, Some(vec!["a".to_string()]));
        assert!(
            function_config(None)
                .unwrap_err()
                .contains("no functionConfig")
        );
        let wrong_kind = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {}});
        assert!(
            function_config(Some(&wrong_kind))
                .unwrap_err()
                .contains("must be a RenderFunction")
        );
        let typo = json!({"apiVersion": FUNCTION_API_VERSION, "kind": FUNCTION_KIND, "spec": {"pth": "x"}});
        assert!(
            function_config(Some(&typo))
                .unwrap_err()
                .contains("unknown field spec.pth")
        );
    }
}
