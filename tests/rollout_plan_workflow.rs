//! The example PR-comment workflow (examples/github-actions/rollout-plan.yml): its Plan step's
//! script, taken from the workflow as written and run with bash as GitHub runs it, posts every
//! environment's summary whole and folds the details into `<details>` within GitHub's comment
//! limit, cutting them at a line, never the summary.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// GitHub refuses comments longer than this many characters.
const COMMENT_LIMIT: usize = 65_536;

/// The script of the workflow's Plan step.
fn plan_script() -> String {
    let path = project_root().join("examples/github-actions/rollout-plan.yml");
    let workflow: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let steps = workflow["jobs"]["plan"]["steps"].as_array().unwrap();
    let plan = steps.iter().find(|s| s["name"] == "Plan").unwrap();
    plan["run"].as_str().unwrap().to_string()
}

/// What the Plan step leaves: its exit code, the comment and the job summary.
struct Posted {
    code: i32,
    comment: String,
    job_summary: String,
}

/// Runs the Plan step in `dir` with `bin` first on PATH, as GitHub runs it (`bash -e -o
/// pipefail`), for `environments`; `fake` is where a fake kdrender reads its outputs.
fn run_plan_step(dir: &Path, bin: &Path, environments: &str, fake: Option<&Path>) -> Posted {
    let job_summary = dir.join("job-summary.md");
    std::fs::write(&job_summary, "").unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-e", "-o", "pipefail", "-c"])
        .arg(plan_script())
        .current_dir(dir)
        .env("PATH", path)
        .env("ENVIRONMENTS", environments)
        .env("BASE_REF", "main")
        .env("GITHUB_STEP_SUMMARY", &job_summary);
    if let Some(fake) = fake {
        command.env("FAKE", fake);
    }
    let output = command.output().expect("bash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "the step wrote to stderr:\n{stderr}");
    Posted {
        code: output.status.code().unwrap_or(-1),
        // Read as UTF-8: a cut in the middle of a character would fail here.
        comment: std::fs::read_to_string(dir.join("comment.md")).unwrap(),
        job_summary: std::fs::read_to_string(&job_summary).unwrap(),
    }
}

/// Asserts the comment's frame: within the limit, every fence and `<details>` closed.
fn assert_well_formed(comment: &str) {
    assert!(
        comment.chars().count() <= COMMENT_LIMIT && comment.len() <= COMMENT_LIMIT,
        "{} bytes",
        comment.len()
    );
    assert!(comment.starts_with("<!-- kdrender-rollout-plan -->\n## kdrender rollout plan\n"));
    assert_eq!(
        comment.matches("<details>").count(),
        comment.matches("</details>").count()
    );
    let fences = comment
        .lines()
        .filter(|l| l.len() >= 3 && l.chars().all(|c| c == '`'))
        .count();
    assert_eq!(fences % 2, 0, "{comment}");
}

/// A fake `kdrender` in `dir/bin` that prints `dir/<last argument's file name>.out` and its
/// `.err`, and exits with the code in its `.code` (0 if none).
fn fake_kdrender(dir: &Path) -> std::path::PathBuf {
    let bin = dir.join("bin");
    write(
        &bin,
        "kdrender",
        "#!/bin/sh\nfor last; do :; done\nbase=\"$FAKE/$(basename \"$last\")\"\n\
         [ -f \"$base.out\" ] && cat \"$base.out\"\n[ -f \"$base.err\" ] && cat \"$base.err\" >&2\n\
         exit \"$(cat \"$base.code\" 2>/dev/null || echo 0)\"\n",
    );
    let script = bin.join("kdrender");
    let mut permissions = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&script, permissions).unwrap();
    bin
}

const SUMMARY: &str = "kdrender diff: origin/main (0123456789ab) → working tree, envs/big\n\nSummary\n  clusters      1000 changed, 1000 distinct changes\n  objects       0 added, 0 removed, 2000 changed\n  StatefulSets  1000 restarted; 0 scaled, 0 created, 0 pruned\n  warnings      none\n";

