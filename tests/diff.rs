//! `kdrender diff` on temporary Git repositories (made with the git CLI): the rollout plan names
//! what restarts and why, warns about what Kubernetes refuses or what loses data, speaks a
//! stable JSON format, exits with 3 on changes when asked, and never touches the working tree or
//! the index.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;

use common::*;
use serde_json::{Value, json};

/// The two-role repository (tests/common), committed: app, cluster and three templates.
fn committed() -> tempfile::TempDir {
    let repo = two_role_repo();
    git(repo.path(), &["init", "-q"]);
    commit_all(repo.path(), "base");
    repo
}

/// The plan of PATH `.` as JSON.
fn plan(repo: &Path) -> Value {
    let stdout = run(&["diff", "--format", "json", "."], repo).ok();
    serde_json::from_str(&stdout).unwrap()
}

fn text(repo: &Path) -> String {
    run(&["diff", "--color", "never", "."], repo).ok()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect()
}

/// "Kind name" of each object of a list.
fn kinds_and_names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["kind"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn restarted(plan: &Value) -> Vec<String> {
    names(&plan["rollout"]["restarts"])
}

/// The reasons of one restart.
fn reasons<'a>(plan: &'a Value, statefulset: &str) -> &'a Value {
    &plan["rollout"]["restarts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == statefulset)
        .unwrap_or_else(|| panic!("{statefulset} does not restart: {plan:#}"))["reasons"]
}

fn warnings(plan: &Value) -> Vec<String> {
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
    // One reason: the init step's copy of the resources follows the app container's.
    assert_eq!(
        reasons(&plan, "demo-worker"),
        &json!([{"kind": "setting", "setting": "resources", "field": "containers[app].resources.limits.cpu", "from": "2", "to": "3", "lines": null}])
    );
    assert!(plan["rollout"]["scales"].as_array().unwrap().is_empty());
    assert!(warnings(&plan).is_empty());
    assert_eq!(plan["changed"], true);
    // The worker's flavor in configmeta.json changes in place: the coordinator does not restart.
    assert_eq!(
        names(&plan["objects"]["changed"]),
        ["demo-configmeta", "demo-worker"]
    );
    let text = text(repo.path());
    assert!(
        text.contains(
            "  restart  default/demo-worker (cluster demo, role worker)\n           - resources: containers[app].resources.limits.cpu: 2 → 3\n"
        ),
        "{text}"
    );
}

/// The two-role repository with a setup package for every role, committed: the coordinator
/// takes every KubeDirector event (the app gives it no eventList), the worker only `configure`.
fn committed_with_packages() -> tempfile::TempDir {
    let repo = two_role_repo();
    edit(
        repo.path(),
        "app.yaml",
        "  defaultImageRepoTag:",
        "  defaultConfigPackage: {packageURL: \"file:///opt/setup/twotier.tgz\"}\n  defaultImageRepoTag:",
    );
    git(repo.path(), &["init", "-q"]);
    commit_all(repo.path(), "base");
    repo
}

#[test]
fn a_scale_out_restarts_nobody_and_leaves_configmeta_stale_without_a_setup_package() {
    let repo = committed();
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    let plan = plan(repo.path());
    assert_eq!(
        plan["rollout"]["scales"],
        json!([{"namespace": "default", "cluster": "demo", "kind": "StatefulSet", "name": "demo-worker", "from": 2, "to": 3}])
    );
    assert!(restarted(&plan).is_empty(), "{plan:#}");
    assert!(plan["rollout"]["notifies"].as_array().unwrap().is_empty());
    // No role runs a setup runner: the running members keep the document they started with.
    assert_eq!(
        plan["rollout"]["refreshes"],
        json!([{
            "namespace": "default", "cluster": "demo", "kind": "ConfigMap", "name": "demo-configmeta",
            "refreshed": [], "stale": ["coordinator", "worker"],
            "changes": [{
                "kind": "membership", "cluster": "demo", "role": "worker", "from": 2, "to": 3,
                "added": ["demo-worker-2.demo.default.svc.cluster.local"], "removed": []
            }]
        }])
    );
    assert_eq!(names(&plan["objects"]["added"]), ["demo-worker-2"]);
    assert!(warnings(&plan).is_empty(), "a scale-out loses nothing");
    let text = text(repo.path());
    assert!(
        text.contains(
            "  refresh  default/demo-configmeta (cluster demo): configmeta.json changes; the running members of coordinator, worker keep the one they started with (no setup package)\n           - members of demo/worker: 2 → 3; added demo-worker-2.demo.default.svc.cluster.local\n"
        ),
        "{text}"
    );
}

