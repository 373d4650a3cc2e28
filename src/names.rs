//! Kubernetes' rules for names, labels and annotations, checked at render time.
//!
//! The API server would refuse an object that breaks them, but only at apply time and far from
//! the input that caused it; kdrender refuses it here, naming the input. Each rule has one
//! implementation: its form (the characters, as the schemas' patterns spell it, which
//! `validate::schema` checks with these functions) and its length, together in `check_*`.

/// DNS limits: a name has at most 253 characters, each of its labels at most 63.
pub const MAX_DNS_NAME: usize = 253;
pub const MAX_DNS_LABEL: usize = 63;
/// Label values and the name part of label keys have at most 63 characters.
pub const MAX_LABEL_VALUE: usize = 63;

/// Why a name breaks Kubernetes' rules; each reads as the end of a sentence about the name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("\"{name}\" must be 1 to {max} characters long")]
    Length { name: String, max: usize },
    #[error(
        "\"{0}\" must consist of lower-case letters, digits and '-', and begin and end with a letter or digit"
    )]
    Dns1123Label(String),
    #[error("\"{0}\" must begin with a letter")]
    Dns1035Label(String),
    #[error(
        "\"{0}\" must be lower-case letters, digits, '-' and '.', each part beginning and ending with a letter or digit"
    )]
    Dns1123Subdomain(String),
    #[error(
        "has a part of {} characters (\"{part}\"); DNS allows at most {MAX_DNS_LABEL}",
        part.len()
    )]
    DnsPartLength { part: String },
    #[error("is {0} characters long; DNS names have at most {MAX_DNS_NAME}")]
    DnsNameLength(usize),
    #[error(
        "label value \"{value}\" is {} characters long; Kubernetes allows at most {MAX_LABEL_VALUE}",
        value.len()
    )]
    LabelValueLength { value: String },
    #[error(
        "label value \"{0}\" may hold only letters, digits, '-', '_' and '.', and must begin and end with a letter or digit"
    )]
    LabelValue(String),
    #[error("key \"{key}\": prefix {problem}")]
    KeyPrefix {
        key: String,
        problem: Box<NameError>,
    },
    #[error(
        "key \"{0}\" must be a name of at most 63 letters, digits, '-', '_' and '.', with an optional DNS prefix and '/'"
    )]
    KeyName(String),
    #[error(
        "environment variable name \"{0}\" must be letters, digits, '_', '-' and '.', not beginning with a digit"
    )]
    EnvName(String),
}

/// KubeDirector's object-name munging: lower case, with `_` and `.` turned into `-`.
pub fn munge(id: &str) -> String {
    id.chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Lower-case letters, digits and `-` inside, a letter or digit at both ends, whatever the
/// length: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
pub fn is_dns1123_label_form(name: &str) -> bool {
    let end = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    name.starts_with(end) && name.ends_with(end) && name.chars().all(|c| end(c) || c == '-')
}

/// DNS-1123 labels joined by `.`, whatever the length.
pub fn is_dns1123_subdomain_form(name: &str) -> bool {
    name.split('.').all(is_dns1123_label_form)
}

/// Letters, digits, `-`, `_` and `.` inside, a letter or digit at both ends, or nothing:
/// `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`. Role ids have this form too, since they
/// become values of the `kubedirector.hpe.com/role` label.
pub fn is_label_value_form(value: &str) -> bool {
    let end = |c: char| c.is_ascii_alphanumeric();
    value.is_empty()
        || (value.starts_with(end)
            && value.ends_with(end)
            && value
                .chars()
                .all(|c| end(c) || matches!(c, '-' | '_' | '.')))
}

/// A name of 1 to `max` characters.
fn check_length(name: &str, max: usize) -> Result<(), NameError> {
    if name.is_empty() || name.len() > max {
        return Err(NameError::Length {
            name: name.to_string(),
            max,
        });
    }
    Ok(())
}

/// RFC 1123 label: what namespaces and most names must be.
pub fn check_dns1123_label(name: &str) -> Result<(), NameError> {
    check_length(name, MAX_DNS_LABEL)?;
    if !is_dns1123_label_form(name) {
        return Err(NameError::Dns1123Label(name.to_string()));
    }
    Ok(())
}

/// RFC 1035 label: what Service names must be (a letter first).
pub fn check_dns1035_label(name: &str) -> Result<(), NameError> {
    check_dns1123_label(name)?;
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(NameError::Dns1035Label(name.to_string()));
    }
    Ok(())
}

/// RFC 1123 subdomain: ConfigMap and StatefulSet names.
pub fn check_dns1123_subdomain(name: &str) -> Result<(), NameError> {
    check_length(name, MAX_DNS_NAME)?;
    if !is_dns1123_subdomain_form(name) {
        return Err(NameError::Dns1123Subdomain(name.to_string()));
    }
    Ok(())
}

