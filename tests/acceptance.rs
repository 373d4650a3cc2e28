//! What KubeDirector accepts, kdrender accepts: `tests/fixtures/accepts` holds an app and a
//! cluster written the way real KubeDirector files are (JSON apps with fields from before its v1
//! CRDs, YAML clusters with their optional lists commented out), and each test states what
//! KubeDirector does with one of their features as the expected value. The refusals that remain
//! are corpus cases (`tests/corpus/`).

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use serde_json::Value;

/// The fixture, rendered: its objects and its report (warnings only: it must render).
fn rendered() -> (Vec<Value>, String) {
    let fixture = project_root().join("tests/fixtures/accepts");
    let run = run(&["render", "."], &fixture);
    let stderr = run.stderr.clone();
    assert!(!stderr.contains("error:"), "{stderr}");
    (documents(&run.ok()), stderr)
}

fn pod_spec<'a>(docs: &'a [Value], statefulset: &str) -> &'a Value {
    &object(docs, "StatefulSet", statefulset)["spec"]["template"]["spec"]
}

/// Asserts that one of the report's warnings begins with `expected`.
fn assert_warned(stderr: &str, expected: &str) {
    assert!(
        warnings(stderr).iter().any(|w| w.starts_with(expected)),
        "{expected}\n{stderr}"
    );
}

/// The cluster's shared `configmeta.json`.
fn shared_configmeta(docs: &[Value]) -> Value {
    let configmap = object(docs, "ConfigMap", "serving-small-configmeta");
    serde_json::from_str(configmap["data"]["configmeta.json"].as_str().unwrap()).unwrap()
}

/// The summary lines of the report's warnings.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.starts_with("warning: "))
        .collect()
}

#[test]
fn fields_left_empty_or_null_mean_absent_as_the_api_server_prunes_them() {
    let (docs, _) = rendered();
    // `storage:` with its size commented out: a role without storage, so no claim and nothing
    // seeded (KubeDirector: a nil Storage pointer).
    let gateway = object(&docs, "StatefulSet", "serving-small-gateway");
    assert!(gateway["spec"].get("volumeClaimTemplates").is_none());
    // `env:` with its items commented out: no variables of the cluster's.
    let env = pod_spec(&docs, "serving-small-gateway")["containers"][0]["env"]
        .as_array()
        .unwrap();
    assert!(!env.iter().any(|e| e["name"] == "LOG_LEVEL"), "{env:?}");
    // A label whose value is null is pruned; the others stay.
    let labels = &gateway["spec"]["template"]["metadata"]["labels"];
    assert_eq!(labels["team"], "ml");
    assert!(labels.get("cost-center").is_none(), "{labels}");
    // `storageClassName:` empty: the cluster's default class, as if it were not written.
    let worker = object(&docs, "StatefulSet", "serving-small-worker");
    let claim = &worker["spec"]["volumeClaimTemplates"][0]["spec"];
    assert_eq!(claim["resources"]["requests"]["storage"], "50Gi");
    assert!(claim.get("storageClassName").is_none(), "{claim}");
}

#[test]
fn null_setup_package_still_means_none_and_null_service_parts_mean_absent() {
    let (docs, _) = rendered();
    // `configPackage: null` on the worker: no setup package, although the app has a default.
    let worker = &pod_spec(&docs, "serving-small-worker")["containers"][0];
    assert!(worker.get("lifecycle").is_none(), "{worker}");
    let gateway = &pod_spec(&docs, "serving-small-gateway")["containers"][0];
    assert!(gateway.get("lifecycle").is_some(), "{gateway}");
    // A service with `label: null` and `endpoint: null` is metadata only: no port, no name.
    let shared = shared_configmeta(&docs);
    let metrics = &shared["nodegroups"]["1"]["roles"]["worker"]["services"]["metrics"];
    assert_eq!(metrics["name"], "", "{metrics}");
    assert!(
        metrics["endpoints"].as_array().unwrap().is_empty(),
        "{metrics}"
    );
    assert_eq!(
        shared["nodegroups"]["1"]["config_metadata"],
        serde_json::json!({})
    );
}