#[test]
fn a_scale_out_notifies_the_running_members_that_take_addnodes_in_place() {
    let repo = committed_with_packages();
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    let plan = plan(repo.path());
    assert!(restarted(&plan).is_empty(), "{plan:#}");
    // The coordinator's three running members hear of the new worker; the worker takes only
    // `configure`, so its two running members get the new configmeta.json and no event.
    let fqdn = "demo-worker-2.demo.default.svc.cluster.local";
    assert_eq!(
        plan["rollout"]["notifies"],
        json!([{
            "namespace": "default", "cluster": "demo", "kind": "StatefulSet", "name": "demo-coordinator",
            "role": "coordinator", "members": [0, 1, 2],
            "events": [{
                "event": "addnodes", "role": "worker", "fqdns": [fqdn],
                "arguments": ["--addnodes", "--nodegroup", "1", "--role", "worker", "--fqdns", fqdn]
            }]
        }])
    );
    assert_eq!(
        plan["rollout"]["refreshes"][0]["refreshed"],
        json!(["coordinator", "worker"])
    );
    assert_eq!(plan["rollout"]["refreshes"][0]["stale"], json!([]));
    let text = text(repo.path());
    assert!(
        text.contains(&format!(
            "  notify   default/demo-coordinator (cluster demo, role coordinator): in place, in members 0, 1, 2\n           - startscript --addnodes --nodegroup 1 --role worker --fqdns {fqdn}\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("  refresh  default/demo-configmeta (cluster demo): configmeta.json rewritten in place in the running members of coordinator, worker\n"),
        "{text}"
    );
}

#[test]
fn a_scale_in_notifies_delnodes_to_the_members_that_stay() {
    let repo = committed_with_packages();
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 1");
    let plan = plan(repo.path());
    assert!(restarted(&plan).is_empty(), "{plan:#}");
    let fqdn = "demo-worker-1.demo.default.svc.cluster.local";
    assert_eq!(
        plan["rollout"]["notifies"][0]["events"],
        json!([{
            "event": "delnodes", "role": "worker", "fqdns": [fqdn],
            "arguments": ["--delnodes", "--nodegroup", "1", "--role", "worker", "--fqdns", fqdn]
        }])
    );
    assert_eq!(plan["rollout"]["notifies"][0]["name"], "demo-coordinator");
    assert_eq!(
        plan["rollout"]["notifies"].as_array().unwrap().len(),
        1,
        "{plan:#}"
    );
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
        reasons(&plan, "demo-worker"),
        &json!([{
            "kind": "file", "path": "/etc/worker/worker.conf",
            "template": "files/roles/worker/etc/worker/worker.conf.j2", "change": "changed",
            "members": null, "from": null, "to": null,
            "lines": {"removed": ["threads=4"], "added": ["threads=8"]}
        }])
    );
    let text = text(repo.path());
    assert!(
        text.contains("- config file /etc/worker/worker.conf changed (template files/roles/worker/etc/worker/worker.conf.j2): lines -threads=4 | +threads=8\n"),
        "{text}"
    );
    assert!(
        text.contains("--- base/default/ConfigMap/demo-worker-files\n+++ working-tree/default/ConfigMap/demo-worker-files\n"),
        "{text}"
    );
    assert!(text.contains("-    threads=4\n+    threads=8"), "{text}");
}

#[test]
fn a_per_member_template_edit_names_the_members_and_a_mode_change_the_modes() {
    let repo = committed();
    edit(
        repo.path(),
        "files/members/coordinator/var/lib/coord/myid.j2",
        "{{ member.ordinal + 1 }}",
        "{{ member.ordinal + 10 }}",
    );
    edit(
        repo.path(),
        "files/roles/worker/etc/worker/worker.conf.j2",
        "coordinators=",
        "{# kdrender: mode=0600 #}\ncoordinators=",
    );
    let plan = plan(repo.path());
    assert_eq!(
        reasons(&plan, "demo-coordinator"),
        &json!([{
            "kind": "file", "path": "/var/lib/coord/myid",
            "template": "files/members/coordinator/var/lib/coord/myid.j2", "change": "changed",
            "members": [0, 1, 2], "from": null, "to": null,
            "lines": {"removed": ["1"], "added": ["10"]}
        }])
    );
    // The mount moves to the volume of mode 0600: explained by the file, not as a volume change.
    assert_eq!(
        reasons(&plan, "demo-worker"),
        &json!([{
            "kind": "file", "path": "/etc/worker/worker.conf",
            "template": "files/roles/worker/etc/worker/worker.conf.j2", "change": "mode",
            "members": null, "from": "0644", "to": "0600", "lines": null
        }])
    );
}

#[test]
fn every_input_of_the_hash_is_named_and_nothing_is_left_unexplained() {
    let repo = committed();
    // The app's version is a pod label of every role; the worker's port is in its pod
    // template. The configMeta, the endpoint the port changes, and the node ids that moving the
    // worker first in the app renumbers are in configmeta.json only: they change in place. An
    // eventList change means nothing for a role without a setup package.
    edit(
        repo.path(),
        "app.yaml",
        "version: \"1.0\"",
        "version: \"1.1\"",
    );
    edit(repo.path(), "app.yaml", "tuning: standard", "tuning: fast");
    edit(repo.path(), "app.yaml", "port: 8080", "port: 8081");
    edit(
        repo.path(),
        "app.yaml",
        "  - id: coordinator\n    cardinality: \"3\"\n  - id: worker\n    cardinality: \"1+\"\n    eventList: [configure]\n",
        "  - id: worker\n    cardinality: \"1+\"\n    eventList: [configure, addnodes]\n  - id: coordinator\n    cardinality: \"3\"\n",
    );
    let plan = plan(repo.path());
    assert_eq!(restarted(&plan), ["demo-coordinator", "demo-worker"]);
    let kinds = |reasons: &Value| -> Vec<String> {
        reasons
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let detail = r["field"]
                    .as_str()
                    .or(r["role"].as_str())
                    .unwrap_or_default();
                format!("{} {detail}", r["kind"].as_str().unwrap())
            })
            .collect()
    };
    let version = "setting metadata.labels.app.kubernetes.io/version";
    assert_eq!(kinds(reasons(&plan, "demo-coordinator")), [version]);
    assert_eq!(
        kinds(reasons(&plan, "demo-worker")),
        ["setting containers[app].ports[web].containerPort", version]
    );
    // Both roles restart, so neither keeps the old configmeta.json: the refresh names no role,
    // only what changes.
    let refresh = &plan["rollout"]["refreshes"][0];
    assert_eq!(
        (&refresh["refreshed"], &refresh["stale"]),
        (&json!([]), &json!([]))
    );
    let changes = &refresh["changes"];
    assert_eq!(
        kinds(changes),
        [
            "app configMeta.tuning",
            "app version",
            "node-ids coordinator",
            "node-ids worker",
            "endpoint worker",
        ]
    );
    assert_eq!(
        changes[4],
        json!({"kind": "endpoint", "cluster": "demo", "role": "worker", "service": "web", "from": "http, port 8080", "to": "http, port 8081"})
    );
    assert_eq!(
        changes[2],
        json!({"kind": "node-ids", "cluster": "demo", "role": "coordinator", "from": ["1", "2", "3"], "to": ["3", "4", "5"]})
    );
    assert!(text(repo.path()).contains(
        "  refresh  default/demo-configmeta (cluster demo): configmeta.json changes; the members that restart start with the new one\n"
    ));
}

