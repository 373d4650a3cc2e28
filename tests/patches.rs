//! The settings' patches (`spec.patches`): applied to the objects they target before the rollout
//! hash, so a pod-template patch rolls exactly its StatefulSets and nothing else changes; a patch
//! that matches nothing or breaks Kubernetes' schema is an error naming the patch.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

const SETTINGS: &str =
    "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  patches:\n";

/// The two-role repository with these patches (YAML list items, indented by two spaces).
fn repo_with_patches(patches: &str) -> tempfile::TempDir {
    let repo = two_role_repo();
    write(
        repo.path(),
        "kdrender.yaml",
        &format!("{SETTINGS}{patches}"),
    );
    repo
}

const TOLERATION: &str = r#"  - target: {kind: StatefulSet, name: demo-worker}
    patch:
      spec:
        template:
          spec:
            tolerations:
            - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}
"#;

#[test]
fn a_pod_template_patch_rolls_only_its_target() {
    let plain = documents(&render(two_role_repo().path()));
    let patched_stream = render(repo_with_patches(TOLERATION).path());
    let patched = documents(&patched_stream);
    assert_eq!(plain.len(), patched.len());
    let mut changed = Vec::new();
    for (before, after) in sorted(plain).iter().zip(sorted(patched.clone())) {
        assert_eq!(before["metadata"]["name"], after["metadata"]["name"]);
        if *before != after {
            changed.push(format!("{} {}", after["kind"], after["metadata"]["name"]));
        }
    }
    assert_eq!(changed, ["\"StatefulSet\" \"demo-worker\""]);
    let worker = object(&patched, "StatefulSet", "demo-worker");
    assert_eq!(
        worker["spec"]["template"]["spec"]["tolerations"][0]["value"],
        "gpu"
    );
    let before = rollout_hashes(&render(two_role_repo().path()));
    let after = rollout_hashes(&patched_stream);
    assert_ne!(before["demo-worker"], after["demo-worker"]);
    assert_eq!(before["demo-coordinator"], after["demo-coordinator"]);
}

