//! The Kubernetes structures inside apps and clusters (probes, security contexts, affinity) are
//! checked against the official Kubernetes definitions on load: a typo is reported at its line,
//! with a suggestion, before anything is rendered.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::process::Command;

use common::*;

#[test]
fn a_probe_typo_in_an_app_is_reported_at_its_line() {
    let repo = two_role_repo();
    let app = two_role_app_with_roles(
        "      worker:\n        livenessProbe:\n          tcpSockett:\n            port: 8080\n",
    );
    write(repo.path(), "app.yaml", &app);
    let line = app.lines().position(|l| l.contains("tcpSockett")).unwrap() + 1;
    for command in ["validate", "render"] {
        let stderr = run(&[command, "."], repo.path()).refused(&format!(
            "error: app.yaml:{line}:11: unknown field `tcpSockett` in spec.kdrender.roles.worker.livenessProbe"
        ));
        assert!(stderr.contains("did you mean \"tcpSocket\"?"), "{stderr}");
    }
}

#[test]
fn a_wrongly_typed_security_context_field_is_reported_at_its_value() {
    let repo = two_role_repo();
    let app = two_role_app_with_roles(
        "      worker:\n        podSecurityContext:\n          runAsUser: root\n",
    );
    write(repo.path(), "app.yaml", &app);
    let line = app.lines().position(|l| l.contains("runAsUser")).unwrap() + 1;
    let stderr = run(&["validate", "."], repo.path()).refused(&format!(
        "error: app.yaml:{line}:22: spec.kdrender.roles.worker.podSecurityContext.runAsUser"
    ));
    assert!(stderr.contains("\"root\""), "{stderr}");
}

#[test]
fn an_affinity_typo_in_a_cluster_is_reported_at_its_line() {
    let repo = two_role_repo();
    let cluster = TWO_ROLE_CLUSTER.replace(
        "    storage:\n",
        "    affinity:\n      podAntiAffinity:\n        requiredDuringSchedulingIgnoredDuringExecution:\n        - topologyKey: kubernetes.io/hostname\n          labelSelectr: {}\n    storage:\n",
    );
    write(repo.path(), "cluster.yaml", &cluster);
    let line = cluster
        .lines()
        .position(|l| l.contains("labelSelectr"))
        .unwrap()
        + 1;
    let stderr = run(&["validate", "."], repo.path()).refused(&format!(
        "error: cluster.yaml:{line}:11: unknown field `labelSelectr` in \
         spec.roles[0].affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
    ));
    assert!(
        stderr.contains("did you mean \"labelSelector\"?"),
        "{stderr}"
    );
}

#[test]
fn well_formed_kubernetes_structures_pass() {
    let repo = two_role_repo();
    let app = two_role_app_with_roles(concat!(
        "      worker:\n",
        "        livenessProbe: {tcpSocket: {port: 8080}, periodSeconds: 5}\n",
        "        readinessProbe: {httpGet: {path: /ready, port: web}}\n",
        "        podSecurityContext: {fsGroup: 1000, seccompProfile: {type: RuntimeDefault}}\n",
    ));
    write(repo.path(), "app.yaml", &app);
    let cluster = TWO_ROLE_CLUSTER.replace(
        "    storage:\n",
        "    affinity:\n      nodeAffinity:\n        requiredDuringSchedulingIgnoredDuringExecution:\n          nodeSelectorTerms:\n          - matchExpressions: [{key: disk, operator: In, values: [ssd]}]\n    storage:\n",
    );
    write(repo.path(), "cluster.yaml", &cluster);
    run(&["validate", "."], repo.path()).ok();
}

/// The committed definitions are what the generator writes from the pinned source.
#[test]
#[ignore = "needs KDRENDER_KUBERNETES_VALIDATE: kubernetes-validate (PyPI); run .ci/run"]
fn the_embedded_definitions_are_generated_from_the_pinned_kubernetes_version() {
    let validator = kubernetes_validate();
    let venv = validator.parent().unwrap().parent().unwrap();
    let folder = std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| file_name(path).starts_with("python3"))
        .unwrap()
        .join("site-packages/kubernetes_validate/kubernetes-json-schema/v1.37.0-local-strict");
    let output = Command::new(project_root().join("tools/gen-kubernetes-schemas"))
        .arg("--check")
        .arg(&folder)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Each example input names its schema for editors, by a relative path that leads to it.
#[test]
fn every_example_input_names_its_schema_for_editors() {
    let mut checked = 0;
    for example in examples() {
        for path in walk(&example) {
            let name = file_name(&path);
            let schema = if name == "kdrender.yaml" {
                "settings"
            } else if path.parent().unwrap().ends_with("clusters") {
                "cluster"
            } else if name == "app.yaml" {
                "app"
            } else {
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let first = text.lines().next().unwrap();
            let target = first
                .strip_prefix("# yaml-language-server: $schema=")
                .unwrap_or_else(|| panic!("{}: no modeline", path.display()));
            assert!(
                target.ends_with(&format!("/schemas/{schema}.schema.json")),
                "{first}"
            );
            let resolved = path.parent().unwrap().join(target).canonicalize().unwrap();
            assert_eq!(
                resolved,
                project_root()
                    .join("schemas")
                    .join(format!("{schema}.schema.json"))
                    .canonicalize()
                    .unwrap()
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked}");
}