#[test]
fn a_storage_change_warns_that_kubernetes_refuses_it() {
    let repo = committed();
    edit(repo.path(), "cluster.yaml", "size: 5Gi", "size: 10Gi");
    let plan = plan(repo.path());
    assert_eq!(restarted(&plan), ["demo-coordinator"]);
    assert_eq!(
        reasons(&plan, "demo-coordinator"),
        &json!([{"kind": "setting", "setting": "storage", "field": "volumeClaimTemplates[p].spec.resources.requests.storage", "from": "5Gi", "to": "10Gi", "lines": null}])
    );
    assert_eq!(warnings(&plan), ["demo-coordinator immutable-field"]);
    let warning = &plan["warnings"][0];
    assert_eq!(warning["field"], "spec.volumeClaimTemplates");
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("kubectl delete statefulset demo-coordinator -n default --cascade=orphan"),
        "{warning}"
    );
    assert!(text(repo.path()).contains("\nWarnings\n  ! default/StatefulSet demo-coordinator: spec.volumeClaimTemplates changes, which Kubernetes refuses for a StatefulSet"));
}

#[test]
fn scaling_down_a_role_with_storage_warns_of_data_loss() {
    let repo = committed();
    edit(
        repo.path(),
        "cluster.yaml",
        "        memory: 2Gi\n",
        "        memory: 2Gi\n    storage:\n      size: 1Gi\n",
    );
    commit_all(repo.path(), "storage for workers");
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    let up = plan(repo.path());
    assert!(warnings(&up).is_empty(), "{up:#}");
    commit_all(repo.path(), "three workers");
    edit(repo.path(), "cluster.yaml", "members: 3", "members: 1");
    let down = plan(repo.path());
    assert_eq!(
        warnings(&down),
        ["demo-worker scale-down-deletes-volumes"],
        "{down:#}"
    );
    let message = down["warnings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("the volumes of p-demo-worker-1, p-demo-worker-2 are deleted"),
        "{message}"
    );
    // The members' Services go, and the disruption budget of a role left with one member.
    let pruned = kinds_and_names(&down["rollout"]["prunes"]);
    assert_eq!(
        pruned,
        [
            "PodDisruptionBudget demo-worker",
            "Service demo-worker-1",
            "Service demo-worker-2"
        ]
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
    let pruned = kinds_and_names(&plan["rollout"]["prunes"]);
    assert_eq!(
        pruned,
        [
            "ConfigMap demo-configmeta",
            "ConfigMap demo-coordinator-files",
            "ConfigMap demo-worker-files",
            "PodDisruptionBudget demo-coordinator",
            "PodDisruptionBudget demo-worker",
            "Service demo",
            "Service demo-coordinator-0",
            "Service demo-coordinator-1",
            "Service demo-coordinator-2",
            "Service demo-worker-0",
            "Service demo-worker-1",
            "StatefulSet demo-coordinator",
            "StatefulSet demo-worker",
        ]
    );
    assert!(prunes.iter().all(|p| p["cluster"] == "demo"));
    // Only the coordinator has volumes; the cluster as a whole is named once.
    assert_eq!(
        warnings(&plan),
        [
            "demo cluster-removed",
            "demo-coordinator statefulset-removed"
        ]
    );
    assert!(
        plan["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("cluster demo is removed: its 13 objects will be pruned")
    );
    assert_eq!(
        names(&plan["rollout"]["creates"]),
        ["other-coordinator", "other-worker"]
    );
    assert!(restarted(&plan).is_empty());
    let text = text(repo.path());
    assert!(
        text.contains("  prune    default/StatefulSet demo-coordinator\n"),
        "{text}"
    );
    assert!(text.contains("  create   default/other-worker (cluster other)\n"));
}

#[test]
fn a_catalog_outside_path_is_read_at_both_revisions() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    write(root, "catalog/twotier/app.yaml", TWO_ROLE_APP);
    write_two_role_templates(root, "catalog/twotier/files");
    write(root, "envs/prod/cluster.yaml", TWO_ROLE_CLUSTER);
    write(
        root,
        "envs/prod/kdrender.yaml",
        "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  namespace: prod\n  catalog: [../../catalog]\n",
    );
    git(root, &["init", "-q"]);
    commit_all(root, "base");
    edit(
        root,
        "catalog/twotier/app.yaml",
        "tuning: standard",
        "tuning: fast",
    );
    // Run from inside the environment folder: PATH is relative to the repository root there.
    let stdout = run(&["diff", "--format", "json"], &root.join("envs/prod")).ok();
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["path"], "envs/prod");
    // No template reads the configMeta: it reaches configmeta.json, read at both revisions.
    assert!(restarted(&plan).is_empty(), "{plan:#}");
    assert_eq!(
        plan["rollout"]["refreshes"][0]["changes"],
        json!([{"kind": "app", "field": "configMeta.tuning", "from": "standard", "to": "fast", "lines": null}])
    );
    assert!(plan["objects"]["added"].as_array().unwrap().is_empty());
}

