//! Kubernetes' rules for names, labels and annotations, checked at render time.
//!
//! The API server would refuse an object that breaks them, but only at apply time and far from
//! the input that caused it; kdrender refuses it here, naming the input.

/// KubeDirector's object-name munging: lower case, with `_` and `.` turned into `-`.
pub fn munge(id: &str) -> String {
    id.chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// RFC 1123 label: what namespaces and most names must be.
pub fn check_dns1123_label(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err(format!("\"{name}\" must be 1 to 63 characters long"));
    }
    let ok = name.chars().all(|c| is_lower_alnum(c) || c == '-')
        && name.starts_with(is_lower_alnum)
        && name.ends_with(is_lower_alnum);
    if !ok {
        return Err(format!(
            "\"{name}\" must consist of lower-case letters, digits and '-', and begin and end with a letter or digit"
        ));
    }
    Ok(())
}

/// RFC 1035 label: what Service names must be (a letter first).
pub fn check_dns1035_label(name: &str) -> Result<(), String> {
    check_dns1123_label(name)?;
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!("\"{name}\" must begin with a letter"));
    }
    Ok(())
}

/// RFC 1123 subdomain: ConfigMap and StatefulSet names.
pub fn check_dns1123_subdomain(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 253 {
        return Err(format!("\"{name}\" must be 1 to 253 characters long"));
    }
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.chars().all(|c| is_lower_alnum(c) || c == '-')
            && label.starts_with(is_lower_alnum)
            && label.ends_with(is_lower_alnum);
        if !ok {
            return Err(format!(
                "\"{name}\" must be lower-case letters, digits, '-' and '.', each part beginning and ending with a letter or digit"
            ));
        }
    }
    Ok(())
}

/// DNS limits: a name has at most 253 characters, each of its labels at most 63.
pub const MAX_DNS_NAME: usize = 253;
pub const MAX_DNS_LABEL: usize = 63;

/// A DNS name's lengths (its characters are the schema's business): labels of at most 63
/// characters, at most 253 in all. The cluster domain ends every member's FQDN.
pub fn check_dns_name(name: &str) -> Result<(), String> {
    if let Some(label) = name.split('.').find(|l| l.len() > MAX_DNS_LABEL) {
        return Err(format!(
            "has a part of {} characters (\"{label}\"); DNS allows at most {MAX_DNS_LABEL}",
            label.len()
        ));
    }
    if name.len() > MAX_DNS_NAME {
        return Err(format!(
            "is {} characters long; DNS names have at most {MAX_DNS_NAME}",
            name.len()
        ));
    }
    Ok(())
}

fn is_name_part(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A label value: at most 63 characters, alphanumeric at both ends.
pub fn check_label_value(value: &str) -> Result<(), String> {
    if value.len() > 63 {
        return Err(format!(
            "label value \"{value}\" is {} characters long; Kubernetes allows at most 63",
            value.len()
        ));
    }
    if !value.is_empty() && !is_name_part(value) {
        return Err(format!(
            "label value \"{value}\" may hold only letters, digits, '-', '_' and '.', and must begin and end with a letter or digit"
        ));
    }
    Ok(())
}

/// A label or annotation key: `[prefix/]name`.
pub fn check_qualified_name(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        check_dns1123_subdomain(prefix).map_err(|e| format!("key \"{key}\": prefix {e}"))?;
    }
    if name.is_empty() || name.len() > 63 || !is_name_part(name) {
        return Err(format!(
            "key \"{key}\" must be a name of at most 63 letters, digits, '-', '_' and '.', with an optional DNS prefix and '/'"
        ));
    }
    Ok(())
}

/// An environment variable name as every supported Kubernetes version accepts it.
pub fn check_env_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "environment variable name \"{name}\" must be letters, digits, '_', '-' and '.', not beginning with a digit"
        ))
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
}
