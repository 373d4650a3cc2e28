//! `kdrender man [COMMAND]`: the manual page, made by clap_mangen from the command definition.
//!
//! The binary prints its own page (as `rg --generate man` and `just --man` do) rather than a
//! page being built at release time: the release archive, the container image and `cargo
//! install` (which installs no man pages) all get it, and it always matches the binary.

use super::{Outcome, Text};
use crate::exit;

/// kdrender(1), or kdrender-COMMAND(1).
pub fn run(command: clap::Command, name: Option<&str>) -> Outcome {
    // Building sets each command's full name (`kdrender-render`) and usage line; `help` is
    // clap's, not a command of kdrender's.
    let mut command = command.disable_help_subcommand(true);
    command.build();
    let page = match name {
        None => command,
        Some(name) => match command.find_subcommand(name) {
            Some(subcommand) => subcommand.clone(),
            None => {
                let known: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
                return Outcome::error(
                    format!("unknown command \"{name}\"; known: {}", known.join(", ")),
                    exit::USAGE,
                );
            }
        },
    };
    let mut roff = Vec::new();
    match clap_mangen::Man::new(page).render(&mut roff) {
        Ok(()) => Outcome::success(
            Text::from(String::from_utf8_lossy(&roff).into_owned()),
            String::new(),
        ),
        Err(error) => Outcome::error(
            format!("cannot write the manual page: {error}"),
            exit::SOFTWARE,
        ),
    }
}
