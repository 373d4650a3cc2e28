//! Argo CD's config-management-plugin contract: the parameters an Application passes, and their
//! announcement for Argo CD's UI.
//!
//! Argo CD hands parameters to the plugin as JSON in `ARGOCD_APP_PARAMETERS`: absent (no
//! `plugin:` block), `null` (a `plugin:` block without parameters) or a list of
//! `{"name": …, "string" | "array" | "map": …}`. The `PARAM_*` variables it also sets can
//! collide and are ignored. Values from `plugin.env` arrive as `ARGOCD_ENV_<NAME>`; kdrender
//! reads `ARGOCD_ENV_KDRENDER_NAMESPACE` and `ARGOCD_ENV_KDRENDER_ALLOW_EMPTY` as fallbacks for
//! the parameters of the same meaning, and no unprefixed variable.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// What an Application asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parameters {
    /// Namespace for clusters that name none (over the Application's destination namespace).
    pub namespace: Option<String>,
    /// Succeed with no objects.
    pub allow_empty: bool,
    /// Render only these clusters.
    pub clusters: Option<Vec<String>>,
    /// Labels added to every object.
    pub labels: BTreeMap<String, String>,
}

/// The shape of a parameter's value.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    String,
    Array,
    Map,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::String => "string",
            Shape::Array => "array",
            Shape::Map => "map",
        }
    }
}

/// The parameters kdrender takes: name, shape, title, tooltip.
const KNOWN: [(&str, Shape, &str, &str); 4] = [
    (
        "namespace",
        Shape::String,
        "Namespace",
        "Namespace for clusters that name none. Empty: the Application's destination namespace.",
    ),
    (
        "allow-empty",
        Shape::String,
        "Allow an empty render",
        "\"true\" to succeed when nothing is rendered. Otherwise that is an error, because pruning would delete everything.",
    ),
    (
        "clusters",
        Shape::Array,
        "Clusters",
        "Render only these KubeDirectorClusters (by name). Empty: every cluster in the folder.",
    ),
    (
        "labels",
        Shape::Map,
        "Extra labels",
        "Labels added to every rendered object.",
    ),
];

/// Why the parameters are refused; each error names the parameter and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum ParameterError {
    #[error("ARGOCD_APP_PARAMETERS is not valid JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("ARGOCD_APP_PARAMETERS must be a JSON list of parameters")]
    NotAList,
    #[error("ARGOCD_APP_PARAMETERS holds an entry without a name: {0}")]
    NoName(Value),
    #[error("unknown plugin parameter \"{0}\"; kdrender takes {names}", names = known_names())]
    Unknown(String),
    #[error("plugin parameter \"{name}\" takes a {} value, not {given}", shape.name())]
    WrongShape {
        name: String,
        shape: Shape,
        /// The shapes given, in words (`none`, `map`, `string and array`).
        given: String,
    },
    #[error("plugin parameter \"{name}\" must be {expected}")]
    WrongValue {
        name: &'static str,
        expected: &'static str,
    },
    #[error("{what} must be \"true\" or \"false\", not \"{text}\"")]
    NotABoolean { what: &'static str, text: String },
}

impl ParameterError {
    pub fn exit_code(&self) -> i32 {
        crate::exit::INVALID_INPUT
    }
}

fn known_names() -> String {
    KNOWN.map(|(name, ..)| name).join(", ")
}

/// Reads the parameters from `ARGOCD_APP_PARAMETERS` (and the `ARGOCD_ENV_KDRENDER_*`
/// fallbacks). Errors name the parameter and what is wrong with it.
pub fn parse(
    parameters_json: Option<&str>,
    env: &BTreeMap<String, String>,
) -> Result<Parameters, ParameterError> {
    let mut parameters = Parameters {
        namespace: env
            .get("KDRENDER_NAMESPACE")
            .filter(|v| !v.is_empty())
            .cloned(),
        allow_empty: match env.get("KDRENDER_ALLOW_EMPTY") {
            Some(value) => boolean("ARGOCD_ENV_KDRENDER_ALLOW_EMPTY", value)?,
            None => false,
        },
        ..Parameters::default()
    };
    let Some(text) = parameters_json.filter(|t| !t.trim().is_empty()) else {
        return Ok(parameters);
    };
    let entries = match serde_json::from_str(text).map_err(ParameterError::NotJson)? {
        Value::Null => return Ok(parameters),
        Value::Array(entries) => entries,
        _ => return Err(ParameterError::NotAList),
    };
    for entry in &entries {
        let (name, value) = known_entry(entry)?;
        apply(&mut parameters, name, value)?;
    }
    Ok(parameters)
}

