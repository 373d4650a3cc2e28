//! `kdrender argocd`: Argo CD's config-management-plugin commands.

use std::path::Path;

use super::{Outcome, Text};
use crate::options::{Environment, InputOptions, StreamFormat};
use crate::{argocd, emit};

/// The output limit, and the spool's threshold: past it the stream waits for the end of the run
/// in a temporary file in TMPDIR (the repo-server's is an emptyDir).
const LIMITS: (usize, usize) = (emit::MAX_OUTPUT_BYTES, crate::spool::DEFAULT_THRESHOLD);

/// Argo CD's `generate`: render PATH with the Application's parameters.
pub fn generate(path: &Path, env: &Environment) -> Outcome {
    let parameters = match argocd::parse(env.argocd_app_parameters.as_deref(), &env.argocd_env) {
        Ok(parameters) => parameters,
        Err(error) => return Outcome::error(&error, error.exit_code()),
    };
    match InputOptions::for_argocd(path, env, &parameters) {
        Ok(options) => {
            let (format, allow_empty) = (StreamFormat::Yaml, parameters.allow_empty);
            super::render::stream(&options, format, allow_empty, LIMITS)
        }
        Err(error) => Outcome::refused(error),
    }
}

/// The plugin's parameter announcements, as JSON.
pub fn parameters() -> Outcome {
    Outcome::success(
        Text::from(format!("{:#}\n", argocd::announcements())),
        String::new(),
    )
}
