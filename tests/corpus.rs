//! A corpus of broken and hostile repositories, each with the exact report it must get, as
//! trycmd cases in `tests/corpus/` (typos' style): `<case>.toml` holds the command line, its exit
//! code and its stdout (empty: a refusal prints nothing there), `<case>.in/` is the repository the
//! command runs in (and, with `--root .`, its root, so confinement is tested against it), and
//! `<case>.stderr` the report. Runs get an empty environment. After an intended change of
//! messages, `TRYCMD=overwrite cargo test --test corpus` rewrites the expectations; review the
//! diff (`git diff tests/corpus`).

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn corpus() -> PathBuf {
    project_root().join("tests/corpus")
}

#[test]
fn every_broken_repository_gets_its_expected_report() {
    trycmd::TestCases::new()
        .register_bin("kdrender", Path::new(env!("CARGO_BIN_EXE_kdrender")))
        .case(corpus().join("*.toml"));
}

/// The cases, by name: the `<case>.toml` files.
fn cases() -> Vec<String> {
    entries(&corpus())
        .iter()
        .filter_map(|path| file_name(path).strip_suffix(".toml").map(str::to_string))
        .collect()
}

/// The value of `key = value` in a case's TOML, as written.
fn setting<'a>(toml: &'a str, key: &str) -> Option<&'a str> {
    toml.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(" = "))
}

/// What trycmd does not check about one case: that it runs kdrender alone in an empty
/// environment, that a refusal prints nothing on stdout and a first line that is an error, and
/// that the expected report holds none of trycmd's wildcards (`[..]`, `...`), placeholders
/// (`[CWD]`, `[ROOT]`, `[EXE]`) or CRLF, so that trycmd compares it byte for byte.
fn problems_of(name: &str) -> Vec<String> {
    let path = |extension: &str| corpus().join(format!("{name}.{extension}"));
    let toml = std::fs::read_to_string(path("toml")).unwrap();
    let stderr =
        std::fs::read_to_string(path("stderr")).unwrap_or_else(|e| panic!("{name}.stderr: {e}"));
    let code = setting(&toml, "status.code").and_then(|code| code.parse::<i32>().ok());
    let failed = code != Some(0);
    // The first line alone names the problem (Argo CD shows it).
    let first = stderr.lines().next().unwrap_or_default();
    let exact = !stderr.contains("\r\n")
        && !stderr.lines().any(|line| line == "...")
        && !["[..]", "[CWD]", "[ROOT]", "[EXE]"]
            .iter()
            .any(|p| stderr.contains(p));
    let rules = [
        (path("in").is_dir(), "no .in folder"),
        (
            setting(&toml, "bin.name") == Some("\"kdrender\""),
            "runs another program",
        ),
        (
            setting(&toml, "env.inherit") == Some("false"),
            "inherits the environment",
        ),
        (code.is_some(), "no status.code"),
        (
            !failed || setting(&toml, "stdout") == Some("\"\""),
            "a failure prints on stdout",
        ),
        (
            !failed || !path("stdout").exists(),
            "a failure has a .stdout file",
        ),
        (
            code != Some(1) || first.starts_with("error: "),
            "the first line is not an error",
        ),
        (
            exact,
            "the report holds a trycmd wildcard, placeholder or CRLF",
        ),
    ];
    rules
        .iter()
        .filter(|(holds, _)| !holds)
        .map(|(_, problem)| format!("{name}: {problem}"))
        .collect()
}

#[test]
fn every_case_is_complete_and_compared_byte_for_byte() {
    let cases = cases();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    let mut problems: Vec<String> = cases.iter().flat_map(|name| problems_of(name)).collect();
    // Nothing else lies in the corpus (a case in another layout would never run).
    for entry in entries(&corpus()) {
        let file = file_name(&entry);
        let case = [".toml", ".in", ".stderr"]
            .iter()
            .find_map(|suffix| file.strip_suffix(suffix));
        if !case.is_some_and(|case| cases.iter().any(|name| name == case)) {
            problems.push(format!("{file} is not part of a case"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
