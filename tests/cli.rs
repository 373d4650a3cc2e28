//! The command line as helm and kubectl users expect it, run as a user would: `-o yaml|json`
//! and `--output-dir`, shell completions and the man page, `--version`, `--cluster`/`--label`
//! reproducing the Argo CD plugin, `validate --format json|github`, one report for one mistake
//! repeated a thousand times, and `--kube-version`.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

/// The kafka example with a second cluster, `other`.
fn kafka_with_two_clusters() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    copy_tree(&project_root().join("examples/kafka"), repo.path());
    let cluster = std::fs::read_to_string(repo.path().join("clusters/kafka.yaml")).unwrap();
    write(
        repo.path(),
        "clusters/other.yaml",
        &cluster.replace("name: kafka\n", "name: other\n"),
    );
    repo
}

/// `kdrender ARGS` in `dir`, with the repository root given as `dir`.
fn run_in(dir: &Path, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend(["--root", "."]);
    run(&all, dir)
}

#[test]
fn json_output_is_one_list_of_the_same_objects_as_yaml() {
    let repo = kafka_with_two_clusters();
    let yaml = run_in(repo.path(), &["render", "."]).ok();
    let json = run_in(repo.path(), &["render", ".", "-o", "json"]).ok();
    let list: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap().clone();
    assert!(items.len() > 10, "{}", items.len());
    // The same objects in the same order.
    assert_eq!(items, documents(&yaml));
    // `-o yaml` is the default, spelled out.
    assert_eq!(
        run_in(repo.path(), &["render", ".", "--output", "yaml"]).ok(),
        yaml
    );
    // Deterministic, like the YAML.
    assert_eq!(
        run_in(repo.path(), &["render", ".", "-o", "json"]).ok(),
        json
    );
}

#[test]
fn output_dir_writes_the_folder_and_o_with_a_folder_is_a_usage_error() {
    let repo = kafka_with_two_clusters();
    run_in(repo.path(), &["render", ".", "--output-dir", "out"]).ok();
    assert!(repo.path().join("out/kustomization.yaml").is_file());
    assert!(repo.path().join("out/streaming/other").is_dir());

    // `-o DIR` wrote a folder before: now it is a usage error naming --output-dir, and no
    // folder and no stream appear.
    let refused = run_in(repo.path(), &["render", ".", "-o", "rendered"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stdout.is_empty());
    assert!(
        refused.stderr.contains("--output-dir rendered"),
        "{}",
        refused.stderr
    );
    assert!(!repo.path().join("rendered").exists());

    // Format names and `-` are never folder names.
    for name in ["json", "yaml", "-"] {
        let refused = run_in(repo.path(), &["render", ".", "--output-dir", name]);
        assert_eq!(refused.code, 2, "{name}: {}", refused.stderr);
        assert!(!repo.path().join(name).exists());
    }
    // A stream format and a folder at once is a usage error too.
    let both = run_in(
        repo.path(),
        &["render", ".", "-o", "json", "--output-dir", "x"],
    );
    assert_eq!(both.code, 2, "{}", both.stderr);
}

#[test]
fn bash_completions_load() {
    let bin = Path::new(env!("CARGO_BIN_EXE_kdrender"));
    let script = format!(
        "source <('{}' completions bash) && complete -p kdrender",
        bin.display()
    );
    let output = Command::new("bash").args(["-c", &script]).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("kdrender"), "{stdout}");
    // Every other shell gets a script that names the new options.
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = run(&["completions", shell], &project_root()).ok();
        assert!(script.contains("output-dir"), "{shell}");
        assert!(script.contains("kube-version"), "{shell}");
    }
    let unknown = run(&["completions", "tcsh"], &project_root());
    assert_eq!(unknown.code, 2);
}

#[test]
fn the_man_page_is_roff_for_kdrender_and_each_command() {
    let page = run(&["man"], &project_root()).ok();
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
    assert!(page.contains(".TH kdrender 1"), "{page}");
    let render = run(&["man", "render"], &project_root()).ok();
    assert!(render.contains(".TH kdrender-render 1"), "{render}");
    assert!(render.contains("output\\-dir"), "{render}");
    let unknown = run(&["man", "nosuch"], &project_root());
    assert_eq!(unknown.code, 2);
    assert!(unknown.stdout.is_empty());
}

