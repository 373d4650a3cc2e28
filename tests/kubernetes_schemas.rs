//! Everything kdrender renders passes the official Kubernetes schemas, in strict mode, for
//! Kubernetes 1.30 and a current minor version (1.37), checked with the `kubernetes-validate`
//! package from PyPI.
//!
//! The validator is `$KDRENDER_KUBERNETES_VALIDATE`, which .ci/run installs and sets; without
//! it these tests are ignored by a plain `cargo test`, and fail when run.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::process::Command;

use common::*;

#[test]
#[ignore = "needs KDRENDER_KUBERNETES_VALIDATE: kubernetes-validate (PyPI); run .ci/run"]
fn the_validator_really_refuses_invalid_objects() {
    let bad = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: x\nspec:\n  replicas: 1\n  unknownField: true\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, bad).unwrap();
    let output = Command::new(kubernetes_validate())
        .args(["--strict", "--quiet", "-k", "1.30.0"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "strict validation must reject unknown fields"
    );
}

#[test]
#[ignore = "needs KDRENDER_KUBERNETES_VALIDATE and KDRENDER_KUBEDIRECTOR_CATALOG; run .ci/run"]
fn the_kubedirector_catalog_renders_valid_objects() {
    let streams: Vec<(String, String)> = CATALOG_CLUSTERS
        .iter()
        .map(|cluster| (cluster.to_string(), render(catalog_repo(&[cluster]).path())))
        .collect();
    assert_valid(&streams);
}

#[test]
#[ignore = "needs KDRENDER_KUBERNETES_VALIDATE: kubernetes-validate (PyPI); run .ci/run"]
fn the_examples_and_fixtures_render_valid_objects() {
    let mut streams = vec![
        (
            "compat".to_string(),
            render(&project_root().join("tests/fixtures/compat")),
        ),
        (
            "accepts".to_string(),
            render(&project_root().join("tests/fixtures/accepts")),
        ),
    ];
    for example in examples() {
        streams.push((file_name(&example), render(&example)));
    }
    streams.push(("two-role".to_string(), render(two_role_repo().path())));
    streams.push((
        "two-role-variants".to_string(),
        render(two_role_variants().path()),
    ));
    // A role with storage scaled to zero keeps a StatefulSet without replicas.
    let scaled_to_zero = two_role_repo();
    optional_workers_with_storage(scaled_to_zero.path());
    edit(
        scaled_to_zero.path(),
        "cluster.yaml",
        "members: 2",
        "members: 0",
    );
    streams.push((
        "two-role-scaled-to-zero".to_string(),
        render(scaled_to_zero.path()),
    ));
    assert_valid(&streams);
}

/// The two-role repository with what shapes the pods' security otherwise: NetworkPolicies,
/// declared capabilities, a systemd app, and an app user (so that the init step seeds as that
/// user, with an fsGroup).
fn two_role_variants() -> tempfile::TempDir {
    let repo = two_role_repo();
    let app = two_role_app_with_roles(
        "      coordinator:\n        podSecurityContext: {runAsUser: 1000, runAsGroup: 1000}\n",
    );
    write(
        repo.path(),
        "app.yaml",
        &format!("{app}  capabilities: [IPC_LOCK]\n  systemdRequired: true\n"),
    );
    write(
        repo.path(),
        "kdrender.yaml",
        "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  networkPolicy: true\n",
    );
    repo
}
