//! `render` streams: each cluster's text goes into a spool as it is made (src/spool.rs), in
//! memory and past a threshold in a temporary file, and reaches stdout only once the whole run
//! has succeeded; `--output-dir` writes each cluster's files into its staging folder as the
//! cluster is done. The bytes are those of serialising every object in order, wherever the
//! spool held them, and a failure late in the run leaves stdout empty and the folder as it was.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use kdrender::emit;
use kdrender::options::{InputOptions, StreamFormat};
use kdrender::validate::{Overrides, Scope};

/// The two-role repository with `count` clusters: `demo`, last in output order, and `c000`…
fn repo_with_clusters(count: usize) -> tempfile::TempDir {
    let repo = two_role_repo();
    for index in 0..count.saturating_sub(1) {
        let name = format!("c{index:03}");
        write(
            repo.path(),
            &format!("clusters/{name}.yaml"),
            &two_role_cluster_named(&name),
        );
    }
    repo
}

fn options(repo: &tempfile::TempDir) -> InputOptions {
    InputOptions {
        path: repo.path().to_path_buf(),
        root: repo.path().to_path_buf(),
        overrides: Overrides::default(),
        kube_version: None,
        files: kdrender::load::Files::Disk,
    }
}

/// The stream as the objects serialise one by one: what `render` printed before it streamed.
fn serialised(repo: &tempfile::TempDir, format: StreamFormat) -> String {
    let rendered =
        kdrender::render_objects(&options(repo), Scope::UsedApps, emit::MAX_OUTPUT_BYTES).unwrap();
    match format {
        StreamFormat::Yaml => rendered
            .objects
            .iter()
            .map(|o| format!("---\n{}", emit::to_yaml(&o.value).unwrap()))
            .collect(),
        StreamFormat::Json => {
            let items = rendered.objects.iter();
            emit::json_list(
                items
                    .map(|o| emit::to_json_item(&o.value).unwrap())
                    .collect(),
            )
            .concat()
        }
    }
}

/// `render` through the library, with the spool's threshold given.
fn streamed(repo: &tempfile::TempDir, format: StreamFormat, threshold: usize) -> (String, bool) {
    let limits = (emit::MAX_OUTPUT_BYTES, threshold);
    let outcome = kdrender::commands::render::stream(&options(repo), format, false, limits);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    let on_disk = outcome.stdout.is_on_disk();
    (outcome.stdout.into_string().unwrap(), on_disk)
}

#[test]
fn the_stream_is_the_same_bytes_in_memory_and_spooled_to_a_file() {
    for count in [1, 100] {
        let repo = repo_with_clusters(count);
        for format in [StreamFormat::Yaml, StreamFormat::Json] {
            let expected = serialised(&repo, format);
            let (in_memory, on_disk) = streamed(&repo, format, usize::MAX);
            assert!(!on_disk);
            assert_eq!(in_memory, expected, "{count} cluster(s), {format:?}");
            // A threshold the first cluster crosses: everything goes through the file.
            let (spooled, on_disk) = streamed(&repo, format, 1);
            assert!(on_disk, "{count} cluster(s), {format:?}");
            assert_eq!(spooled, expected, "{count} cluster(s), {format:?}");
            // One that a part of the run crosses: memory first, then the file.
            let (crossing, on_disk) = streamed(&repo, format, expected.len() / 2);
            assert!(on_disk, "{count} cluster(s), {format:?}");
            assert_eq!(crossing, expected, "{count} cluster(s), {format:?}");
        }
    }
}

#[test]
fn the_binary_prints_the_spooled_stream_whole() {
    let repo = repo_with_clusters(100);
    for format in ["yaml", "json"] {
        let expected = run(&["render", ".", "-o", format], repo.path()).ok();
        let args = ["render", ".", "-o", format, "--spool-threshold", "1"];
        assert_eq!(run(&args, repo.path()).ok(), expected, "{format}");
    }
}

/// A limit the whole run passes by one byte: the cluster that crosses it fails the run.
fn one_byte_short(repo: &tempfile::TempDir) -> String {
    let size = run(&["render", "."], repo.path()).ok().len();
    (size - 1).to_string()
}

#[test]
fn a_failure_in_the_last_cluster_leaves_stdout_empty_though_the_others_were_spooled() {
    // Fewer than eight clusters render one after the other, in output order: the first four
    // are in the spool's file (threshold one byte) when the last passes the limit.
    let repo = repo_with_clusters(5);
    let limit = one_byte_short(&repo);
    let args = ["render", ".", "--max-output-bytes", &limit];
    for threshold in ["1", "100000000"] {
        let stderr = run(
            &[&args[..], &["--spool-threshold", threshold]].concat(),
            repo.path(),
        )
        .refused("error: the output would be more than");
        assert!(stderr.contains(&limit), "{stderr}");
    }
    // In parallel, whichever cluster crosses the limit, the run prints nothing.
    let repo = repo_with_clusters(100);
    let limit = one_byte_short(&repo);
    for format in ["yaml", "json"] {
        let args = ["render", ".", "-o", format, "--max-output-bytes", &limit];
        run(
            &[&args[..], &["--spool-threshold", "1"]].concat(),
            repo.path(),
        )
        .refused("error: the output would be more than");
    }
}

#[test]
fn a_folder_render_that_fails_after_writing_files_leaves_the_old_folder_and_nothing_beside() {
    let repo = repo_with_clusters(100);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("rendered");
    let dir_arg = dir.to_string_lossy().into_owned();
    run(&["render", ".", "--output-dir", &dir_arg], repo.path()).ok();
    let before = read_tree(&dir);
    // The folder's bytes, kustomization.yaml aside: what the output limit counts.
    let size: usize = before
        .iter()
        .filter(|(path, _)| !path.ends_with("kustomization.yaml"))
        .map(|(_, bytes)| bytes.len())
        .sum();
    // Another cluster renders, and the run passes the limit once most clusters are written.
    write(
        repo.path(),
        "clusters/zzz.yaml",
        &two_role_cluster_named("zzz"),
    );
    let limit = size.to_string();
    let args = ["render", ".", "--output-dir", &dir_arg];
    run(
        &[&args[..], &["--max-output-bytes", &limit]].concat(),
        repo.path(),
    )
    .refused("error: the output would be more than");
    assert_eq!(read_tree(&dir), before);
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
}
