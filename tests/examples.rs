//! The examples render as they are, validate without problems, and match their reviewed
//! snapshots in tests/snapshots/. After an intended change, refresh the snapshots with
//! `KDRENDER_UPDATE_SNAPSHOTS=1 cargo test --test examples` and review the diff.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn examples() -> Vec<PathBuf> {
    let mut examples: Vec<PathBuf> = std::fs::read_dir(project_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("kdrender.yaml").exists())
        .collect();
    examples.sort();
    examples
}

fn name(example: &Path) -> String {
    example.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn there_are_at_least_three_examples() {
    let names: Vec<String> = examples().iter().map(|e| name(e)).collect();
    assert!(names.len() >= 3, "{names:?}");
}

#[test]
fn examples_validate_without_errors_or_warnings() {
    for example in examples() {
        let result = run(&["validate", "."], &example);
        assert_eq!(result.code, 0, "{}: {}", name(&example), result.stderr);
        assert!(result.stderr.contains(": 0 error(s), 0 warning(s)"), "{}: {}", name(&example), result.stderr);
    }
}

#[test]
fn examples_match_their_snapshots() {
    let update = std::env::var_os("KDRENDER_UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for example in examples() {
        let rendered = run(&["render", "."], &example).ok();
        let snapshot = project_root().join("tests/snapshots").join(format!("{}.yaml", name(&example)));
        if update {
            std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
            std::fs::write(&snapshot, &rendered).unwrap();
            continue;
        }
        match std::fs::read_to_string(&snapshot) {
            Ok(expected) if expected == rendered => {}
            Ok(expected) => {
                let line = expected
                    .lines()
                    .zip(rendered.lines())
                    .position(|(a, b)| a != b)
                    .map_or(expected.lines().count().min(rendered.lines().count()) + 1, |i| i + 1);
                stale.push(format!("{} differs from its snapshot first at line {line}", name(&example)));
            }
            Err(_) => stale.push(format!("{} has no snapshot", name(&example))),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nrefresh with KDRENDER_UPDATE_SNAPSHOTS=1 cargo test --test examples, then review the diff",
        stale.join("\n")
    );
}
