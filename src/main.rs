//! The `kdrender` binary: parse the command line, run, print, exit.
//!
//! Everything else lives in the library. A closed stdout (`kdrender render | head`) is not an
//! error; any other failure to write is [`exit::IO_ERROR`].

#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::process::ExitCode;

use kdrender::options::Environment;
use kdrender::{Outcome, cli, exit};

fn main() -> ExitCode {
    let command = cli::parse(std::env::args_os());
    let outcome = cli::run(
        command,
        &Environment::from_process(),
        &mut io::stdin().lock(),
    );
    let code = outcome.code;
    let code = match write(outcome) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
            let _ = writeln!(io::stderr(), "error: {error}");
            exit::IO_ERROR
        }
        _ => code,
    };
    ExitCode::from(u8::try_from(code).unwrap_or(exit::SOFTWARE as u8))
}

/// Writes the diagnostics, then the objects; the error says which of the two failed.
fn write(outcome: Outcome) -> io::Result<()> {
    let context =
        |what: &'static str| move |e: io::Error| io::Error::new(e.kind(), format!("{what}: {e}"));
    io::stderr()
        .write_all(outcome.stderr.as_bytes())
        .map_err(context("cannot write diagnostics to stderr"))?;
    outcome
        .stdout
        .write_to(&mut io::stdout().lock())
        .map_err(context("cannot write objects to stdout"))
}
