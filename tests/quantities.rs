//! Resource quantities: exact arithmetic, Kubernetes' range, and errors that name the field.
//! Quantities beyond 2^63-1 once wrapped around inside kdrender: a request far above its limit
//! passed the "request within limit" rule, and `cores` in configmeta.json came out negative.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

/// The two-role repository with the worker's resources replaced.
fn worker_resources(resources: &str) -> tempfile::TempDir {
    let repo = two_role_repo();
    let cluster = TWO_ROLE_CLUSTER.replacen(
        "      limits:\n        cpu: \"2\"\n        memory: 2Gi\n",
        resources,
        1,
    );
    assert_ne!(cluster, TWO_ROLE_CLUSTER);
    write(repo.path(), "cluster.yaml", &cluster);
    repo
}

/// The worker's `flavor` in the rendered configmeta.json.
fn worker_flavor(stream: &str) -> serde_json::Value {
    let docs = documents(stream);
    let configmap = object(&docs, "ConfigMap", "demo-configmeta");
    let text = configmap["data"]["configmeta.json"].as_str().unwrap();
    let configmeta: serde_json::Value = serde_json::from_str(text).unwrap();
    configmeta["nodegroups"]["1"]["roles"]["worker"]["flavor"].clone()
}

#[test]
fn a_request_that_would_wrap_around_is_refused_not_accepted() {
    // i128::MAX nano-units, scaled down: rounding it up used to overflow to a negative request,
    // which then passed as below the limit.
    let repo = worker_resources(
        "      limits:\n        cpu: \"2\"\n        memory: 2Gi\n      requests:\n        cpu: \"170141183460469231731687303715884105727e-10\"\n",
    );
    let report = run(&["render", "."], repo.path()).invalid();
    let first = report.lines().next().unwrap();
    assert_eq!(
        first,
        "error: cluster.yaml:22:14: spec.roles[1].resources.requests.cpu: \"170141183460469231731687303715884105727e-10\" is out of range: Kubernetes quantities go up to 9223372036854775807 (2^63-1)"
    );
}

#[test]
fn a_limit_beyond_the_range_is_refused_instead_of_negative_cores() {
    for huge in [
        "170141183460469231731687303715.884105727",
        "1e30",
        "9223372036854775808",
        "8Ei",
    ] {
        let repo = worker_resources(&format!(
            "      limits:\n        cpu: \"{huge}\"\n        memory: 2Gi\n"
        ));
        let report = run(&["render", "."], repo.path()).invalid();
        assert!(
            report.starts_with(&format!(
                "error: cluster.yaml:19:14: spec.roles[1].resources.limits.cpu: \"{huge}\" is out of range"
            )),
            "{huge}: {report}"
        );
    }
}

#[test]
fn negative_requests_and_limits_are_refused() {
    let repo = worker_resources(
        "      limits:\n        cpu: \"-2\"\n        memory: 2Gi\n      requests:\n        memory: -1Gi\n",
    );
    let report = run(&["render", "."], repo.path()).invalid();
    assert!(
        report.contains("error: cluster.yaml:19:14: spec.roles[1].resources.limits.cpu: -2 is negative; Kubernetes refuses negative resource amounts"),
        "{report}"
    );
    assert!(
        report.contains(
            "error: cluster.yaml:22:17: spec.roles[1].resources.requests.memory: -1Gi is negative"
        ),
        "{report}"
    );
}

#[test]
fn the_largest_quantities_give_exact_figures() {
    let repo = worker_resources(
        "      limits:\n        cpu: \"9223372036854775807\"\n        memory: 7Ei\n      requests:\n        cpu: 1E-9\n",
    );
    let flavor = worker_flavor(&run(&["render", "."], repo.path()).ok());
    assert_eq!(flavor["cores"], "9223372036854775807");
    assert_eq!(flavor["memory"], (7u64 << 40).to_string());
}

#[test]
fn tiny_and_exponent_quantities_round_up_like_kubernetes() {
    let repo = worker_resources(
        "      limits:\n        cpu: 1e-30\n        memory: 1.5E9\n      requests:\n        cpu: 1n\n",
    );
    let flavor = worker_flavor(&run(&["render", "."], repo.path()).ok());
    assert_eq!(flavor["cores"], "1");
    assert_eq!(flavor["memory"], "1430");
    // 1e-30 rounds up to one nano-unit, the same as the request: not below it.
    let repo = worker_resources(
        "      limits:\n        cpu: 1e-30\n        memory: 2Gi\n      requests:\n        cpu: 2n\n",
    );
    let report = run(&["render", "."], repo.path()).invalid();
    assert!(
        report.contains("requests 2n of cpu, more than its limit of 1e-30"),
        "{report}"
    );
}
