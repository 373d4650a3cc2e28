//! `kdrender adopt EXPORT`: the Adoption of each cluster a live KubeDirector shows, on stdout.

use std::io::Read;
use std::path::Path;

use super::{Outcome, Text};
use crate::adopt;

pub fn run(export: &Path, stdin: &mut dyn Read) -> Outcome {
    let text = match adopt::read(export, stdin) {
        Ok(text) => text,
        Err(diagnostic) => return Outcome::refused(diagnostic),
    };
    let adopted = adopt::adopt(&adopt::shown(export), text);
    match adopted.yaml {
        Some(yaml) => Outcome::success(
            Text::from(yaml),
            adopted.diagnostics.render(&adopted.sources),
        ),
        None => Outcome::invalid(&adopted.diagnostics, &adopted.sources),
    }
}