#[test]
fn the_json_format_is_versioned_sorted_and_stable() {
    let repo = committed();
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    edit(
        repo.path(),
        "files/roles/worker/etc/worker/worker.conf.j2",
        "threads=4",
        "threads=8",
    );
    let stdout = run(&["diff", "--format", "json", "."], repo.path()).ok();
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    // Keys sorted at every level, two-space indentation, a final newline: reserialising the
    // parsed (ordered) value gives the same bytes.
    assert_eq!(
        format!("{}\n", serde_json::to_string_pretty(&plan).unwrap()),
        stdout
    );
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&plan),
        [
            "base", "changed", "groups", "objects", "path", "rollout", "summary", "version",
            "warnings"
        ]
    );
    assert_eq!(plan["version"], 2);
    assert_eq!(plan["path"], ".");
    assert_eq!(plan["base"]["revision"], "HEAD");
    let head = git(repo.path(), &["rev-parse", "HEAD"]);
    assert_eq!(plan["base"]["commit"], head.trim());
    assert_eq!(
        keys(&plan["rollout"]).join(" "),
        "adopts creates notifies prunes refreshes restarts scales"
    );
    assert_eq!(keys(&plan["objects"]), ["added", "changed", "removed"]);
    assert_eq!(
        keys(&plan["rollout"]["restarts"][0]),
        ["cluster", "kind", "name", "namespace", "reasons", "role"]
    );
    assert_eq!(
        keys(&plan["objects"]["changed"][0]),
        ["cluster", "diff", "kind", "name", "namespace"]
    );
    assert_eq!(
        plan["objects"]["added"],
        json!([{"namespace": "default", "cluster": "demo", "kind": "Service", "name": "demo-worker-2"}])
    );
    // Plan order: namespace, cluster, kind, name.
    let changed = kinds_and_names(&plan["objects"]["changed"]);
    assert_eq!(
        changed,
        [
            "ConfigMap demo-configmeta",
            "ConfigMap demo-worker-files",
            "StatefulSet demo-worker",
        ]
    );
    assert!(
        plan["objects"]["changed"][1]["diff"]
            .as_str()
            .unwrap()
            .contains("-    threads=4\n+    threads=8\n")
    );
    // The same bytes again, and nothing of the machine in them.
    let again = run(&["diff", "--format", "json", "."], repo.path()).ok();
    assert_eq!(again, stdout);
    let text = text(repo.path());
    for output in [&stdout, &text] {
        assert!(!output.contains("kdrender-diff-"), "{output}");
        assert!(
            !output.contains(&*repo.path().to_string_lossy()),
            "{output}"
        );
        assert!(
            !output.contains(&*std::env::temp_dir().to_string_lossy()),
            "{output}"
        );
    }
}