/// A DNS name's lengths (its characters are the schema's business): labels of at most 63
/// characters, at most 253 in all. The cluster domain ends every member's FQDN.
pub fn check_dns_name(name: &str) -> Result<(), NameError> {
    if let Some(label) = name.split('.').find(|l| l.len() > MAX_DNS_LABEL) {
        return Err(NameError::DnsPartLength {
            part: label.to_string(),
        });
    }
    if name.len() > MAX_DNS_NAME {
        return Err(NameError::DnsNameLength(name.len()));
    }
    Ok(())
}

/// A label value: at most 63 characters, alphanumeric at both ends.
pub fn check_label_value(value: &str) -> Result<(), NameError> {
    if value.len() > MAX_LABEL_VALUE {
        return Err(NameError::LabelValueLength {
            value: value.to_string(),
        });
    }
    if !is_label_value_form(value) {
        return Err(NameError::LabelValue(value.to_string()));
    }
    Ok(())
}

/// A label or annotation key: `[prefix/]name`, the prefix a DNS-1123 subdomain, the name a
/// non-empty label value.
pub fn check_qualified_name(key: &str) -> Result<(), NameError> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        check_dns1123_subdomain(prefix).map_err(|problem| NameError::KeyPrefix {
            key: key.to_string(),
            problem: Box::new(problem),
        })?;
    }
    if name.is_empty() || check_label_value(name).is_err() {
        return Err(NameError::KeyName(key.to_string()));
    }
    Ok(())
}

/// An environment variable name as every supported Kubernetes version accepts it.
pub fn check_env_name(name: &str) -> Result<(), NameError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(NameError::EnvName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn munging_matches_kubedirector() {
        assert_eq!(munge("LoadBalancer"), "loadbalancer");
        assert_eq!(munge("vanilla_centos.v2"), "vanilla-centos-v2");
    }

    #[test]
    fn service_names_need_a_leading_letter_and_63_characters_at_most() {
        assert!(check_dns1035_label("kafka-broker-0").is_ok());
        assert!(check_dns1035_label("1kafka").is_err());
        assert!(check_dns1123_label("1kafka").is_ok());
        assert!(check_dns1035_label(&"a".repeat(64)).is_err());
        assert!(check_dns1123_label("Kafka").is_err());
        assert!(check_dns1123_label("kafka-").is_err());
    }

    #[test]
    fn label_and_key_rules() {
        assert!(check_label_value("").is_ok());
        assert!(check_label_value("3.2").is_ok());
        assert!(check_label_value("a b").is_err());
        assert!(check_label_value(&"a".repeat(64)).is_err());
        assert!(check_qualified_name("app.kubernetes.io/name").is_ok());
        assert!(check_qualified_name("team").is_ok());
        assert!(check_qualified_name("Bad_Prefix/x").is_err());
        assert!(check_qualified_name("a/").is_err());
        assert!(check_env_name("JAVA_OPTS").is_ok());
        assert!(check_env_name("1X").is_err());
        assert!(check_env_name("A=B").is_err());
    }

    #[test]
    fn each_form_is_its_rule_without_the_length() {
        let long = "a".repeat(64);
        assert!(is_dns1123_label_form(&long));
        assert!(check_dns1123_label(&long).is_err());
        assert!(!is_dns1123_label_form(""));
        assert!(is_dns1123_subdomain_form("a.b-c.d"));
        assert!(!is_dns1123_subdomain_form("a..b"));
        assert!(!is_dns1123_subdomain_form("a.-b"));
        assert!(is_label_value_form(""));
        assert!(is_label_value_form("A_b.1"));
        assert!(!is_label_value_form("_a"));
        assert!(!is_label_value_form("a\n"));
    }

    #[test]
    fn problems_read_as_the_end_of_a_sentence_about_the_name() {
        let message = |result: Result<(), NameError>| result.unwrap_err().to_string();
        assert_eq!(
            message(check_dns1123_label("-x")),
            "\"-x\" must consist of lower-case letters, digits and '-', and begin and end with a letter or digit"
        );
        assert_eq!(
            message(check_dns1123_subdomain("")),
            "\"\" must be 1 to 253 characters long"
        );
        assert_eq!(
            message(check_qualified_name("Bad_Prefix/x")),
            "key \"Bad_Prefix/x\": prefix \"Bad_Prefix\" must be lower-case letters, digits, '-' and '.', each part beginning and ending with a letter or digit"
        );
        assert_eq!(
            message(check_dns_name(&format!("{}.local", "a".repeat(64)))),
            format!(
                "has a part of 64 characters (\"{}\"); DNS allows at most 63",
                "a".repeat(64)
            )
        );
        assert_eq!(
            message(check_label_value(&"v".repeat(64))),
            format!(
                "label value \"{}\" is 64 characters long; Kubernetes allows at most 63",
                "v".repeat(64)
            )
        );
    }
}
