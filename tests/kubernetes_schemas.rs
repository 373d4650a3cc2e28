//! Everything kdrender renders passes the official Kubernetes schemas, in strict mode, for
//! Kubernetes 1.30 and a current minor version (1.37), checked with the `kubernetes-validate`
//! package from PyPI.
//!
//! The validator is found as `$KDRENDER_KUBERNETES_VALIDATE`, or `kubernetes-validate` on PATH;
//! failing both, it is installed once into `target/kubernetes-validate` with pip.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::process::Command;

use common::*;

#[test]
fn the_validator_really_refuses_invalid_objects() {
    let bad = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: x\nspec:\n  replicas: 1\n  unknownField: true\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, bad).unwrap();
    let output = Command::new(validator())
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
fn the_kubedirector_catalog_renders_valid_objects() {
    let Some(catalog) = shared_catalog() else {
        return;
    };
    let mut streams = Vec::new();
    let mut clusters: Vec<_> = std::fs::read_dir(catalog.join("clusters"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    clusters.sort();
    for cluster in clusters {
        let repo = tempfile::tempdir().unwrap();
        copy_tree(&catalog.join("apps"), &repo.path().join("apps"));
        std::fs::copy(&cluster, repo.path().join("cluster.yaml")).unwrap();
        streams.push((
            cluster.file_name().unwrap().to_string_lossy().into_owned(),
            render(repo.path()),
        ));
    }
    assert_valid(&streams);
}

#[test]
fn the_examples_and_fixtures_render_valid_objects() {
    let mut streams = vec![(
        "compat".to_string(),
        render(&project_root().join("tests/fixtures/compat")),
    )];
    let mut examples: Vec<_> = std::fs::read_dir(project_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("kdrender.yaml").exists())
        .collect();
    examples.sort();
    assert!(examples.len() >= 3, "{examples:?}");
    for example in examples {
        streams.push((
            example.file_name().unwrap().to_string_lossy().into_owned(),
            render(&example),
        ));
    }
    streams.push(("two-role".to_string(), render(two_role_repo().path())));
    streams.push((
        "two-role-variants".to_string(),
        render(two_role_variants().path()),
    ));
    assert_valid(&streams);
}

/// The two-role repository with what shapes the pods' security otherwise: NetworkPolicies,
/// declared capabilities, a systemd app, and an app user (so that the init step seeds as that
/// user, with an fsGroup).
fn two_role_variants() -> tempfile::TempDir {
    let repo = two_role_repo();
    let app = TWO_ROLE_APP.replace(
        "    configFiles: files\n",
        "    configFiles: files\n    roles:\n      coordinator:\n        podSecurityContext: {runAsUser: 1000, runAsGroup: 1000}\n",
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
