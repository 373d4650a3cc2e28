//! A role's files ConfigMap as it fills: Kubernetes' rules for its keys, one file per key, and
//! its size limit.
#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use super::{Template, start_of};
use crate::diag::Diagnostic;
use crate::render::{MAX_CONFIGMAP_BYTES, diags};
use crate::source::SourceMap;

/// Kubernetes' limit on the length of a ConfigMap key.
pub const MAX_KEY_BYTES: usize = 253;
/// Why a ConfigMap key is refused (the message follows "… writes key K of ConfigMap C, which").
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is {0} characters long; Kubernetes allows at most {MAX_KEY_BYTES}")]
    TooLong(usize),
    #[error("may hold only letters, digits, '-', '_' and '.'")]
    Characters,
    #[error("may not be \".\" or begin with \"..\"")]
    Dots,
}

/// Kubernetes' rule for ConfigMap keys.
fn check_key(key: &str) -> Result<(), KeyError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLong(key.len()));
    }
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(KeyError::Characters);
    }
    if key == "." || key.starts_with("..") {
        return Err(KeyError::Dots);
    }
    Ok(())
}

/// A role's files ConfigMap as it fills: the template behind each key, so that two files under
/// one key are refused rather than one silently getting the other's content, and the size so
/// far, so that more than Kubernetes takes is refused as soon as it is reached, naming the
/// template that reached it.
pub(super) struct ConfigMapData<'t> {
    name: String,
    keys: BTreeMap<String, &'t Template>,
    bytes: usize,
}

impl<'t> ConfigMapData<'t> {
    pub(super) fn new(name: String) -> Self {
        ConfigMapData {
            name,
            keys: BTreeMap::new(),
            bytes: 0,
        }
    }

    pub(super) fn add(
        &mut self,
        key: String,
        text: &str,
        template: &'t Template,
        sources: &SourceMap,
    ) -> Result<(), Diagnostic> {
        let path = sources.path(template.file);
        let at = start_of(template.file);
        if let Err(error) = check_key(&key) {
            return Err(diags::bad_key(path, &key, &self.name, &error, at));
        }
        if let Some(other) = self.keys.get(&key) {
            let other = sources.path(other.file);
            return Err(diags::key_clash(other, path, &key, &self.name, at));
        }
        self.bytes = self
            .bytes
            .saturating_add(key.len())
            .saturating_add(text.len());
        if self.bytes > MAX_CONFIGMAP_BYTES {
            return Err(diags::files_too_big(&self.name, path, &key, text.len(), at));
        }
        self.keys.insert(key, template);
        Ok(())
    }

    pub(super) fn is_full(&self) -> bool {
        self.bytes > MAX_CONFIGMAP_BYTES
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn configmap_keys_follow_kubernetes_rules() {
        assert!(check_key("etc_kafka_server.properties").is_ok());
        assert!(check_key("demo-worker-0.etc_x").is_ok());
        assert!(check_key(&"k".repeat(253)).is_ok());
        assert!(
            check_key(&"k".repeat(254))
                .unwrap_err()
                .to_string()
                .contains("254 characters")
        );
        for bad in ["", ".", "..", "..x", "a/b", "a b", "ä"] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }
}