#[test]
fn exit_codes_tell_whether_anything_changes() {
    let repo = committed();
    let unchanged = run(&["diff", "--exit-code", "."], repo.path());
    assert_eq!(unchanged.code, 0, "{}", unchanged.stderr);
    assert!(unchanged.stdout.contains("No changes"));
    let unchanged = run(
        &["diff", "--exit-code", "--format", "json", "."],
        repo.path(),
    );
    assert_eq!(unchanged.code, 0);
    assert!(unchanged.stdout.contains("\"changed\": false"));

    // Reformatting an input changes no object: still nothing to do.
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 0002");
    assert_eq!(run(&["diff", "--exit-code", "."], repo.path()).code, 0);

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
    // Without --exit-code, a change is a success.
    assert_eq!(run(&["diff", "."], repo.path()).code, 0);

    // A working tree that does not render is invalid input, --exit-code or not.
    edit(
        repo.path(),
        "cluster.yaml",
        "app: twotier",
        "app: nosuchapp",
    );
    let stderr = run(&["diff", "--exit-code", "."], repo.path()).invalid();
    assert!(stderr.contains("cluster.yaml"), "{stderr}");

    let usage = run(&["diff", "--format", "yaml", "."], repo.path());
    assert_eq!(usage.code, 2);
}

#[test]
fn a_missing_revision_is_a_clear_error() {
    let repo = committed();
    for revision in ["no-such-branch", "0123456789abcdef", "--output=x"] {
        let stderr = run(&["diff", &format!("--base={revision}"), "."], repo.path()).invalid();
        assert_eq!(
            stderr.lines().next().unwrap(),
            format!(
                "error: the base revision \"{revision}\" does not exist in this repository (a branch, tag or commit is needed; in CI, fetch it first)"
            )
        );
    }
    assert!(!repo.path().join("x").exists());
    // A base that does not render is named too.
    edit(
        repo.path(),
        "cluster.yaml",
        "app: twotier",
        "app: nosuchapp",
    );
    commit_all(repo.path(), "broken");
    edit(
        repo.path(),
        "cluster.yaml",
        "app: nosuchapp",
        "app: twotier",
    );
    let stderr = run(&["diff", "."], repo.path()).invalid();
    assert!(stderr.contains("the base revision \"HEAD\" ("), "{stderr}");
    assert!(stderr.contains("does not render"), "{stderr}");
    assert_eq!(run(&["diff", "--base", "HEAD~1", "."], repo.path()).code, 0);
    // When neither renders, the working tree's problems are the ones reported.
    edit(repo.path(), "cluster.yaml", "app: twotier", "app: otherapp");
    let stderr = run(&["diff", "."], repo.path()).invalid();
    assert!(stderr.contains("otherapp"), "{stderr}");
    assert!(!stderr.contains("nosuchapp"), "{stderr}");
    assert!(!stderr.contains("base revision"), "{stderr}");
}

#[test]
fn a_new_repository_compares_with_nothing() {
    let fresh = two_role_repo();
    git(fresh.path(), &["init", "-q"]);
    let plan = plan(fresh.path());
    assert!(plan["base"]["commit"].is_null());
    assert!(plan["objects"]["removed"].as_array().unwrap().is_empty());
    assert!(plan["objects"]["changed"].as_array().unwrap().is_empty());
    assert_eq!(plan["objects"]["added"].as_array().unwrap().len(), 13);
    assert_eq!(
        names(&plan["rollout"]["creates"]),
        ["demo-coordinator", "demo-worker"]
    );
    assert!(
        text(fresh.path()).starts_with("kdrender diff: HEAD (no commits yet) → working tree, .\n")
    );
    // In a new repository only HEAD is known to be empty; another revision does not exist.
    run(&["diff", "--base", "main", "."], fresh.path()).invalid();
}

#[test]
fn the_path_may_be_new_at_the_base_revision() {
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "README.md", "docs\n");
    git(repo.path(), &["init", "-q"]);
    commit_all(repo.path(), "docs only");
    copy_tree(two_role_repo().path(), &repo.path().join("envs/prod"));
    let stdout = run(&["diff", "--format", "json", "envs/prod"], repo.path()).ok();
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["path"], "envs/prod");
    assert_eq!(plan["objects"]["added"].as_array().unwrap().len(), 13);
    assert!(plan["objects"]["removed"].as_array().unwrap().is_empty());
}

