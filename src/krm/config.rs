//! The function's `functionConfig`: a `RenderFunction` (`kdrender.dev/v1alpha1`) whose `spec`
//! says what to render, checked field by field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::validate::Overrides;

pub const FUNCTION_KIND: &str = "RenderFunction";
pub const FUNCTION_API_VERSION: &str = "kdrender.dev/v1alpha1";

/// The fields `spec` may hold.
const KNOWN_FIELDS: [&str; 5] = ["path", "namespace", "allowEmpty", "clusters", "labels"];

/// What the functionConfig asks for.
#[derive(Debug)]
pub struct FunctionConfig {
    /// The folder to render, relative to the folder the function runs in, inside it.
    pub path: PathBuf,
    pub overrides: Overrides,
    pub allow_empty: bool,
}

/// Why a functionConfig is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "the ResourceList has no functionConfig; give a {FUNCTION_KIND} ({FUNCTION_API_VERSION}) with spec.path"
    )]
    Missing,
    #[error(
        "the functionConfig must be a {FUNCTION_KIND} of {FUNCTION_API_VERSION}, not {api_version} {kind}"
    )]
    WrongKind {
        /// As JSON: `"v1"`, or `null` when absent.
        api_version: Value,
        kind: Value,
    },
    #[error(
        "unknown field spec.{0} in the {FUNCTION_KIND}; known: path, namespace, allowEmpty, clusters, labels"
    )]
    UnknownField(String),
    #[error("the {FUNCTION_KIND} needs spec.path: the folder to render")]
    NoPath,
    #[error(
        "spec.path {0} is absolute; it must be relative to the folder the function runs in, which is all the function reads"
    )]
    AbsolutePath(String),
    #[error(
        "spec.path {0} leads outside the folder the function runs in, which is all the function reads"
    )]
    PathOutside(String),
    #[error("spec.{0} must be a list of strings")]
    NotAListOfStrings(&'static str),
    #[error("spec.labels must be a map of strings")]
    LabelsNotStrings,
    #[error("spec.namespace must be a string")]
    NamespaceNotAString,
    #[error("spec.allowEmpty must be true or false")]
    AllowEmptyNotABoolean,
}

impl FunctionConfig {
    /// Reads a functionConfig (`None` when the list has none).
    pub fn read(config: Option<&Value>) -> Result<FunctionConfig, ConfigError> {
        let config = config
            .filter(|c| !c.is_null())
            .ok_or(ConfigError::Missing)?;
        let (api_version, kind) = (field(config, "apiVersion"), field(config, "kind"));
        if kind != FUNCTION_KIND || api_version != FUNCTION_API_VERSION {
            return Err(ConfigError::WrongKind {
                api_version: api_version.clone(),
                kind: kind.clone(),
            });
        }
        let empty = Map::new();
        let spec = config
            .get("spec")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        if let Some(unknown) = spec.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
            return Err(ConfigError::UnknownField(unknown.clone()));
        }
        let path = spec
            .get("path")
            .and_then(Value::as_str)
            .ok_or(ConfigError::NoPath)?;
        let path = confined_path(path)?;
        // Checked in this order, so that a config with several problems is refused for the same
        // one every time.
        let labels = labels(spec)?;
        let namespace = namespace(spec)?;
        let allow_empty = allow_empty(spec)?;
        let clusters = strings(spec, "clusters")?;
        Ok(FunctionConfig {
            path,
            overrides: Overrides {
                namespace,
                clusters,
                labels,
                ..Overrides::default()
            },
            allow_empty,
        })
    }
}

/// A field of the config, `null` when absent.
fn field<'a>(config: &'a Value, name: &str) -> &'a Value {
    config.get(name).unwrap_or(&Value::Null)
}

/// `spec.path` as a path below the folder the function runs in: relative, and not leaving it
/// (where its symlinks lead is judged when reading starts, as for `render`).
fn confined_path(path: &str) -> Result<PathBuf, ConfigError> {
    let folded = crate::load::normalize(Path::new(path));
    if Path::new(path).is_absolute() {
        return Err(ConfigError::AbsolutePath(path.to_string()));
    }
    if folded.starts_with("..") {
        return Err(ConfigError::PathOutside(path.to_string()));
    }
    Ok(folded)
}

