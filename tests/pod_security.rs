//! Pod security: rendered pods pass the checks a platform team's admission policy makes where
//! kdrender decides (checkov's Kubernetes checks, from PyPI), and the optional NetworkPolicies
//! let in exactly the cluster's own pods and the declared service ports.
//!
//! checkov is `$KDRENDER_CHECKOV`, which `.ci/run` sets after installing a pinned version into
//! `target/checkov`; the tests that need it are ignored by a plain `cargo test` and fail, rather
//! than pass, when run without it.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::json;

/// The checks kdrender's defaults must pass: no privilege escalation (20), no NET_RAW (28), a
/// security context for pods (29) and containers (30), a seccomp profile (31), capabilities
/// dropped (37).
const REQUIRED: [&str; 6] = [
    "CKV_K8S_20",
    "CKV_K8S_28",
    "CKV_K8S_29",
    "CKV_K8S_30",
    "CKV_K8S_31",
    "CKV_K8S_37",
];

/// Runs checkov's required checks over YAML files; the failed checks as
/// `(check id, resource, file)`. (Files, not their folder: checkov passes over folders whose
/// names begin with a dot, as temporary folders' do.)
fn failed_checks(files: &[PathBuf]) -> Vec<(String, String, String)> {
    let mut command = Command::new(checkov());
    command
        .args(["--framework", "kubernetes", "--quiet", "--compact"])
        .args(["--skip-download", "--output", "json", "--check"])
        .arg(REQUIRED.join(","));
    for file in files {
        command.arg("--file").arg(file);
    }
    let output = command.output().expect("checkov runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov's report is not JSON ({e}):\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let resources = report["summary"]["resource_count"].as_u64().unwrap_or(0);
    assert!(resources > 0, "checkov read no resources: {report}");
    report["results"]["failed_checks"]
        .as_array()
        .map(|failed| {
            failed
                .iter()
                .map(|f| {
                    let text = |key: &str| f[key].as_str().unwrap_or_default().to_string();
                    (text("check_id"), text("resource"), text("file_path"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
#[ignore = "needs KDRENDER_CHECKOV: checkov (PyPI); run .ci/run"]
fn checkov_really_reports_an_unhardened_pod() {
    let dir = tempfile::tempdir().unwrap();
    let pod = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: x\n  namespace: y\nspec:\n  serviceName: x\n  selector:\n    matchLabels: {a: b}\n  template:\n    metadata:\n      labels: {a: b}\n    spec:\n      containers:\n      - name: app\n        image: registry.example.com/app:1\n";
    let file = dir.path().join("pod.yaml");
    std::fs::write(&file, pod).unwrap();
    let mut failed: Vec<String> = failed_checks(&[file])
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    failed.sort();
    failed.dedup();
    assert_eq!(failed, REQUIRED);
}

#[test]
#[ignore = "needs KDRENDER_CHECKOV: checkov (PyPI); run .ci/run"]
fn every_example_passes_checkovs_pod_security_checks() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for example in examples() {
        let file = dir.path().join(format!("{}.yaml", file_name(&example)));
        std::fs::write(&file, render(&example)).unwrap();
        files.push(file);
    }
    let failed = failed_checks(&files);
    assert!(
        failed.is_empty(),
        "checkov finds pod security problems that kdrender's defaults should prevent:\n{}",
        failed
            .iter()
            .map(|(id, resource, file)| format!("  {id} {resource} ({file})"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The two-role repository with `extra` added to its app's spec.
fn two_role_app_with(extra: &str) -> tempfile::TempDir {
    let repo = two_role_repo();
    write(repo.path(), "app.yaml", &format!("{TWO_ROLE_APP}{extra}"));
    repo
}

#[test]
fn every_container_drops_all_capabilities_but_the_apps_declared_ones() {
    let repo = two_role_app_with("  capabilities: [NET_BIND_SERVICE, IPC_LOCK]\n");
    let docs = documents(&render(repo.path()));
    for name in ["demo-coordinator", "demo-worker"] {
        let pod = &object(&docs, "StatefulSet", name)["spec"]["template"]["spec"];
        assert_eq!(
            pod["containers"][0]["securityContext"],
            json!({
                "allowPrivilegeEscalation": false,
                "capabilities": {"add": ["NET_BIND_SERVICE", "IPC_LOCK"], "drop": ["ALL"]},
            }),
            "{name}"
        );
        let steps = pod["initContainers"].as_array().unwrap();
        for step in steps {
            let init = &step["securityContext"];
            assert_eq!(init["allowPrivilegeEscalation"], false, "{name}");
            assert_eq!(init["capabilities"]["drop"], json!(["ALL"]), "{name}");
            // The app's capabilities are the app container's, never an init step's.
            assert!(
                !init["capabilities"]["add"]
                    .as_array()
                    .is_some_and(|add| add.contains(&json!("IPC_LOCK"))),
                "{name}: {init}"
            );
        }
        // kdrender-dns runs as the app's user, with nothing added.
        let dns = steps.iter().find(|s| s["name"] == "kdrender-dns").unwrap();
        assert_eq!(
            dns["securityContext"],
            json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}),
            "{name}"
        );
        assert_eq!(
            pod["securityContext"]["seccompProfile"],
            json!({"type": "RuntimeDefault"}),
            "{name}"
        );
    }
}

#[test]
fn systemd_apps_keep_the_runtimes_capabilities_and_the_app_wins_on_seccomp() {
    let repo = two_role_repo();
    let app = two_role_app_with_roles(
        "      worker:\n        podSecurityContext: {seccompProfile: {type: Unconfined}}\n",
    );
    write(
        repo.path(),
        "app.yaml",
        &format!("{app}  systemdRequired: true\n  capabilities: [SYS_RESOURCE]\n"),
    );
    let docs = documents(&render(repo.path()));
    let worker = &object(&docs, "StatefulSet", "demo-worker")["spec"]["template"]["spec"];
    // systemd starts services as other users: no drop, no privilege escalation setting.
    assert_eq!(
        worker["containers"][0]["securityContext"],
        json!({"capabilities": {"add": ["SYS_RESOURCE"]}})
    );
    assert_eq!(
        worker["securityContext"],
        json!({"seccompProfile": {"type": "Unconfined"}})
    );
    // kdrender's own init step is hardened all the same.
    assert_eq!(
        worker["initContainers"][0]["securityContext"]["capabilities"]["drop"],
        json!(["ALL"])
    );
    let coordinator = &object(&docs, "StatefulSet", "demo-coordinator")["spec"]["template"]["spec"];
    assert_eq!(
        coordinator["securityContext"]["seccompProfile"],
        json!({"type": "RuntimeDefault"})
    );
}

#[test]
fn network_policies_are_off_by_default_and_let_in_the_cluster_and_the_declared_ports() {
    let repo = two_role_repo();
    let docs = documents(&render(repo.path()));
    assert!(!docs.iter().any(|d| d["kind"] == "NetworkPolicy"));

    write(
        repo.path(),
        "kdrender.yaml",
        "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  networkPolicy: true\n",
    );
    let docs = documents(&render(repo.path()));
    let policies: Vec<&str> = docs
        .iter()
        .filter(|d| d["kind"] == "NetworkPolicy")
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(policies, ["demo-coordinator", "demo-worker"]);
    let coordinator = object(&docs, "NetworkPolicy", "demo-coordinator");
    assert_eq!(
        coordinator["spec"],
        json!({
            "podSelector": {"matchLabels": {
                "kubedirector.hpe.com/kdcluster": "demo",
                "kubedirector.hpe.com/role": "coordinator",
            }},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [{"podSelector": {"matchLabels": {"kubedirector.hpe.com/kdcluster": "demo"}}}]},
                {"ports": [{"port": 2181, "protocol": "TCP"}]},
            ],
        })
    );
    let worker = object(&docs, "NetworkPolicy", "demo-worker");
    assert_eq!(
        worker["spec"]["ingress"][1],
        json!({"ports": [{"port": 8080, "protocol": "TCP"}]})
    );
    // The policies select exactly the pods of their role.
    let statefulset = object(&docs, "StatefulSet", "demo-worker");
    assert_eq!(
        worker["spec"]["podSelector"]["matchLabels"],
        statefulset["spec"]["selector"]["matchLabels"]
    );
}
