//! Label selectors as `kubectl -l` takes them, for choosing the objects a patch changes:
//! comma-separated requirements `key=value` (or `key==value`), `key!=value`, `key` and `!key`.

use std::collections::BTreeMap;

use crate::names;

/// One requirement on an object's labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
}

impl Requirement {
    fn holds(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals(key, value) => labels.get(key) == Some(value),
            Requirement::NotEquals(key, value) => labels.get(key) != Some(value),
            Requirement::Exists(key) => labels.contains_key(key),
            Requirement::Absent(key) => !labels.contains_key(key),
        }
    }
}

/// Whether labels meet every requirement.
pub fn matches(selector: &[Requirement], labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|requirement| requirement.holds(labels))
}

/// A selector's requirements, or what is wrong with it.
pub fn parse(text: &str) -> Result<Vec<Requirement>, String> {
    if text.contains(" in ") || text.contains(" notin ") || text.contains('(') {
        return Err(format!(
            "\"{text}\": set-based requirements (in, notin) are not supported; write key=value, key!=value, key or !key"
        ));
    }
    text.split(',')
        .map(|part| requirement(part.trim()))
        .collect()
}

fn requirement(part: &str) -> Result<Requirement, String> {
    let requirement = if let Some((key, value)) = part.split_once("!=") {
        Requirement::NotEquals(key.trim().into(), value.trim().into())
    } else if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
        Requirement::Equals(key.trim().into(), value.trim().into())
    } else if let Some(key) = part.strip_prefix('!') {
        Requirement::Absent(key.trim().into())
    } else {
        Requirement::Exists(part.into())
    };
    check(&requirement).map(|()| requirement)
}

/// Keys are label keys and values label values, as Kubernetes defines them.
fn check(requirement: &Requirement) -> Result<(), String> {
    let (key, value) = match requirement {
        Requirement::Equals(key, value) | Requirement::NotEquals(key, value) => (key, Some(value)),
        Requirement::Exists(key) | Requirement::Absent(key) => (key, None),
    };
    if key.is_empty() {
        return Err("a requirement without a label key".into());
    }
    names::check_qualified_name(key)
        .map_err(|problem| format!("label key \"{key}\": {problem}"))?;
    if let Some(value) = value {
        names::check_label_value(value)
            .map_err(|problem| format!("label value \"{value}\": {problem}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn requirements_read_like_kubectl() {
        let selector = parse("kubedirector.hpe.com/role=broker, tier!=db,gpu,!spot").unwrap();
        assert_eq!(
            selector,
            [
                Requirement::Equals("kubedirector.hpe.com/role".into(), "broker".into()),
                Requirement::NotEquals("tier".into(), "db".into()),
                Requirement::Exists("gpu".into()),
                Requirement::Absent("spot".into()),
            ]
        );
        let broker = labels(&[("kubedirector.hpe.com/role", "broker"), ("gpu", "")]);
        assert!(matches(&selector, &broker));
        let spot = labels(&[
            ("kubedirector.hpe.com/role", "broker"),
            ("gpu", ""),
            ("spot", "y"),
        ]);
        assert!(!matches(&selector, &spot));
        assert!(!matches(&selector, &labels(&[("gpu", "")])));
        assert_eq!(
            parse("a==b").unwrap(),
            [Requirement::Equals("a".into(), "b".into())]
        );
    }

    #[test]
    fn malformed_selectors_say_what_is_wrong() {
        assert!(
            parse("tier in (a,b)")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(parse("a=b,").unwrap_err().contains("without a label key"));
        assert!(parse("=b").unwrap_err().contains("without a label key"));
        assert!(parse("a=b c").unwrap_err().contains("label value"));
        assert!(parse("bad key=x").unwrap_err().contains("label key"));
    }
}