#[test]
fn operations_on_objects_chosen_by_labels_change_those_objects_only() {
    let repo = repo_with_patches(
        r#"  - target: {kind: Service, labelSelector: "kubedirector.hpe.com/role=coordinator"}
    ops:
    - {op: add, path: /metadata/annotations/example.com~1internal, value: "true"}
"#,
    );
    let stream = render(repo.path());
    let docs = documents(&stream);
    let annotated: Vec<String> = docs
        .iter()
        .filter(|d| !d["metadata"]["annotations"]["example.com/internal"].is_null())
        .map(|d| {
            format!(
                "{}/{}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        annotated,
        [
            "Service/demo-coordinator-0",
            "Service/demo-coordinator-1",
            "Service/demo-coordinator-2"
        ]
    );
    // Services are no pod input: no role rolls.
    assert_eq!(
        rollout_hashes(&stream),
        rollout_hashes(&render(two_role_repo().path()))
    );
}

#[test]
fn a_patch_that_matches_nothing_is_an_error_naming_it() {
    let repo = repo_with_patches(&TOLERATION.replace("demo-worker", "demo-workers"));
    for command in ["render", "validate"] {
        let stderr = run(&[command, "."], repo.path())
            .refused("error: kdrender.yaml:5:5: this patch matches no rendered object");
        assert!(
            stderr.contains("- target: {kind: StatefulSet, name: demo-workers}"),
            "{stderr}"
        );
    }
}

#[test]
fn a_patch_that_breaks_the_kubernetes_schema_is_an_error_naming_it() {
    let repo = repo_with_patches(&TOLERATION.replace("effect:", "efect:"));
    let stderr = run(&["render", "."], repo.path()).refused(
        "error: kdrender.yaml:5:5: this patch leaves StatefulSet default/demo-worker invalid for \
         Kubernetes: unknown field `efect` in spec.template.spec.tolerations[0] (did you mean \"effect\"?)",
    );
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    let wrong_type = TOLERATION.replace(
        "spec:\n            tolerations:",
        "spec:\n            priority: high\n            tolerations:",
    );
    let repo = repo_with_patches(&wrong_type);
    let stderr = run(&["render", "."], repo.path()).refused(
        "error: kdrender.yaml:5:5: this patch leaves StatefulSet default/demo-worker invalid for Kubernetes: spec.template.spec.priority:",
    );
    assert!(stderr.contains("\"high\""), "{stderr}");
}

#[test]
fn a_patch_may_not_rename_an_object_or_change_config_files() {
    let rename = "  - target: {kind: StatefulSet, name: demo-worker}\n    patch: {metadata: {name: other}}\n";
    run(&["render", "."], repo_with_patches(rename).path()).refused(
        "error: kdrender.yaml:5:5: this patch changes the apiVersion, kind, name or namespace of StatefulSet default/demo-worker",
    );
    let data =
        "  - target: {kind: ConfigMap, name: demo-worker-files}\n    patch: {data: {extra: x}}\n";
    let stderr = run(&["render", "."], repo_with_patches(data).path()).refused(
        "error: kdrender.yaml:5:5: this patch changes the data of ConfigMap default/demo-worker-files",
    );
    assert!(stderr.contains("rollout hash"), "{stderr}");
    // Its metadata is the patch's to change.
    let labels = "  - target: {kind: ConfigMap, name: demo-worker-files}\n    patch: {metadata: {labels: {backup: nightly}}}\n";
    let docs = documents(&render(repo_with_patches(labels).path()));
    assert_eq!(
        object(&docs, "ConfigMap", "demo-worker-files")["metadata"]["labels"]["backup"],
        "nightly"
    );
}

#[test]
fn unreadable_patches_are_reported_where_they_are_written() {
    let selector = "  - target: {labelSelector: \"tier in (a,b)\"}\n    patch: {}\n";
    run(&["validate", "."], repo_with_patches(selector).path())
        .refused("error: kdrender.yaml:5:29: this label selector cannot be read: \"tier in (a,b)\": set-based requirements");
    let ops = "  - target: {kind: Service}\n    ops:\n    - {op: add, path: /metadata/labels/x}\n";
    run(&["validate", "."], repo_with_patches(ops).path())
        .refused("error: kdrender.yaml:7:7: these JSON Patch operations cannot be read");
    let both = "  - target: {kind: Service}\n    patch: {}\n    ops: []\n";
    run(&["validate", "."], repo_with_patches(both).path()).refused("error: kdrender.yaml:5:5: ");
    let kind = "  - target: {kind: Deployment}\n    patch: {}\n";
    run(&["validate", "."], repo_with_patches(kind).path()).refused(
        "error: kdrender.yaml:5:20: spec.patches[0].target.kind: \"Deployment\" is not one of",
    );
}

#[test]
fn patches_apply_in_order() {
    let repo = repo_with_patches(&format!(
        "{TOLERATION}  - target: {{kind: StatefulSet, name: demo-worker}}\n    ops:\n    - {{op: replace, path: /spec/template/spec/tolerations/0/value, value: tpu}}\n"
    ));
    let docs = documents(&render(repo.path()));
    let worker = object(&docs, "StatefulSet", "demo-worker");
    assert_eq!(
        worker["spec"]["template"]["spec"]["tolerations"][0]["value"],
        "tpu"
    );
}

#[test]
#[ignore = "needs KDRENDER_KUBERNETES_VALIDATE: kubernetes-validate (PyPI); run .ci/run"]
fn patched_objects_pass_the_kubernetes_schemas() {
    let repo = repo_with_patches(&format!(
        "{TOLERATION}  - target: {{kind: Service, labelSelector: \"kubedirector.hpe.com/role=coordinator\"}}\n    patch: {{metadata: {{annotations: {{example.com/lb: internal}}}}}}\n"
    ));
    assert_kubernetes_valid(&render(repo.path()));
}

#[test]
fn diff_explains_a_restart_by_the_patch_that_caused_it() {
    let repo = two_role_repo();
    git(repo.path(), &["init", "-q"]);
    commit_all(repo.path(), "base");
    write(
        repo.path(),
        "kdrender.yaml",
        &format!("{SETTINGS}{TOLERATION}"),
    );
    let stdout = run(&["diff", "--format", "json", "."], repo.path()).ok();
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let restarts = plan["rollout"]["restarts"].as_array().unwrap();
    assert_eq!(restarts.len(), 1, "{plan:#}");
    assert_eq!(restarts[0]["name"], "demo-worker");
    let reasons = restarts[0]["reasons"].as_array().unwrap();
    assert_eq!(
        reasons[0],
        serde_json::json!({"kind": "patch", "at": "kdrender.yaml:5:5", "change": "applied"})
    );
    assert_eq!(reasons[1]["field"], "tolerations", "{plan:#}");
    let text = run(&["diff", "--color", "never", "."], repo.path()).ok();
    assert!(
        text.contains("- patch kdrender.yaml:5:5 applied\n"),
        "{text}"
    );
    // Changing the patch: the old one is removed, the new one applied.
    commit_all(repo.path(), "patched");
    edit(repo.path(), "kdrender.yaml", "value: gpu", "value: tpu");
    let stdout = run(&["diff", "--format", "json", "."], repo.path()).ok();
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let reasons = &plan["rollout"]["restarts"][0]["reasons"];
    assert_eq!(reasons[0]["change"], "removed", "{plan:#}");
    assert_eq!(reasons[1]["change"], "applied", "{plan:#}");
}

#[test]
fn a_patch_for_a_cluster_the_argocd_clusters_parameter_leaves_out_is_no_error() {
    let repo = repo_with_patches(&TOLERATION.replace("demo-worker", "second-worker"));
    write(
        repo.path(),
        "second.yaml",
        &two_role_cluster_named("second"),
    );
    let generate = |parameters: &str| {
        run_with(
            kdrender()
                .args(["argocd", "generate", "."])
                .env("ARGOCD_APP_PARAMETERS", parameters)
                .current_dir(repo.path()),
        )
    };
    let only_demo = generate(r#"[{"name":"clusters","array":["demo"]}]"#);
    assert_eq!(only_demo.stderr, "");
    assert!(!only_demo.ok().contains("tolerations"));
    let both = generate("[]").ok();
    let docs = documents(&both);
    assert!(
        !object(&docs, "StatefulSet", "second-worker")["spec"]["template"]["spec"]["tolerations"]
            .is_null()
    );
    // Without the parameter, a patch whose cluster is gone is an error again.
    std::fs::remove_file(repo.path().join("second.yaml")).unwrap();
    generate("[]").refused("error: kdrender.yaml:5:5: this patch matches no rendered object");
}
