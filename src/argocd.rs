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

#[derive(Clone, Copy)]
enum Shape {
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

/// Reads the parameters from `ARGOCD_APP_PARAMETERS` (and the `ARGOCD_ENV_KDRENDER_*`
/// fallbacks). Errors name the parameter and what is wrong with it.
pub fn parse(
    parameters_json: Option<&str>,
    env: &BTreeMap<String, String>,
) -> Result<Parameters, String> {
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
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("ARGOCD_APP_PARAMETERS is not valid JSON: {e}"))?;
    let entries = match value {
        Value::Null => return Ok(parameters),
        Value::Array(entries) => entries,
        _ => return Err("ARGOCD_APP_PARAMETERS must be a JSON list of parameters".to_string()),
    };
    for entry in entries {
        let name = entry.get("name").and_then(Value::as_str).ok_or_else(|| {
            format!("ARGOCD_APP_PARAMETERS holds an entry without a name: {entry}")
        })?;
        let Some(&(_, shape, _, _)) = KNOWN.iter().find(|(known, ..)| *known == name) else {
            let names: Vec<&str> = KNOWN.iter().map(|(n, ..)| *n).collect();
            return Err(format!(
                "unknown plugin parameter \"{name}\"; kdrender takes {}",
                names.join(", ")
            ));
        };
        let given: Vec<&str> = ["string", "array", "map"]
            .into_iter()
            .filter(|key| entry.get(*key).is_some())
            .collect();
        if given != [shape.name()] {
            return Err(format!(
                "plugin parameter \"{name}\" takes a {} value, not {}",
                shape.name(),
                if given.is_empty() {
                    "none".to_string()
                } else {
                    given.join(" and ")
                }
            ));
        }
        let value = &entry[shape.name()];
        match name {
            "namespace" => {
                let text = value.as_str().ok_or_else(|| wrong(name, "a string"))?;
                if !text.is_empty() {
                    parameters.namespace = Some(text.to_string());
                }
            }
            "allow-empty" => {
                let text = value.as_str().ok_or_else(|| wrong(name, "a string"))?;
                parameters.allow_empty = boolean("plugin parameter \"allow-empty\"", text)?;
            }
            "clusters" => {
                let items = value
                    .as_array()
                    .ok_or_else(|| wrong(name, "a list of strings"))?;
                let names = items
                    .iter()
                    .map(|item| item.as_str().map(str::to_string))
                    .collect::<Option<Vec<String>>>()
                    .ok_or_else(|| wrong(name, "a list of strings"))?;
                if !names.is_empty() {
                    parameters.clusters = Some(names);
                }
            }
            _ => {
                let map = value
                    .as_object()
                    .ok_or_else(|| wrong(name, "a map of strings"))?;
                for (key, value) in map {
                    let value = value
                        .as_str()
                        .ok_or_else(|| wrong(name, "a map of strings"))?;
                    parameters.labels.insert(key.clone(), value.to_string());
                }
            }
        }
    }
    Ok(parameters)
}

fn wrong(name: &str, expected: &str) -> String {
    format!("plugin parameter \"{name}\" must be {expected}")
}

fn boolean(what: &str, text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" | "" => Ok(false),
        _ => Err(format!(
            "{what} must be \"true\" or \"false\", not \"{text}\""
        )),
    }
}

/// The parameter announcements (`kdrender argocd parameters`, and `parameters.static` in
/// plugin.yaml), with the defaults `parse` applies.
pub fn announcements() -> Value {
    Value::Array(
        KNOWN
            .iter()
            .map(|(name, shape, title, tooltip)| {
                let mut announcement = json!({
                    "name": name,
                    "title": title,
                    "tooltip": tooltip,
                    "required": false,
                });
                match shape {
                    Shape::String => {
                        announcement["string"] =
                            json!(if *name == "allow-empty" { "false" } else { "" });
                    }
                    Shape::Array => {
                        announcement["collectionType"] = json!("array");
                        announcement["array"] = json!([]);
                    }
                    Shape::Map => {
                        announcement["collectionType"] = json!("map");
                        announcement["map"] = json!({});
                    }
                }
                announcement
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_json(text: Option<&str>) -> Result<Parameters, String> {
        parse(text, &BTreeMap::new())
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
        let error = parse_json(Some(r#"[{"name":"namespce","string":"x"}]"#)).unwrap_err();
        assert_eq!(
            error,
            "unknown plugin parameter \"namespce\"; kdrender takes namespace, allow-empty, clusters, labels"
        );
        let error = parse_json(Some(r#"[{"name":"namespace","map":{"a":"b"}}]"#)).unwrap_err();
        assert_eq!(
            error,
            "plugin parameter \"namespace\" takes a string value, not map"
        );
        let error = parse_json(Some(r#"[{"name":"clusters","array":[1]}]"#)).unwrap_err();
        assert_eq!(
            error,
            "plugin parameter \"clusters\" must be a list of strings"
        );
        let error = parse_json(Some(r#"[{"name":"allow-empty","string":"yes"}]"#)).unwrap_err();
        assert!(error.contains("must be \"true\" or \"false\""), "{error}");
        assert!(
            parse_json(Some("{"))
                .unwrap_err()
                .starts_with("ARGOCD_APP_PARAMETERS is not valid JSON")
        );
        assert!(parse_json(Some(r#"{"name":"x"}"#)).is_err());
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