#[test]
fn the_base_is_what_was_committed_whatever_the_export_attributes_say() {
    let repo = committed();
    // `git archive` would leave the cluster out of the base and rewrite the app.
    write(
        repo.path(),
        ".gitattributes",
        "cluster.yaml export-ignore\napp.yaml export-subst\n",
    );
    edit(
        repo.path(),
        "app.yaml",
        "name: Two tiers",
        "name: Two tiers $Format:%H$",
    );
    commit_all(repo.path(), "attributes");
    let run = run(&["diff", "--exit-code", "."], repo.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// The plan of PATH `.` as JSON, with `TMPDIR` set to `temporary`.
fn plan_with_tmpdir(repo: &Path, temporary: &Path) -> Run {
    run_with(
        kdrender()
            .args(["diff", "--format", "json", "."])
            .current_dir(repo)
            .env("TMPDIR", temporary),
    )
}

#[test]
fn the_base_is_read_from_git_into_memory_unless_it_holds_links() {
    let repo = committed();
    write(repo.path(), "docs/notes.txt", "not an input\n");
    commit_all(repo.path(), "notes");
    edit(
        repo.path(),
        "files/roles/worker/etc/worker/worker.conf.j2",
        "threads=4",
        "threads=8",
    );
    let nowhere = repo.path().join("no-such-tmpdir");
    let temporary = tempfile::tempdir().unwrap();

    // No link in the base: nothing is written for it, so a TMPDIR that does not exist does not
    // matter, and the plan is the one of a base written to disk (below).
    let from_memory = plan_with_tmpdir(repo.path(), &nowhere).ok();
    let plan: Value = serde_json::from_str(&from_memory).unwrap();
    assert_eq!(restarted(&plan), ["demo-worker"]);

    // A committed link (to a file that is no input) makes the base a checkout on disk, where
    // links are resolved: without a TMPDIR the diff cannot be made, with one the plan is the same.
    std::os::unix::fs::symlink("notes.txt", repo.path().join("docs/link.txt")).unwrap();
    git(repo.path(), &["add", "docs/link.txt"]);
    git(repo.path(), &["commit", "-q", "-m", "link"]);
    let refused = plan_with_tmpdir(repo.path(), &nowhere);
    assert_eq!(refused.code, 74, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("cannot create a temporary folder for the base revision"),
        "{}",
        refused.stderr
    );
    let from_disk = plan_with_tmpdir(repo.path(), temporary.path()).ok();
    let without_commit = |plan: &str| {
        let mut plan: Value = serde_json::from_str(plan).unwrap();
        plan["base"]["commit"] = Value::Null;
        plan
    };
    assert_eq!(without_commit(&from_disk), without_commit(&from_memory));
    let left: Vec<_> = std::fs::read_dir(temporary.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "the temporary folder stays behind: {left:?}"
    );
}

#[test]
fn the_working_tree_and_the_index_are_untouched() {
    let repo = committed();
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    git(repo.path(), &["add", "cluster.yaml"]);
    edit(repo.path(), "app.yaml", "tuning: standard", "tuning: fast");
    write(repo.path(), "notes.txt", "untracked\n");
    // `git status` may refresh the index, so it runs before the index is read, and after the
    // index is read again.
    let status = git(repo.path(), &["status", "--porcelain"]);
    assert_eq!(status, " M app.yaml\nM  cluster.yaml\n?? notes.txt\n");
    let index = std::fs::read(repo.path().join(".git/index")).unwrap();
    let files = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut tree = read_tree(dir);
        tree.retain(|(path, _)| !path.starts_with(".git/"));
        tree
    };
    let tree = files(repo.path());

    run(&["diff", "."], repo.path()).ok();
    run(
        &["diff", "--base", "HEAD", "--format", "json", "."],
        repo.path(),
    )
    .ok();

    assert_eq!(
        std::fs::read(repo.path().join(".git/index")).unwrap(),
        index
    );
    assert_eq!(files(repo.path()), tree);
    assert_eq!(git(repo.path(), &["status", "--porcelain"]), status);
}

#[test]
fn git_is_needed_by_diff_only_and_a_path_outside_a_repository_is_named() {
    let repo = committed();
    let empty = tempfile::tempdir().unwrap();
    let without_git = |args: &[&str]| {
        run_with(
            kdrender()
                .args(args)
                .current_dir(repo.path())
                .env("PATH", empty.path()),
        )
    };
    let stderr = without_git(&["diff", "."]).invalid();
    assert_eq!(
        stderr,
        "error: kdrender diff needs the git command, which is not installed or not on PATH (render and validate do not need it)\n"
    );
    assert!(
        without_git(&["render", "."])
            .ok()
            .contains("kind: StatefulSet")
    );
    assert_eq!(without_git(&["validate", "."]).code, 0);

    let outside = two_role_repo();
    run(&["diff", "."], outside.path())
        .refused("error: . is not inside a Git working tree, which kdrender diff needs");
}

#[test]
fn the_text_plan_is_plain_when_not_on_a_terminal_and_coloured_when_asked() {
    let repo = committed();
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    edit(
        repo.path(),
        "cluster.yaml",
        "cpu: \"2\"\n        memory: 2Gi",
        "cpu: \"3\"\n        memory: 2Gi",
    );
    let plain = run(&["diff", "."], repo.path()).ok();
    assert!(!plain.contains('\u{1b}'));
    assert!(plain.starts_with("kdrender diff: HEAD ("), "{plain}");
    let coloured = run(&["diff", "--color", "always", "."], repo.path()).ok();
    assert!(coloured.contains("\u{1b}[33mrestart\u{1b}[0m"));
    assert!(
        coloured.contains("\u{1b}[35mrefresh\u{1b}[0m"),
        "{coloured}"
    );
    assert!(
        coloured.contains("\u{1b}[32m+  replicas: 3\u{1b}[0m"),
        "{coloured}"
    );
    let no_color = run_with(
        kdrender()
            .args(["diff", "--color", "never", "."])
            .current_dir(repo.path()),
    );
    assert_eq!(no_color.stdout, plain);
}

/// One edit at a time of an example committed in `repo`, as (file, text to find, replacement):
/// settings of its clusters and apps, and every template.
fn one_line_edits(repo: &Path) -> Vec<(String, String, String)> {
    let files = walk(repo).into_iter().filter_map(|path| {
        let file = path.strip_prefix(repo).unwrap().to_string_lossy();
        (!file.starts_with(".git/")).then(|| file.into_owned())
    });
    let mut edits: Vec<(String, String, String)> = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(repo.join(&file)).unwrap();
        if file.ends_with(".j2") {
            edits.push((file.clone(), String::new(), "{# #}\nedited\n".into()));
            continue;
        }
        for (find, replace) in [
            ("members: 2", "members: 3"),
            ("members: 3", "members: 4"),
            ("members: 4", "members: 2"),
            ("members: 1\n", "members: 2\n"),
            ("size: 100Gi", "size: 150Gi"),
            ("cpu: \"2\"", "cpu: \"3\""),
            ("size: 50Gi", "size: 60Gi"),
            ("size: 20Gi", "size: 30Gi"),
            ("version: \"", "version: \"1"),
            (
                "imageRepoTag: docker.io/",
                "imageRepoTag: mirror.example.com/",
            ),
            ("persistDirs: [", "persistDirs: [/extra, "),
            ("configMeta:\n", "configMeta:\n      added: \"yes\"\n"),
            ("periodSeconds: 5", "periodSeconds: 7"),
        ] {
            if text.contains(find) {
                edits.push((file.clone(), find.into(), replace.into()));
            }
        }
    }
    edits
}

