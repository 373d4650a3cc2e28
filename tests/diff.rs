//! `kdrender diff` on temporary Git repositories: the rollout plan names what restarts and why,
//! warns about what Kubernetes refuses or what loses data, and never touches the working tree or
//! the index.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.email=test@example.com",
            "-c",
            "user.name=test",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The two-role repository, committed.
fn committed() -> tempfile::TempDir {
    let repo = two_role_repo();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "base"]);
    repo
}

fn edit(root: &Path, path: &str, from: &str, to: &str) {
    let full = root.join(path);
    let text = std::fs::read_to_string(&full).unwrap();
    assert!(text.contains(from), "{path} lacks {from:?}");
    std::fs::write(full, text.replacen(from, to, 1)).unwrap();
}

/// The plan as JSON.
fn plan(repo: &Path) -> serde_json::Value {
    let stdout = run(&["diff", "--format", "json", "."], repo).ok();
    serde_json::from_str(&stdout).unwrap()
}

fn restarted(plan: &serde_json::Value) -> Vec<String> {
    plan["rollout"]["restarts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

fn warnings(plan: &serde_json::Value) -> Vec<String> {
    plan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            format!(
                "{} {}",
                w["name"].as_str().unwrap(),
                w["warning"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_one_role_edit_restarts_that_role_for_that_setting() {
    let repo = committed();
    edit(
        repo.path(),
        "cluster.yaml",
        "cpu: \"2\"\n        memory: 2Gi",
        "cpu: \"3\"\n        memory: 2Gi",
    );
    let plan = plan(repo.path());
    assert_eq!(restarted(&plan), ["demo-worker"]);
    assert_eq!(
        plan["rollout"]["restarts"][0]["reasons"],
        serde_json::json!([{"kind": "setting", "field": "containers[app].resources.limits.cpu", "from": "2", "to": "3"}])
    );
    assert!(warnings(&plan).is_empty());
    assert_eq!(plan["changed"], true);
}

#[test]
fn a_scale_out_scales_and_restarts_the_roles_that_take_membership_events() {
    let repo = committed();
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    let plan = plan(repo.path());
    assert_eq!(plan["rollout"]["scales"][0]["name"], "demo-worker");
    assert_eq!(
        (
            plan["rollout"]["scales"][0]["from"].as_u64(),
            plan["rollout"]["scales"][0]["to"].as_u64()
        ),
        (Some(2), Some(3))
    );
    assert_eq!(restarted(&plan), ["demo-coordinator"]);
    assert_eq!(
        plan["rollout"]["restarts"][0]["reasons"],
        serde_json::json!([{
            "kind": "membership", "cluster": "demo", "role": "worker", "from": 2, "to": 3,
            "added": ["demo-worker-2.demo.default.svc.cluster.local"], "removed": []
        }])
    );
    let added: Vec<&str> = plan["objects"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(added, ["demo-worker-2"]);
}

#[test]
fn a_template_edit_names_the_file_and_the_template() {
    let repo = committed();
    edit(
        repo.path(),
        "files/roles/worker/etc/worker/worker.conf.j2",
        "threads=4",
        "threads=8",
    );
    let plan = plan(repo.path());
    assert_eq!(restarted(&plan), ["demo-worker"]);
    assert_eq!(
        plan["rollout"]["restarts"][0]["reasons"],
        serde_json::json!([{"kind": "file", "path": "/etc/worker/worker.conf", "template": "files/roles/worker/etc/worker/worker.conf.j2", "change": "changed"}])
    );
    let text = run(&["diff", "--color", "never", "."], repo.path()).ok();
    assert!(text.contains("config file /etc/worker/worker.conf changed (template files/roles/worker/etc/worker/worker.conf.j2)"), "{text}");
    assert!(text.contains("-    threads=4\n+    threads=8"), "{text}");
}

#[test]
fn a_storage_change_warns_that_kubernetes_refuses_it() {
    let repo = committed();
    edit(repo.path(), "cluster.yaml", "size: 5Gi", "size: 10Gi");
    let plan = plan(repo.path());
    assert_eq!(restarted(&plan), ["demo-coordinator"]);
    let reasons = plan["rollout"]["restarts"][0]["reasons"]
        .as_array()
        .unwrap();
    assert!(
        reasons.iter().any(|r| r["field"]
            == "volumeClaimTemplates[p].spec.resources.requests.storage"
            && r["to"] == "10Gi"),
        "{reasons:?}"
    );
    assert_eq!(warnings(&plan), ["demo-coordinator immutable-field"]);
    assert!(
        plan["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("--cascade=orphan")
    );
}

#[test]
fn scaling_down_a_role_with_storage_warns_of_data_loss() {
    let repo = committed();
    edit(
        repo.path(),
        "cluster.yaml",
        "    members: 2\n    resources:",
        "    members: 1\n    resources:",
    );
    edit(
        repo.path(),
        "cluster.yaml",
        "        memory: 2Gi\n",
        "        memory: 2Gi\n    storage:\n      size: 1Gi\n",
    );
    git(repo.path(), &["commit", "-qam", "storage for workers"]);
    edit(
        repo.path(),
        "cluster.yaml",
        "    members: 1\n    resources:",
        "    members: 2\n    resources:",
    );
    let up = plan(repo.path());
    assert!(
        !warnings(&up).iter().any(|w| w.contains("scale-down")),
        "{up}"
    );
    git(repo.path(), &["commit", "-qam", "two workers"]);
    edit(
        repo.path(),
        "cluster.yaml",
        "    members: 2\n    resources:",
        "    members: 1\n    resources:",
    );
    let down = plan(repo.path());
    assert!(
        warnings(&down).contains(&"demo-worker scale-down-deletes-volumes".to_string()),
        "{down}"
    );
}

#[test]
fn a_removed_cluster_is_pruned_with_warnings() {
    let repo = committed();
    std::fs::remove_file(repo.path().join("cluster.yaml")).unwrap();
    write(
        repo.path(),
        "other.yaml",
        &TWO_ROLE_CLUSTER.replace("name: demo", "name: other"),
    );
    let plan = plan(repo.path());
    let prunes = plan["rollout"]["prunes"].as_array().unwrap();
    assert!(prunes.iter().all(|p| p["cluster"] == "demo"));
    assert!(
        prunes
            .iter()
            .any(|p| p["kind"] == "StatefulSet" && p["name"] == "demo-coordinator")
    );
    let warnings = warnings(&plan);
    assert!(
        warnings.contains(&"demo cluster-removed".to_string()),
        "{warnings:?}"
    );
    assert!(
        warnings.contains(&"demo-coordinator statefulset-removed".to_string()),
        "{warnings:?}"
    );
    assert!(
        plan["rollout"]["creates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "other-worker")
    );
}

#[test]
fn exit_codes_tell_whether_anything_changes() {
    let repo = committed();
    let unchanged = run(&["diff", "--exit-code", "."], repo.path());
    assert_eq!(unchanged.code, 0, "{}", unchanged.stderr);
    assert!(unchanged.stdout.contains("No changes"));
    edit(repo.path(), "app.yaml", "tuning: standard", "tuning: fast");
    let changed = run(&["diff", "--exit-code", "."], repo.path());
    assert_eq!(changed.code, 3, "{}", changed.stderr);
    assert!(
        changed
            .stdout
            .contains("app configMeta.tuning: standard → fast"),
        "{}",
        changed.stdout
    );
}

#[test]
fn a_missing_revision_is_a_clear_error_and_a_new_repository_compares_with_nothing() {
    let repo = committed();
    let stderr = run(&["diff", "--base", "no-such-branch", "."], repo.path()).invalid();
    assert!(
        stderr.starts_with("error: the base revision \"no-such-branch\" does not exist"),
        "{stderr}"
    );

    let fresh = two_role_repo();
    git(fresh.path(), &["init", "-q"]);
    let plan = plan(fresh.path());
    assert!(plan["base"]["commit"].is_null());
    assert!(plan["objects"]["removed"].as_array().unwrap().is_empty());
    assert_eq!(plan["rollout"]["creates"].as_array().unwrap().len(), 2);

    let outside = two_role_repo();
    let stderr = run(&["diff", "."], outside.path()).invalid();
    assert!(
        stderr.contains("is not inside a Git working tree"),
        "{stderr}"
    );
}

#[test]
fn the_path_may_be_new_at_the_base_revision() {
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "README.md", "docs\n");
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "docs only"]);
    copy_tree(two_role_repo().path(), &repo.path().join("envs/prod"));
    let stdout = run(&["diff", "--format", "json", "envs/prod"], repo.path()).ok();
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["path"], "envs/prod");
    assert!(plan["objects"]["added"].as_array().unwrap().len() > 5);
}

#[test]
fn the_working_tree_and_the_index_are_untouched() {
    let repo = committed();
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    git(repo.path(), &["add", "cluster.yaml"]);
    edit(repo.path(), "app.yaml", "tuning: standard", "tuning: fast");
    let status = git(repo.path(), &["status", "--porcelain"]);
    let index = std::fs::read(repo.path().join(".git/index")).unwrap();
    run(&["diff", "."], repo.path()).ok();
    assert_eq!(git(repo.path(), &["status", "--porcelain"]), status);
    assert_eq!(
        std::fs::read(repo.path().join(".git/index")).unwrap(),
        index
    );
}

#[test]
fn the_text_plan_is_plain_when_not_on_a_terminal_and_coloured_when_asked() {
    let repo = committed();
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    let plain = run(&["diff", "."], repo.path()).ok();
    assert!(!plain.contains('\u{1b}'));
    assert!(plain.starts_with("kdrender diff: HEAD ("), "{plain}");
    let coloured = run(&["diff", "--color", "always", "."], repo.path()).ok();
    assert!(coloured.contains("\u{1b}[33mrestart\u{1b}[0m"));
}
