//! The `kdrender` binary: parse the command line, run, print, exit.
//!
//! Everything else lives in the library. Exit codes: 0 success, 1 invalid input, 2 usage, and
//! anything else an internal fault. A closed stdout (`kdrender render | head`) is not an error.

#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

fn main() -> ExitCode {
    // Invoked as `kdrender-fn` (a link, for kustomize's exec functions, which pass no
    // arguments), act as `kdrender fn`.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let invoked_as = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned());
    if invoked_as.as_deref() == Some("kdrender-fn") {
        args.insert(1, "fn".into());
    }
    let cli = kdrender::cli::Cli::parse_from(args);
    let env = kdrender::options::Environment::from_process();
    let outcome = kdrender::run(cli, &env, &mut std::io::stdin().lock());
    if let Err(error) = write_all(&outcome) {
        let broken_pipe = error
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe);
        if !broken_pipe {
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            return ExitCode::from(74);
        }
    }
    ExitCode::from(u8::try_from(outcome.code).unwrap_or(70))
}

fn write_all(outcome: &kdrender::Outcome) -> anyhow::Result<()> {
    std::io::stderr()
        .write_all(outcome.stderr.as_bytes())
        .context("cannot write diagnostics to stderr")?;
    let mut stdout = std::io::stdout().lock();
    outcome
        .stdout
        .pieces()
        .iter()
        .try_for_each(|piece| stdout.write_all(piece.as_bytes()))
        .and_then(|()| stdout.flush())
        .context("cannot write objects to stdout")
}