#[test]
fn the_comment_keeps_every_summary_whole_and_folds_the_details_within_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake");
    // envs/big: a summary, then 300 KB of details in two-byte-character lines.
    let details: String = (0..5000)
        .map(|i| format!("  restart  bench/c{i:05}-worker → line {i} of the details ─────────\n"))
        .collect();
    write(&fake, "big.out", &format!("{SUMMARY}\n{details}"));
    // envs/fence: a config file line holds a code fence.
    write(
        &fake,
        "fence.out",
        "kdrender diff: origin/main (0123456789ab) → working tree, envs/fence\n\nSummary\n  warnings      none\n\nCluster prod/a\n+    ```` a fence in a file\n",
    );
    // envs/broken does not render.
    write(
        &fake,
        "broken.err",
        "error: clusters/x.yaml:3:1: the app \"nope\" does not exist\n  more of the report\n",
    );
    write(&fake, "broken.code", "1");
    // envs/same: nothing changes.
    write(
        &fake,
        "same.out",
        "kdrender diff: origin/main (0123456789ab) → working tree, envs/same\n\nNo changes: the working tree renders exactly what the base renders.\n",
    );
    let bin = fake_kdrender(dir.path());
    let environments = "envs/big envs/fence envs/broken envs/same";
    let posted = run_plan_step(dir.path(), &bin, environments, Some(&fake));
    assert_eq!(
        posted.code, 1,
        "an environment that does not render fails the step"
    );
    let comment = &posted.comment;
    assert_well_formed(comment);
    // Every summary, whole, before the first details.
    let first_details = comment.find("<details>").unwrap();
    let big = comment
        .find(&format!("### `envs/big`\n```\n{SUMMARY}```\n"))
        .unwrap();
    assert!(big < first_details, "{comment}");
    assert!(comment.contains(
        "### `envs/broken`\n```\nkdrender diff failed (exit 1):\nerror: clusters/x.yaml:3:1: the app \"nope\" does not exist\n```\n"
    ));
    assert!(comment.contains("### `envs/same`\n```\nkdrender diff: origin/main (0123456789ab) → working tree, envs/same\n\nNo changes: the working tree renders exactly what the base renders.\n```\n"));
    // The details are cut at a line, with a note; the ones after still get what room is left.
    assert!(comment.contains("more lines: see the job summary, or run kdrender diff locally\n"));
    assert!(comment.contains("  restart  bench/c00000-worker → line 0 of the details"));
    // The long plan does not crowd out the short ones: the failure's report is there whole.
    assert!(
        comment.contains("  more of the report\n```\n\n</details>\n"),
        "{comment}"
    );
    assert!(!comment.contains("line 4999 of the details"));
    assert!(
        comment.len() > COMMENT_LIMIT - 1000,
        "the room is used: {}",
        comment.len()
    );
    // A fence in the output gets a longer fence around it.
    assert!(
        comment.contains("\n`````\nCluster prod/a\n+    ```` a fence in a file\n`````\n"),
        "{comment}"
    );
    // The job summary (1 MiB) has the details whole.
    assert_well_formed_summary(&posted.job_summary);
    assert!(
        posted
            .job_summary
            .contains("line 4999 of the details ─────────\n")
    );
}

fn assert_well_formed_summary(job_summary: &str) {
    assert!(job_summary.len() <= 1_000_000);
    assert!(job_summary.starts_with("<!-- kdrender-rollout-plan -->\n"));
    assert_eq!(
        job_summary.matches("<details>").count(),
        job_summary.matches("</details>").count()
    );
}

#[test]
fn the_real_review_of_a_fleet_with_many_different_changes_fits_with_its_summary_first() {
    // 100 clusters, each given its own worker CPU: 100 distinct changes, more than a comment
    // holds.
    let repo = repo(&[("envs/prod/app.yaml", TWO_ROLE_APP)]);
    write_two_role_templates(repo.path(), "envs/prod/files");
    for i in 0..100 {
        write(
            repo.path(),
            &format!("envs/prod/c{i:02}.yaml"),
            &two_role_cluster_named(&format!("c{i:02}")),
        );
    }
    git(repo.path(), &["init", "-q"]);
    commit_all(repo.path(), "base");
    git(
        repo.path(),
        &["update-ref", "refs/remotes/origin/main", "HEAD"],
    );
    for i in 0..100 {
        edit(
            repo.path(),
            &format!("envs/prod/c{i:02}.yaml"),
            "cpu: \"2\"",
            &format!("cpu: \"{}m\"", 2100 + i),
        );
    }
    let bin = repo.path().join(".bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kdrender"), bin.join("kdrender")).unwrap();

    let posted = run_plan_step(repo.path(), &bin, "envs/prod", None);
    assert_eq!(posted.code, 0);
    assert_well_formed(&posted.comment);
    let review = run(
        &[
            "diff",
            "--base",
            "origin/main",
            "--color",
            "never",
            "envs/prod",
        ],
        repo.path(),
    )
    .ok();
    assert!(review.len() > COMMENT_LIMIT, "{} bytes", review.len());
    let summary: String = review.split_inclusive('\n').take(7).collect();
    assert!(
        summary.contains("  clusters      100 changed, 100 distinct changes\n"),
        "{summary}"
    );
    assert!(
        posted
            .comment
            .contains(&format!("```\n{summary}```\n<details>"))
    );
    assert!(posted.comment.contains("more lines: see the job summary"));
    // The job summary has the whole review after the summary (and the blank line after it).
    let details = review.strip_prefix(&format!("{summary}\n")).unwrap();
    assert!(posted.job_summary.contains(details));
}

#[test]
fn summaries_too_many_for_a_comment_give_a_note_not_a_cut_summary() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake");
    // 80 environments whose summaries take 1 KB each (long warning lines).
    let summary = format!(
        "{SUMMARY}{}",
        "  warnings      a long line of the summary, as many kinds of warnings would give ...\n"
            .repeat(11)
    );
    let environments: Vec<String> = (0..80).map(|i| format!("envs/e{i:02}")).collect();
    for env in &environments {
        let name = env.trim_start_matches("envs/");
        write(
            &fake,
            &format!("{name}.out"),
            &format!("{summary}\nCluster prod/a\n"),
        );
    }
    let bin = fake_kdrender(dir.path());
    let posted = run_plan_step(dir.path(), &bin, &environments.join(" "), Some(&fake));
    assert_eq!(posted.code, 0);
    assert_well_formed(&posted.comment);
    assert!(
        posted.comment.ends_with(
            "\nThe summaries of 80 environments do not fit in a comment: see the job summary.\n"
        ),
        "{}",
        posted.comment
    );
    assert!(!posted.comment.contains("Summary"));
    assert_eq!(posted.job_summary.matches(&summary).count(), 80);
}