/// Every restart the examples (and the KubeDirector-format fixtures, whose roles take
/// membership events) can see, one edit at a time, has a reason the plan names: the reasons
/// cover every input of the rollout hash. So has every change of configmeta.json that running
/// members get in place.
#[test]
fn no_restart_of_the_examples_goes_unexplained() {
    let mut restarts = 0;
    let mut kinds = std::collections::BTreeSet::new();
    let mut in_place = std::collections::BTreeSet::new();
    for example in examples()
        .into_iter()
        .chain([project_root().join("tests/fixtures/compat")])
    {
        let repo = tempfile::tempdir().unwrap();
        copy_tree(&example, repo.path());
        let example = file_name(&example);
        git(repo.path(), &["init", "-q"]);
        commit_all(repo.path(), "example");
        for (file, find, replace) in &one_line_edits(repo.path()) {
            git(repo.path(), &["checkout", "-q", "--", "."]);
            edit(repo.path(), file, find, replace); // an empty `find` adds to the top
            let result = run(&["diff", "--format", "json", "."], repo.path());
            if result.code == 1 {
                continue; // the edit breaks a rule of the app (an exact cardinality, a minimum)
            }
            let plan: Value = serde_json::from_str(&result.ok()).unwrap();
            for refresh in plan["rollout"]["refreshes"].as_array().unwrap() {
                let changes = refresh["changes"].as_array().unwrap();
                assert!(
                    !changes.is_empty(),
                    "{example} {file} {find:?}: {refresh:#}"
                );
                for change in changes {
                    assert_ne!(
                        change["kind"], "other",
                        "{example} {file} {find:?}: {refresh:#}"
                    );
                    in_place.insert(change["kind"].as_str().unwrap().to_string());
                }
            }
            for restart in plan["rollout"]["restarts"].as_array().unwrap() {
                restarts += 1;
                let reasons = restart["reasons"].as_array().unwrap();
                assert!(
                    !reasons.is_empty(),
                    "{example} {file} {find:?}: {restart:#}"
                );
                for reason in reasons {
                    assert_ne!(
                        reason["kind"], "other",
                        "{example} {file} {find:?}: {restart:#}"
                    );
                    kinds.insert(reason["kind"].as_str().unwrap().to_string());
                }
            }
        }
    }
    assert!(restarts > 40, "only {restarts} restarts were seen");
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["file", "setting"]);
    assert_eq!(
        in_place.into_iter().collect::<Vec<_>>(),
        ["app", "flavor", "membership", "node-ids"]
    );
}

/// What a hostile change puts into a repository to hide or fake lines of its own plan on a
/// reviewer's terminal: escape sequences that move up and erase a line, a carriage return, a
/// right-to-left override, an isolate, the Arabic letter mark, zero-width characters, DEL, a C1
/// control sequence introducer, and a newline where one line is expected.
const HIDING: [char; 12] = [
    '\u{1b}', '\r', '\u{202e}', '\u{2066}', '\u{61c}', '\u{200b}', '\u{200d}', '\u{feff}',
    '\u{7f}', '\u{9b}', '\u{85}', '\u{2028}',
];

/// `text` as YAML double-quoted escapes (`\U0000001b`).
fn yaml_escapes(text: &str) -> String {
    text.chars()
        .map(|c| format!("\\U{:08x}", u32::from(c)))
        .collect()
}

