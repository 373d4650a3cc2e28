//! `kdrender schema`: the JSON Schema of an input format, standing alone: the Kubernetes
//! definitions it uses (probes, affinity, ...) copied in, so that the printed document needs no
//! other file wherever it is saved.

use super::{Outcome, Text};
use crate::exit;
use crate::validate::{SchemaKind, kubernetes};

pub fn run(kind: &str) -> Outcome {
    match SchemaKind::from_name(kind) {
        Some(kind) => Outcome::success(Text::from(standalone(kind)), String::new()),
        None => Outcome::error(
            format!(
                "unknown schema \"{kind}\"; known: {}",
                SchemaKind::ALL.map(SchemaKind::name).join(", ")
            ),
            exit::USAGE,
        ),
    }
}

/// The schema as shipped when it refers to no other file, else bundled.
fn standalone(kind: SchemaKind) -> String {
    let text = kind.text();
    if !text.contains(kubernetes::DEFINITIONS_FILE) {
        return text.to_string();
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|schema| serde_json::to_string_pretty(&kubernetes::bundled(&schema)).ok())
        .map_or_else(|| text.to_string(), |bundled| bundled + "\n")
}
