//! `kdrender completions SHELL`: a completion script, made by clap_complete from the same
//! command definition the binary parses with, so it never lags behind the options.

use super::{Outcome, Text};

pub fn run(shell: clap_complete::Shell, mut command: clap::Command) -> Outcome {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "kdrender", &mut script);
    Outcome::success(
        Text::from(String::from_utf8_lossy(&script).into_owned()),
        String::new(),
    )
}
