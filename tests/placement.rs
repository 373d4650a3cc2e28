//! First-class placement per role (`spec.placement` in kdrender.yaml): node selector,
//! tolerations, priority class and topology spread constraints reach exactly the pods of the
//! roles named, roll those roles only, and pass the Kubernetes schemas.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

const PLACEMENT: &str = r#"apiVersion: kdrender.dev/v1alpha1
kind: RenderSettings
spec:
  placement:
  - role: worker
    nodeSelector: {example.com/pool: gpu}
    tolerations:
    - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
    priorityClassName: batch-high
    topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: topology.kubernetes.io/zone
      whenUnsatisfiable: ScheduleAnyway
      labelSelector: {matchLabels: {kubedirector.hpe.com/kdcluster: demo, kubedirector.hpe.com/role: worker}}
  - cluster: demo
    role: worker
    priorityClassName: batch-low
"#;

fn placed_repo(settings: &str) -> tempfile::TempDir {
    let repo = two_role_repo();
    write(repo.path(), "kdrender.yaml", settings);
    repo
}

#[test]
fn placement_reaches_the_roles_named_and_rolls_only_them() {
    let stream = render(placed_repo(PLACEMENT).path());
    let docs = documents(&stream);
    let worker = &object(&docs, "StatefulSet", "demo-worker")["spec"]["template"]["spec"];
    assert_eq!(worker["nodeSelector"]["example.com/pool"], "gpu");
    assert_eq!(worker["tolerations"][0]["key"], "nvidia.com/gpu");
    assert_eq!(worker["topologySpreadConstraints"][0]["maxSkew"], 1);
    // A later entry wins field by field.
    assert_eq!(worker["priorityClassName"], "batch-low");
    let coordinator = &object(&docs, "StatefulSet", "demo-coordinator")["spec"]["template"]["spec"];
    for field in [
        "nodeSelector",
        "tolerations",
        "priorityClassName",
        "topologySpreadConstraints",
    ] {
        assert!(coordinator[field].is_null(), "{field}");
    }
    let plain = render(two_role_repo().path());
    let (before, after) = (rollout_hashes(&plain), rollout_hashes(&stream));
    assert_ne!(before["demo-worker"], after["demo-worker"]);
    assert_eq!(before["demo-coordinator"], after["demo-coordinator"]);
    // Nothing but the worker's StatefulSet changes.
    let changed = sorted(documents(&plain))
        .into_iter()
        .zip(sorted(docs.clone()))
        .filter(|(b, a)| b != a)
        .count();
    assert_eq!(changed, 1);
}

#[test]
fn a_placement_entry_that_applies_to_no_role_is_an_error_at_its_name() {
    let settings = PLACEMENT.replace(
        "  - cluster: demo\n    role: worker",
        "  - cluster: demo\n    role: wroker",
    );
    let line = settings.lines().position(|l| l.contains("wroker")).unwrap() + 1;
    for command in ["render", "validate"] {
        run(&[command, "."], placed_repo(&settings).path()).refused(&format!(
            "error: kdrender.yaml:{line}:11: this placement entry applies to no role of any cluster"
        ));
    }
}

#[test]
fn placement_fields_are_checked_against_kubernetes_definitions() {
    let settings = PLACEMENT.replace("operator: Exists", "operater: Exists");
    let line = settings
        .lines()
        .position(|l| l.contains("operater"))
        .unwrap()
        + 1;
    let stderr = run(&["validate", "."], placed_repo(&settings).path()).refused(&format!(
        "error: kdrender.yaml:{line}:29: unknown field `operater` in spec.placement[0].tolerations[0]"
    ));
    assert!(stderr.contains("did you mean \"operator\"?"), "{stderr}");
    let settings = PLACEMENT.replace("example.com/pool: gpu", "example.com/pool: \"g p u\"");
    run(&["validate", "."], placed_repo(&settings).path()).refused("error: kdrender.yaml:6:");
}

#[test]
#[ignore = "needs KDRENDER_KUBERNETES_VALIDATE: kubernetes-validate (PyPI); run .ci/run"]
fn placed_pods_pass_the_kubernetes_schemas() {
    let repo = placed_repo(PLACEMENT);
    assert_kubernetes_valid(&render(repo.path()));
}