#[test]
fn version_names_the_commit_and_never_reaches_the_output() {
    let version = run(&["--version"], &project_root()).ok();
    assert!(
        version.starts_with(&format!("kdrender {} (", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(project_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_string());
    match head {
        // Built from this checkout (cargo reruns build.rs when HEAD moves).
        Some(head) => assert!(version.contains(&format!("commit {head}")), "{version}"),
        None => assert!(version.contains("commit"), "{version}"),
    }
    // The rendered bytes do not depend on the build: no commit, no "commit" text.
    let stream = render(&project_root().join("examples/kafka"));
    let commit = version.split("commit ").nth(1).unwrap_or_default();
    let commit: String = commit.chars().take_while(char::is_ascii_hexdigit).collect();
    assert!(commit.len() >= 40, "{version}");
    assert!(!stream.contains(&commit[..12]));
    assert!(!stream.contains("(commit "));
}

/// `kdrender argocd generate` in `dir` with these plugin parameters.
fn generate_with(dir: &Path, parameters: &str) -> Run {
    run_with(
        kdrender()
            .args(["argocd", "generate", "."])
            .env("ARGOCD_APP_PARAMETERS", parameters)
            .env("ARGOCD_APP_SOURCE_PATH", ".")
            .current_dir(dir),
    )
}

#[test]
fn cluster_and_label_render_what_the_plugin_renders() {
    let repo = kafka_with_two_clusters();
    let parameters = r#"[{"name":"clusters","array":["other"]},{"name":"labels","map":{"tenant":"data","tier":"gold"}}]"#;
    let plugin = generate_with(repo.path(), parameters).ok();
    let args = [
        "render",
        ".",
        "--cluster",
        "other",
        "--label",
        "tier=gold",
        "--label",
        "tenant=data",
    ];
    let local = run_in(repo.path(), &args).ok();
    assert_eq!(local, plugin);
    let docs = documents(&local);
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["labels"]["kubedirector.hpe.com/kdcluster"] == "other")
    );
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["labels"]["tier"] == "gold")
    );

    // The same names are refused with the same words.
    let plugin = generate_with(repo.path(), r#"[{"name":"clusters","array":["othr"]}]"#);
    let local = run_in(repo.path(), &["render", ".", "--cluster", "othr"]);
    let (plugin, local) = (plugin.invalid(), local.invalid());
    assert!(local.contains("names \"othr\""), "{local}");
    let first_line = |text: &str| text.lines().next().unwrap_or_default().to_string();
    assert_eq!(first_line(&local), first_line(&plugin));
    let tracking = r#"[{"name":"labels","map":{"app.kubernetes.io/instance":"x"}}]"#;
    let plugin = generate_with(repo.path(), tracking).invalid();
    let local = run_in(
        repo.path(),
        &["render", ".", "--label", "app.kubernetes.io/instance=x"],
    )
    .invalid();
    assert_eq!(first_line(&local), first_line(&plugin));

    // validate and diff take them too.
    run_in(repo.path(), &["validate", ".", "--cluster", "other"]).ok();
    let invalid = run_in(repo.path(), &["validate", ".", "--cluster", "nope"]).invalid();
    assert!(invalid.contains("\"nope\""), "{invalid}");
    // A label without `=`, or given twice, is a usage error.
    for args in [
        &["render", ".", "--label", "tenant"][..],
        &["render", ".", "--label", "a=1", "--label", "a=2"][..],
    ] {
        let usage = run_in(repo.path(), args);
        assert_eq!(usage.code, 2, "{args:?}: {}", usage.stderr);
    }
}

/// A repository where `count` clusters name an app that does not exist.
fn missing_app_flood(count: usize) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    for i in 0..count {
        write(
            repo.path(),
            &format!("clusters/c{i:04}.yaml"),
            &format!(
                "apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata:\n  name: c{i:04}\nspec:\n  app: spark\n  roles: []\n"
            ),
        );
    }
    repo
}

#[test]
fn a_thousand_clusters_naming_a_missing_app_are_one_report() {
    let repo = missing_app_flood(1000);
    for command in ["render", "validate"] {
        let stderr = run_in(repo.path(), &[command, "."]).invalid();
        let errors = stderr.lines().filter(|l| l.starts_with("error: ")).count();
        assert_eq!(errors, 1, "{command}:\n{stderr}");
        assert!(
            stderr.starts_with("error: clusters/c0000.yaml:"),
            "{command}:\n{stderr}"
        );
        assert!(
            stderr.contains("… and 999 more like this: clusters/c0001.yaml:"),
            "{command}:\n{stderr}"
        );
        // render ends with the same count line as validate.
        assert!(
            stderr.ends_with("checked 0 app(s) and 1000 cluster(s): 1000 error(s), 0 warning(s)\n"),
            "{command}:\n{stderr}"
        );
        assert!(stderr.lines().count() < 20, "{command}:\n{stderr}");
    }
}