/// The characters of `HIDING` in `text`, after taking out the report's own colours.
fn raw_hiding_characters(text: &str) -> Vec<char> {
    let mut text = text.to_string();
    for colour in ["0", "1", "31", "32", "33", "35", "36", "31;1"] {
        text = text.replace(&format!("\u{1b}[{colour}m"), "");
    }
    text.chars().filter(|c| HIDING.contains(c)).collect()
}

#[test]
fn control_and_bidi_characters_from_the_repository_are_shown_escaped() {
    // The repository under a folder whose name hides text too (PATH is in the header).
    let folder = "team\u{202e}\u{200b}x\u{1b}[2K";
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path().join(folder);
    write(&root, "app.yaml", TWO_ROLE_APP);
    write(&root, "cluster.yaml", TWO_ROLE_CLUSTER);
    write_two_role_templates(&root, "files");
    git(repo.path(), &["init", "-q"]);
    commit_all(repo.path(), "base");
    let hiding: String = HIDING.iter().collect();
    // A config file line and a configMeta value (which a restart reason quotes) gain them.
    edit(
        &root,
        "files/roles/worker/etc/worker/worker.conf.j2",
        "threads=4",
        &format!("threads=8\u{1b}[1A\u{1b}[2K\rthreads=4{hiding}"),
    );
    edit(
        &root,
        "app.yaml",
        "tuning: standard",
        &format!("tuning: \"fast\\e[8m{}\"", yaml_escapes(&hiding)),
    );

    for colour in ["never", "always"] {
        let stdout = run(&["diff", "--color", colour, folder], repo.path()).ok();
        assert_eq!(
            raw_hiding_characters(&stdout),
            [],
            "--color {colour}:\n{stdout}"
        );
        // Escaped where the plan quotes them: the header's PATH, the changed lines of the
        // config file (a carriage return ends one), the configMeta value, and the unified diff
        // of the ConfigMap (where YAML's own escapes stand for some).
        for shown in [
            r"working tree, team\u{202e}\u{200b}x\u{1b}[2K",
            r"lines -threads=4 | +threads=8\u{1b}[1A\u{1b}[2K | +threads=4\u{1b} | +\u{202e}\u{2066}\u{61c}\u{200b}\u{200d}\u{feff}\u{7f}\u{9b}\u{85}\u{2028}",
            r"configMeta.tuning: standard → fast\u{1b}[8m\u{1b}\u{d}\u{202e}\u{2066}\u{61c}\u{200b}\u{200d}\u{feff}\u{7f}\u{9b}\u{85}\u{2028}",
        ] {
            assert!(
                stdout.contains(shown),
                "--color {colour}: no {shown}:\n{stdout}"
            );
        }
        let body = stdout
            .lines()
            .find(|l| l.contains("+  etc_worker_worker.conf: "))
            .expect("the ConfigMap's changed line");
        assert!(
            body.contains(r"\u{202e}\u{2066}\u{61c}\u{200b}\u{200d}"),
            "{body}"
        );
    }

    // Diagnostics quote the repository too: a file name that hides text, in an error.
    write(
        &root,
        "files/roles/worker/etc/worker/a\u{202e}b.conf.j2",
        "x=1\n",
    );
    let stderr = run(&["diff", folder], repo.path()).invalid();
    assert_eq!(raw_hiding_characters(&stderr), [], "{stderr}");
    assert!(stderr.contains(r"a\u{202e}b.conf.j2"), "{stderr}");
}

#[test]
fn scaling_a_role_with_storage_to_zero_deletes_its_volumes_and_restarts_nothing() {
    let repo = committed();
    optional_workers_with_storage(repo.path());
    commit_all(repo.path(), "optional workers with storage");
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 0");
    let down = plan(repo.path());
    // The StatefulSet stays, with no replicas: Kubernetes deletes the removed members' volumes.
    assert_eq!(
        down["rollout"]["scales"],
        json!([{"namespace": "default", "cluster": "demo", "kind": "StatefulSet", "name": "demo-worker", "from": 2, "to": 0}]),
        "{down:#}"
    );
    assert!(
        !kinds_and_names(&down["rollout"]["prunes"])
            .contains(&"StatefulSet demo-worker".to_string())
    );
    assert_eq!(
        warnings(&down),
        ["demo-worker scale-down-deletes-volumes"],
        "{down:#}"
    );
    let message = down["warnings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("the volumes of p-demo-worker-0, p-demo-worker-1 are deleted"),
        "{message}"
    );
    assert!(
        !restarted(&down).contains(&"demo-worker".to_string()),
        "{down:#}"
    );

    // Back from zero: new members with new volumes, nobody of the role to restart.
    commit_all(repo.path(), "no workers");
    edit(repo.path(), "cluster.yaml", "members: 0", "members: 1");
    let up = plan(repo.path());
    assert_eq!(up["rollout"]["scales"][0]["to"], 1, "{up:#}");
    assert!(
        !restarted(&up).contains(&"demo-worker".to_string()),
        "{up:#}"
    );
    assert!(warnings(&up).is_empty(), "{up:#}");
}