#[test]
fn unknown_fields_the_app_crd_keeps_are_warnings_that_name_field_and_line() {
    let (_, stderr) = rendered();
    for expected in [
        "warning: apps/model-serving.json:9:3: unknown field `categories` in spec: ignored",
        "warning: apps/model-serving.json:13:4: unknown field `ML_category` in spec.label: ignored",
        "warning: apps/model-serving.json:22:52: unknown field `ui_group` in spec.services[0]: ignored",
    ] {
        assert_warned(&stderr, expected);
    }
    let warnings = warnings(&stderr);
    // `exported_service` and `logoURL` are fields of KubeDirector's own: no warning.
    for known in ["exported_service", "logoURL"] {
        assert!(!warnings.iter().any(|w| w.contains(known)), "{stderr}");
    }
}

#[test]
fn file_modes_are_integers_as_in_the_crd_and_injections_warn() {
    let (docs, stderr) = rendered();
    // `fileMode: 420` is accepted; the injection itself is fetched by a live controller only,
    // which the report says (and nothing of it is rendered).
    assert_warned(
        &stderr,
        "warning: clusters/serving-small.yaml:38:7: role \"gateway\": fileInjections are not rendered",
    );
    let stream = serde_json::to_string(&docs).unwrap();
    assert!(!stream.contains("routes.json"), "{stream}");
}

#[test]
fn min_resources_are_met_as_kubedirector_compares_them() {
    // The app asks the gateway for 2 cores and the worker for 0.5; KubeDirector compares
    // `Quantity.Value()`, whole units rounded up, so 1500m meets 2 and 100m meets 0.5.
    let (docs, _) = rendered();
    for (statefulset, cpu) in [
        ("serving-small-gateway", "1500m"),
        ("serving-small-worker", "100m"),
    ] {
        let app = &pod_spec(&docs, statefulset)["containers"][0];
        assert_eq!(app["resources"]["requests"]["cpu"], cpu, "{statefulset}");
    }
}

#[test]
fn mounts_below_tmp_and_run_are_kept_where_nothing_else_is_mounted() {
    // KubeDirector refuses a mount only on one of its own; kdrender mounts nothing at these
    // paths for this app, so they are the role's.
    let (docs, _) = rendered();
    for (statefulset, path) in [
        ("serving-small-gateway", "/tmp/tls"),
        ("serving-small-worker", "/run/models"),
    ] {
        let mounts = pod_spec(&docs, statefulset)["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap();
        assert!(mounts.iter().any(|m| m["mountPath"] == path), "{mounts:?}");
    }
}

#[test]
fn a_version_that_is_no_label_value_renders_without_the_version_label() {
    // KubeDirector takes any version string; kdrender leaves the label off rather than label
    // the objects with a version the app does not have, and says so.
    let (docs, stderr) = rendered();
    assert_warned(
        &stderr,
        "warning: apps/model-serving.json:16:14: the objects carry no app.kubernetes.io/version label",
    );
    for doc in &docs {
        let labels = &doc["metadata"]["labels"];
        assert!(labels.get("app.kubernetes.io/version").is_none(), "{doc}");
        assert_eq!(labels["app.kubernetes.io/name"], "model-serving", "{doc}");
    }
    let gateway = object(&docs, "StatefulSet", "serving-small-gateway");
    let pod_labels = &gateway["spec"]["template"]["metadata"]["labels"];
    assert!(pod_labels.get("app.kubernetes.io/version").is_none());
    // configmeta.json carries the version as written.
    let shared = shared_configmeta(&docs);
    assert_eq!(
        shared["nodegroups"]["1"]["catalog_entry_version"],
        "3.2 (CUDA 12)"
    );
}

#[test]
fn capabilities_are_any_names_the_crd_takes_and_pass_through_as_written() {
    // KubeDirector's CRD takes any non-empty capability name and copies it into the container;
    // container runtimes upper-case it.
    let (docs, _) = rendered();
    let gateway = &pod_spec(&docs, "serving-small-gateway")["containers"][0];
    assert_eq!(
        gateway["securityContext"]["capabilities"]["add"],
        serde_json::json!(["sys_nice"])
    );
}
