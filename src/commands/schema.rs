//! `kdrender schema`: the JSON Schema of an input format.

use super::{Outcome, Text};
use crate::exit;
use crate::validate::SchemaKind;

pub fn run(kind: &str) -> Outcome {
    match SchemaKind::from_name(kind) {
        Some(kind) => Outcome::success(Text::from(kind.text().to_string()), String::new()),
        None => Outcome::error(
            format!(
                "unknown schema \"{kind}\"; known: {}",
                SchemaKind::ALL.map(SchemaKind::name).join(", ")
            ),
            exit::USAGE,
        ),
    }
}