/// A parameter kdrender takes, and its value of the shape it takes.
fn known_entry(entry: &Value) -> Result<(&'static str, &Value), ParameterError> {
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ParameterError::NoName(entry.clone()))?;
    let Some(&(known, shape, ..)) = KNOWN.iter().find(|(known, ..)| *known == name) else {
        return Err(ParameterError::Unknown(name.to_string()));
    };
    let given: Vec<&str> = ["string", "array", "map"]
        .into_iter()
        .filter(|key| entry.get(*key).is_some())
        .collect();
    match entry.get(shape.name()) {
        Some(value) if given == [shape.name()] => Ok((known, value)),
        _ => Err(ParameterError::WrongShape {
            name: name.to_string(),
            shape,
            given: if given.is_empty() {
                "none".to_string()
            } else {
                given.join(" and ")
            },
        }),
    }
}

/// Sets what one parameter asks for.
fn apply(
    parameters: &mut Parameters,
    name: &'static str,
    value: &Value,
) -> Result<(), ParameterError> {
    let wrong = |expected| ParameterError::WrongValue { name, expected };
    match name {
        "namespace" => {
            let text = value.as_str().ok_or_else(|| wrong("a string"))?;
            if !text.is_empty() {
                parameters.namespace = Some(text.to_string());
            }
        }
        "allow-empty" => {
            let text = value.as_str().ok_or_else(|| wrong("a string"))?;
            parameters.allow_empty = boolean("plugin parameter \"allow-empty\"", text)?;
        }
        "clusters" => {
            let names = value
                .as_array()
                .and_then(|items| {
                    items
                        .iter()
                        .map(|item| item.as_str().map(str::to_string))
                        .collect::<Option<Vec<String>>>()
                })
                .ok_or_else(|| wrong("a list of strings"))?;
            if !names.is_empty() {
                parameters.clusters = Some(names);
            }
        }
        _ => {
            let map = value.as_object().ok_or_else(|| wrong("a map of strings"))?;
            for (key, value) in map {
                let value = value.as_str().ok_or_else(|| wrong("a map of strings"))?;
                parameters.labels.insert(key.clone(), value.to_string());
            }
        }
    }
    Ok(())
}

fn boolean(what: &'static str, text: &str) -> Result<bool, ParameterError> {
    match text {
        "true" => Ok(true),
        "false" | "" => Ok(false),
        _ => Err(ParameterError::NotABoolean {
            what,
            text: text.to_string(),
        }),
    }
}