fn strings(
    spec: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<Vec<String>>, ConfigError> {
    match spec.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or(ConfigError::NotAListOfStrings(name)),
        Some(_) => Err(ConfigError::NotAListOfStrings(name)),
    }
}

fn labels(spec: &Map<String, Value>) -> Result<BTreeMap<String, String>, ConfigError> {
    let Some(map) = spec.get("labels") else {
        return Ok(BTreeMap::new());
    };
    let map = map.as_object().ok_or(ConfigError::LabelsNotStrings)?;
    map.iter()
        .map(|(key, value)| match value.as_str() {
            Some(value) => Ok((key.clone(), value.to_string())),
            None => Err(ConfigError::LabelsNotStrings),
        })
        .collect()
}

fn namespace(spec: &Map<String, Value>) -> Result<Option<String>, ConfigError> {
    match spec.get("namespace") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ConfigError::NamespaceNotAString),
    }
}

fn allow_empty(spec: &Map<String, Value>) -> Result<bool, ConfigError> {
    match spec.get("allowEmpty") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ConfigError::AllowEmptyNotABoolean),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(config: Value) -> String {
        FunctionConfig::read(Some(&config)).unwrap_err().to_string()
    }

    #[test]
    fn function_config_is_checked() {
        let ok = FunctionConfig::read(Some(&json!({
            "apiVersion": FUNCTION_API_VERSION, "kind": FUNCTION_KIND,
            "spec": {"path": "clusters", "allowEmpty": true, "clusters": ["a"], "labels": {"t": "x"}},
        })))
        .unwrap();
        assert_eq!(ok.path, PathBuf::from("clusters"));
        assert!(ok.allow_empty);
        assert_eq!(ok.overrides.clusters, Some(vec!["a".to_string()]));
        assert_eq!(ok.overrides.labels["t"], "x");
        assert_eq!(
            FunctionConfig::read(None).unwrap_err(),
            ConfigError::Missing
        );
        assert!(
            ConfigError::Missing
                .to_string()
                .contains("no functionConfig")
        );
        assert_eq!(
            refusal(json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {}})),
            "the functionConfig must be a RenderFunction of kdrender.dev/v1alpha1, not \"v1\" \"ConfigMap\""
        );
        assert_eq!(
            refusal(json!({"kind": FUNCTION_KIND})),
            "the functionConfig must be a RenderFunction of kdrender.dev/v1alpha1, not null \"RenderFunction\""
        );
        let typo = json!({"apiVersion": FUNCTION_API_VERSION, "kind": FUNCTION_KIND, "spec": {"pth": "x"}});
        assert!(refusal(typo).contains("unknown field spec.pth"),);
    }

    #[test]
    fn each_field_of_the_wrong_shape_is_named() {
        let with = |spec: Value| {
            refusal(
                json!({"apiVersion": FUNCTION_API_VERSION, "kind": FUNCTION_KIND, "spec": spec}),
            )
        };
        for (spec, expected) in [
            (json!({}), "needs spec.path"),
            (json!({"path": "/etc"}), "spec.path /etc is absolute"),
            (
                json!({"path": "a/../.."}),
                "spec.path a/../.. leads outside",
            ),
            (
                json!({"path": ".", "clusters": "a"}),
                "spec.clusters must be a list of strings",
            ),
            (
                json!({"path": ".", "clusters": [1]}),
                "spec.clusters must be a list of strings",
            ),
            (
                json!({"path": ".", "labels": {"a": 1}}),
                "spec.labels must be a map of strings",
            ),
            (
                json!({"path": ".", "labels": []}),
                "spec.labels must be a map of strings",
            ),
            (
                json!({"path": ".", "namespace": 1}),
                "spec.namespace must be a string",
            ),
            (
                json!({"path": ".", "allowEmpty": "yes"}),
                "spec.allowEmpty must be true or false",
            ),
        ] {
            let refused = with(spec.clone());
            assert!(refused.contains(expected), "{spec}: {refused}");
        }
    }
}
