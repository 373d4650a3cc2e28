//! A corpus of broken and hostile repositories, each with the exact report it must get.
//!
//! Every `tests/corpus/<case>/` holds an `input/` repository, `expected.code` and
//! `expected.stderr`; the input is rendered with `kdrender render . --root .` (the case's folder is
//! the repository root, so confinement is tested against it), or with the arguments in `args`
//! (one per line) when that file exists. A case that fails must print nothing on stdout. After an
//! intended change of messages, `KDRENDER_UPDATE_CORPUS=1 cargo test --test corpus` rewrites the
//! expectations; review the diff.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

#[test]
fn every_broken_repository_gets_its_expected_report() {
    let update = std::env::var_os("KDRENDER_UPDATE_CORPUS").is_some();
    let root = project_root().join("tests/corpus");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let args: Vec<String> = match std::fs::read_to_string(case.join("args")) {
            Ok(text) => text.lines().map(str::to_string).collect(),
            Err(_) => ["render", ".", "--root", "."].map(String::from).to_vec(),
        };
        let result = run_with(kdrender().args(&args).current_dir(case.join("input")));
        if result.code != 0 && !result.stdout.is_empty() {
            failures.push(format!("{name}: failed with output on stdout"));
        }
        if update {
            std::fs::write(case.join("expected.code"), format!("{}\n", result.code)).unwrap();
            std::fs::write(case.join("expected.stderr"), &result.stderr).unwrap();
            continue;
        }
        let code: i32 = std::fs::read_to_string(case.join("expected.code"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let stderr = std::fs::read_to_string(case.join("expected.stderr")).unwrap();
        if result.code != code {
            failures.push(format!(
                "{name}: exit code {} instead of {code}\n{}",
                result.code, result.stderr
            ));
        } else if result.stderr != stderr {
            failures.push(format!("{name}: report differs; got:\n{}", result.stderr));
        }
        if code == 1 {
            // The first line alone names the file, the line and the problem (Argo CD shows it).
            let first = stderr.lines().next().unwrap_or_default();
            if !first.starts_with("error: ") {
                failures.push(format!("{name}: first line is not an error: {first}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