#[test]
fn validate_speaks_github_workflow_commands_and_versioned_json() {
    let repo = missing_app_flood(3);
    write(repo.path(), "clusters/c0002.yaml", "a: [\n");
    let github = run_in(repo.path(), &["validate", ".", "--format", "github"]);
    assert_eq!(github.code, 1);
    let lines: Vec<&str> = github.stdout.lines().collect();
    assert!(
        lines.iter().all(|l| l.starts_with("::error file=")),
        "{}",
        github.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::error file=clusters/c0002.yaml,line=")),
        "{}",
        github.stdout
    );
    // A message's line breaks are escaped: each annotation is one line.
    assert!(lines.iter().any(|l| l.contains("%0A")), "{}", github.stdout);
    assert!(github.stderr.starts_with("checked "), "{}", github.stderr);

    let json = run_in(repo.path(), &["validate", ".", "--format", "json"]);
    assert_eq!(json.code, 1);
    let document: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(document["version"], 1);
    assert_eq!(document["valid"], false);
    let problems = document["problems"].as_array().unwrap();
    assert!(!problems.is_empty());
    for problem in problems {
        assert_eq!(problem["severity"], "error");
        assert!(problem["message"].is_string());
        assert!(problem["file"].as_str().unwrap().starts_with("clusters/"));
        assert!(problem["line"].as_u64().unwrap() >= 1);
        assert!(problem["column"].as_u64().unwrap() >= 1);
    }

    // Files are named from the repository root, wherever the rendered folder is.
    let nested = tempfile::tempdir().unwrap();
    copy_tree(repo.path(), &nested.path().join("envs/prod"));
    let github = run(
        &["validate", "envs/prod", "--root", ".", "--format", "github"],
        nested.path(),
    );
    assert!(
        github
            .stdout
            .starts_with("::error file=envs/prod/clusters/"),
        "{}",
        github.stdout
    );

    // A clean run: an empty report, valid.
    let clean = kafka_with_two_clusters();
    let json = run_in(clean.path(), &["validate", ".", "--format", "json"]).ok();
    let document: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(document["valid"], true);
    assert_eq!(document["problems"], serde_json::json!([]));
    assert_eq!(
        run_in(clean.path(), &["validate", ".", "--format", "github"]).ok(),
        ""
    );
}

#[test]
fn the_pre_commit_hook_runs_validate() {
    let hooks = std::fs::read_to_string(project_root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks = documents(&format!("---\n{hooks}"));
    let hook = &hooks[0][0];
    assert_eq!(hook["id"], "kdrender-validate");
    assert_eq!(hook["entry"], "kdrender validate");
    assert_eq!(hook["pass_filenames"], false);
}

#[test]
fn kube_version_warns_behind_a_gate_and_refuses_what_is_missing() {
    let example = project_root().join("examples/kafka");
    let at = |version: &str| run(&["render", ".", "--kube-version", version], &example);
    // The stated minimum, and anything newer: silent.
    for version in ["1.27", "v1.32.1"] {
        let run = at(version);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stderr, "", "{version}");
    }
    // 1.26 has the retention policy behind a gate that is off by default: a warning, and the
    // same objects.
    let warned = at("1.26").warned("warning: ");
    assert_eq!(warned, render(&example));
    let stderr = at("1.26").stderr;
    assert!(
        stderr.contains("persistentVolumeClaimRetentionPolicy")
            && stderr.contains("StatefulSetAutoDeletePVC"),
        "{stderr}"
    );
    // 1.22 does not have it at all: refused, nothing on stdout.
    let refused = at("1.22").refused("error: ");
    assert!(
        refused.contains("Kubernetes 1.22 (--kube-version) lacks the StatefulSet field persistentVolumeClaimRetentionPolicy"),
        "{refused}"
    );
    // validate judges the same way.
    let validated = run(&["validate", ".", "--kube-version", "1.22"], &example);
    assert_eq!(validated.code, 1, "{}", validated.stderr);
    // Not a version: a usage error.
    let usage = at("1.x");
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    assert!(
        usage.stderr.contains("is not a Kubernetes version"),
        "{}",
        usage.stderr
    );
}

#[test]
fn diff_compares_only_the_clusters_named() {
    let repo = two_role_repo();
    git(repo.path(), &["init", "-q"]);
    commit_all(repo.path(), "base");
    // The working tree replaces cluster demo by a new cluster, other.
    std::fs::remove_file(repo.path().join("cluster.yaml")).unwrap();
    write(
        repo.path(),
        "other.yaml",
        &TWO_ROLE_CLUSTER.replace("name: demo", "name: other"),
    );
    let plan = |args: &[&str]| -> Value {
        let mut all = vec!["diff", "--format", "json", "."];
        all.extend(args);
        serde_json::from_str(&run(&all, repo.path()).ok()).unwrap()
    };
    let clusters = |plan: &Value, list: &str| -> Vec<String> {
        let mut names: Vec<String> = plan["rollout"][list]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["cluster"].as_str().unwrap().to_string())
            .collect();
        names.dedup();
        names
    };
    let everything = plan(&[]);
    assert_eq!(clusters(&everything, "prunes"), ["demo"]);
    assert_eq!(clusters(&everything, "creates"), ["other"]);
    // --cluster other: a new cluster, created; demo is not part of the comparison.
    let other = plan(&["--cluster", "other"]);
    assert!(clusters(&other, "prunes").is_empty(), "{other}");
    assert_eq!(clusters(&other, "creates"), ["other"]);
    // --cluster demo: a cluster the working tree removed, pruned; other is left out.
    let demo = plan(&["--cluster", "demo"]);
    assert_eq!(clusters(&demo, "prunes"), ["demo"]);
    assert!(clusters(&demo, "creates").is_empty(), "{demo}");
    // A cluster neither side renders is refused, with the names that exist.
    let stderr = run(&["diff", ".", "--cluster", "nowhere"], repo.path()).invalid();
    assert!(stderr.contains("\"nowhere\""), "{stderr}");
}
