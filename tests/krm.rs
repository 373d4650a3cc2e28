//! `kdrender fn` as a KRM function, run by the real kustomize (exec functions) and kpt.

mod common;

use std::process::Command;

use common::*;

fn sorted(mut docs: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    docs.sort_by_key(|d| {
        (
            d["kind"].to_string(),
            d["metadata"]["namespace"].to_string(),
            d["metadata"]["name"].to_string(),
        )
    });
    docs
}

/// The stream's objects, as kustomize would print them (path annotations removed).
fn stream_objects(example: &str) -> Vec<serde_json::Value> {
    sorted(documents(&render(
        &project_root().join("examples").join(example),
    )))
}

const FUNCTION_CONFIG: &str =
    "apiVersion: kdrender.dev/v1alpha1\nkind: RenderFunction\nmetadata:\n  name: render\n";

#[test]
fn kustomize_runs_it_as_an_exec_generator() {
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
            "{FUNCTION_CONFIG}  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./kdrender-fn\nspec:\n  path: inputs\n"
        ),
    );
    write(
        dir.path(),
        "kustomization.yaml",
        "generators:\n- render.yaml\n",
    );
    let output = Command::new(standalone_kustomize())
        .args(["build", "--enable-alpha-plugins", "--enable-exec"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let built = sorted(documents(&String::from_utf8(output.stdout).unwrap()));
    assert_eq!(built, stream_objects("spark"));
}

#[test]
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
    let output = Command::new("kpt")
        .args([
            "fn",
            "eval",
            "--exec",
            &format!("{} fn", env!("CARGO_BIN_EXE_kdrender")),
            "--fn-config",
            "fn-config.yaml",
            "package",
        ])
        .current_dir(dir.path())
        .output()
        .expect("kpt runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
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
    let output = Command::new("kpt")
        .args(["fn", "render", "--allow-exec", "package"])
        .current_dir(dir.path())
        .output()
        .expect("kpt runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
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
    let cluster = repo.path().join("cluster.yaml");
    let text = std::fs::read_to_string(&cluster).unwrap();
    std::fs::write(&cluster, text.replace("id: worker", "id: workr")).unwrap();
    let list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: passthrough\nfunctionConfig:\n  apiVersion: kdrender.dev/v1alpha1\n  kind: RenderFunction\n  metadata:\n    name: render\n  spec:\n    path: .\n";
    let mut child = kdrender()
        .arg("fn")
        .current_dir(repo.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let out: serde_json::Value =
        serde_saphyr::from_str(&String::from_utf8(output.stdout).unwrap()).unwrap();
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
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .starts_with("error: cluster.yaml:15:9:")
    );
}