/// The parameter announcements (`kdrender argocd parameters`, and `parameters.static` in
/// plugin.yaml), with the defaults `parse` applies.
pub fn announcements() -> Value {
    Value::Array(
        KNOWN
            .iter()
            .map(|(name, shape, title, tooltip)| {
                let default = match shape {
                    Shape::String if *name == "allow-empty" => json!({"string": "false"}),
                    Shape::String => json!({"string": ""}),
                    Shape::Array => json!({"collectionType": "array", "array": []}),
                    Shape::Map => json!({"collectionType": "map", "map": {}}),
                };
                let mut announcement = json!({
                    "name": name,
                    "title": title,
                    "tooltip": tooltip,
                    "required": false,
                });
                if let (Some(announcement), Value::Object(default)) =
                    (announcement.as_object_mut(), default)
                {
                    announcement.extend(default);
                }
                announcement
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_json(text: Option<&str>) -> Result<Parameters, ParameterError> {
        parse(text, &BTreeMap::new())
    }

    fn refusal(text: &str) -> String {
        parse_json(Some(text)).unwrap_err().to_string()
    }

    #[test]
    fn absent_null_and_empty_mean_no_parameters() {
        for text in [None, Some(""), Some("null"), Some("[]")] {
            assert_eq!(parse_json(text).unwrap(), Parameters::default(), "{text:?}");
        }
    }

    #[test]
    fn every_shape_is_read() {
        let parameters = parse_json(Some(
            r#"[{"name":"namespace","string":"prod"},{"name":"allow-empty","string":"true"},
                {"name":"clusters","array":["kafka","hdfs"]},{"name":"labels","map":{"team":"data"}}]"#,
        ))
        .unwrap();
        assert_eq!(parameters.namespace.as_deref(), Some("prod"));
        assert!(parameters.allow_empty);
        assert_eq!(
            parameters.clusters,
            Some(vec!["kafka".to_string(), "hdfs".to_string()])
        );
        assert_eq!(parameters.labels["team"], "data");
        // Empty collections, as Argo CD sends them, mean the defaults.
        let empty = parse_json(Some(
            r#"[{"name":"clusters","array":[]},{"name":"labels","map":{}}]"#,
        ))
        .unwrap();
        assert_eq!(empty, Parameters::default());
    }

    #[test]
    fn unknown_names_and_wrong_shapes_are_clear_errors() {
        assert_eq!(
            refusal(r#"[{"name":"namespce","string":"x"}]"#),
            "unknown plugin parameter \"namespce\"; kdrender takes namespace, allow-empty, clusters, labels"
        );
        assert_eq!(
            refusal(r#"[{"name":"namespace","map":{"a":"b"}}]"#),
            "plugin parameter \"namespace\" takes a string value, not map"
        );
        assert_eq!(
            refusal(r#"[{"name":"labels","string":"a","array":[]}]"#),
            "plugin parameter \"labels\" takes a map value, not string and array"
        );
        assert_eq!(
            refusal(r#"[{"name":"labels"}]"#),
            "plugin parameter \"labels\" takes a map value, not none"
        );
        assert_eq!(
            refusal(r#"[{"name":"clusters","array":[1]}]"#),
            "plugin parameter \"clusters\" must be a list of strings"
        );
        assert_eq!(
            refusal(r#"[{"name":"labels","map":{"team":1}}]"#),
            "plugin parameter \"labels\" must be a map of strings"
        );
        assert_eq!(
            refusal(r#"[{"name":"allow-empty","string":"yes"}]"#),
            "plugin parameter \"allow-empty\" must be \"true\" or \"false\", not \"yes\""
        );
        assert_eq!(
            refusal(r#"[{"string":"x"}]"#),
            "ARGOCD_APP_PARAMETERS holds an entry without a name: {\"string\":\"x\"}"
        );
        assert!(refusal("{").starts_with("ARGOCD_APP_PARAMETERS is not valid JSON"));
        assert_eq!(
            refusal(r#"{"name":"x"}"#),
            "ARGOCD_APP_PARAMETERS must be a JSON list of parameters"
        );
    }

    #[test]
    fn prefixed_plugin_env_is_a_fallback() {
        let env: BTreeMap<String, String> = [
            ("KDRENDER_NAMESPACE".to_string(), "from-env".to_string()),
            ("KDRENDER_ALLOW_EMPTY".to_string(), "true".to_string()),
        ]
        .into();
        let parameters = parse(None, &env).unwrap();
        assert_eq!(parameters.namespace.as_deref(), Some("from-env"));
        assert!(parameters.allow_empty);
        let parameters = parse(
            Some(r#"[{"name":"namespace","string":"from-parameter"}]"#),
            &env,
        )
        .unwrap();
        assert_eq!(parameters.namespace.as_deref(), Some("from-parameter"));
    }

    #[test]
    fn announcements_name_every_parameter_with_its_default() {
        let announced = announcements();
        let names: Vec<&str> = announced
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["namespace", "allow-empty", "clusters", "labels"]);
        assert_eq!(announced[1]["string"], "false");
        assert_eq!(announced[2]["collectionType"], "array");
    }
}
