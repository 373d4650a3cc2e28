//! `render --output-dir DIR`: one file per object and a kustomization.yaml, built by the real
//! `kubectl kustomize` (`$KDRENDER_KUBECTL`) into exactly the stream's objects; replaced
//! atomically, pruned of stale files, and left untouched by a failed render.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::process::Command;

use common::*;

fn kustomize_build(dir: &std::path::Path) -> String {
    tool_output(Command::new(kubectl()).arg("kustomize").arg(dir))
}

#[test]
#[ignore = "needs KDRENDER_KUBECTL: kubectl; run .ci/run"]
fn kustomize_builds_the_folder_into_the_streams_objects() {
    for example in ["kafka", "hdfs"] {
        let source = project_root().join("examples").join(example);
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("rendered");
        let result = run(
            &[
                "render",
                &source.to_string_lossy(),
                "--output-dir",
                &dir.to_string_lossy(),
            ],
            &project_root(),
        );
        assert_eq!(result.code, 0, "{}", result.stderr);
        assert!(result.stdout.is_empty());
        let stream = render(&source);
        assert_eq!(
            sorted(documents(&kustomize_build(&dir))),
            sorted(documents(&stream)),
            "{example}"
        );
    }
}

#[test]
fn files_have_stable_readable_names_and_flux_protection() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("rendered");
    run(
        &[
            "render",
            "examples/hdfs",
            "--output-dir",
            &dir.to_string_lossy(),
        ],
        &project_root(),
    )
    .ok();
    let configmap =
        std::fs::read_to_string(dir.join("storage/hdfs/configmap-hdfs-namenode-files.yaml"))
            .unwrap();
    assert!(configmap.contains("kustomize.toolkit.fluxcd.io/substitute: disabled"));
    assert!(
        dir.join("storage/hdfs/statefulset-hdfs-datanode.yaml")
            .exists()
    );
    let kustomization = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    assert!(kustomization.starts_with("# Written by kdrender"));
    let listed: Vec<&str> = kustomization
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .collect();
    let mut sorted_listed = listed.clone();
    sorted_listed.sort();
    assert_eq!(listed, sorted_listed);
    assert_eq!(listed.len() + 1, read_tree(&dir).len());
}

#[test]
fn a_new_render_prunes_stale_files_and_a_failed_one_changes_nothing() {
    let repo = two_role_repo();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("rendered");
    let dir_arg = dir.to_string_lossy().into_owned();
    run(&["render", ".", "--output-dir", &dir_arg], repo.path()).ok();
    assert!(dir.join("default/demo/service-demo-worker-1.yaml").exists());

    // Scale the workers down: the second worker's Service file disappears.
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 1");
    run(&["render", ".", "--output-dir", &dir_arg], repo.path()).ok();
    assert!(!dir.join("default/demo/service-demo-worker-1.yaml").exists());
    assert!(dir.join("default/demo/service-demo-worker-0.yaml").exists());

    // A broken input: exit 1 and the folder exactly as it was.
    let before = read_tree(&dir);
    edit(repo.path(), "cluster.yaml", "id: worker", "id: workr");
    let stderr = run(&["render", ".", "--output-dir", &dir_arg], repo.path()).invalid();
    assert!(stderr.starts_with("error: cluster.yaml:"), "{stderr}");
    assert_eq!(read_tree(&dir), before);
    // Nothing was left beside it either.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
}

#[test]
fn a_folder_kdrender_did_not_write_is_never_replaced() {
    let repo = two_role_repo();
    let out = tempfile::tempdir().unwrap();
    write(out.path(), "important/notes.txt", "do not delete");
    let stderr = run(
        &[
            "render",
            ".",
            "--output-dir",
            &out.path().join("important").to_string_lossy(),
        ],
        repo.path(),
    )
    .invalid();
    assert!(stderr.contains("was not written by kdrender"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.path().join("important/notes.txt")).unwrap(),
        "do not delete"
    );
}

#[test]
fn the_next_run_cleans_up_after_killed_runs_and_restores_a_missing_folder() {
    let repo = two_role_repo();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("rendered");
    let dir_arg = dir.to_string_lossy().into_owned();
    run(&["render", ".", "--output-dir", &dir_arg], repo.path()).ok();
    let rendered = read_tree(&dir);

    // What killed runs leave: a half-written staging folder, and the previous output under a
    // staging name (killed right after the exchange).
    write(
        out.path(),
        ".rendered.kdrender-new-4001/default/demo/half.yaml",
        "half",
    );
    copy_tree(&dir, &out.path().join(".rendered.kdrender-new-4002"));
    run(&["render", ".", "--output-dir", &dir_arg], repo.path()).ok();
    assert_eq!(read_tree(&dir), rendered);
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);

    // Where the system cannot exchange folders, a run killed between its two renames leaves
    // the folder missing and the previous output aside; the next run that writes the folder
    // puts it back first (src/output_dir.rs tests that step alone), then replaces it.
    std::fs::rename(&dir, out.path().join(".rendered.kdrender-old-4003")).unwrap();
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 1");
    run(&["render", ".", "--output-dir", &dir_arg], repo.path()).ok();
    assert!(dir.join("default/demo/service-demo-worker-0.yaml").exists());
    assert!(!dir.join("default/demo/service-demo-worker-1.yaml").exists());
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
}

/// Every file's inode below `dir`, by path relative to it.
fn inodes(dir: &std::path::Path) -> std::collections::BTreeMap<String, u64> {
    use std::os::unix::fs::MetadataExt;
    walk(dir)
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(dir).unwrap().display().to_string();
            (relative, std::fs::metadata(&path).unwrap().ino())
        })
        .collect()
}

#[test]
fn a_render_over_its_previous_output_links_the_files_that_did_not_change() {
    let repo = tempfile::tempdir().unwrap();
    copy_tree(&project_root().join("examples/kafka"), repo.path());
    let out = tempfile::tempdir().unwrap();
    let (dir, fresh) = (out.path().join("rendered"), out.path().join("fresh"));
    let render_into = |dir: &std::path::Path| {
        let dir = dir.to_string_lossy().into_owned();
        run(&["render", ".", "--output-dir", &dir], repo.path()).ok();
    };
    render_into(&dir);
    let first = inodes(&dir);

    // Nothing changed: every file is the one written before.
    render_into(&dir);
    assert_eq!(inodes(&dir), first);

    // Only the brokers' config changes: their ConfigMap and StatefulSet (its hash) are new
    // files; every other file is still the one written first, and the folder holds exactly
    // what a render into a new folder holds.
    let template = "apps/kafka/files/members/broker/etc/kafka/server.properties.j2";
    edit(repo.path(), template, "num.partitions=", "num.partitions=1");
    render_into(&dir);
    render_into(&fresh);
    assert_eq!(read_tree(&dir), read_tree(&fresh));
    let second = inodes(&dir);
    let changed: Vec<&str> = second
        .iter()
        .filter(|(name, inode)| first.get(*name) != Some(inode))
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        changed,
        [
            "streaming/kafka/configmap-kafka-broker-files.yaml",
            "streaming/kafka/statefulset-kafka-broker.yaml",
        ]
    );
    assert_eq!(second.len(), first.len());
}
