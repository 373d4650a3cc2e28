//! KubeDirector's own example catalog, accepted as it is, and the project's own compatibility
//! fixtures, which cover the same ground in a plain `cargo test`. The catalog comes from
//! `$KDRENDER_KUBEDIRECTOR_CATALOG` (`../shared/kubedirector-catalog` in .ci/run, a pinned
//! bluek8s/kubedirector checkout on GitHub); the tests that read it are ignored without it.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

#[test]
#[ignore = "needs KDRENDER_KUBEDIRECTOR_CATALOG: KubeDirector's example catalog; run .ci/run"]
fn every_catalog_cluster_renders_with_the_catalog() {
    for cluster in CATALOG_CLUSTERS {
        let repo = catalog_repo(&[cluster]);
        let stream = render(repo.path());
        let docs = documents(&stream);
        let statefulsets = docs.iter().filter(|d| d["kind"] == "StatefulSet").count();
        assert!(statefulsets >= 2, "{cluster}: {statefulsets} StatefulSets");
        // Every member of every StatefulSet is in configmeta.
        let configmeta = docs
            .iter()
            .find(|d| {
                d["kind"] == "ConfigMap"
                    && d["metadata"]["name"]
                        .as_str()
                        .unwrap()
                        .ends_with("-configmeta")
            })
            .unwrap();
        let members: u64 = docs
            .iter()
            .filter(|d| d["kind"] == "StatefulSet")
            .map(|d| d["spec"]["replicas"].as_u64().unwrap())
            .sum();
        let nodes = configmeta["data"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("node-"))
            .count();
        assert_eq!(nodes as u64, members, "{cluster}");
    }
}

#[test]
#[ignore = "needs KDRENDER_KUBEDIRECTOR_CATALOG: KubeDirector's example catalog; run .ci/run"]
fn catalog_clusters_that_share_a_name_are_a_clear_error_together() {
    let repo = catalog_repo(&CATALOG_CLUSTERS);
    let stderr = run(&["render", "."], repo.path()).invalid();
    let first = stderr.lines().next().unwrap();
    assert!(
        first.starts_with("error: clusters/cr-cluster-spark245.yaml:15:9: two clusters are named \"spark245-instance\""),
        "{first}"
    );
    assert!(
        stderr.contains("the other one is at clusters/cr-cluster-spark245-stor.yaml:15:9"),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs KDRENDER_KUBEDIRECTOR_CATALOG: KubeDirector's example catalog; run .ci/run"]
fn catalog_spark_connections_to_outside_secrets_warn_and_still_render() {
    let repo = catalog_repo(&["cr-cluster-spark245-stor.yaml"]);
    let stdout = run(&["render", "."], repo.path())
        .warned("warning: clusters/cr-cluster-spark245-stor.yaml:21:7: connections.secrets");
    // A member left out by the cluster gets the cardinality's number (spark-master: "1").
    let docs = documents(&stdout);
    assert_eq!(
        object(&docs, "StatefulSet", "spark245-instance-spark-master")["spec"]["replicas"],
        1
    );
}

#[test]
#[ignore = "needs KDRENDER_KUBEDIRECTOR_CATALOG: KubeDirector's example catalog; run .ci/run"]
fn catalog_kafka_fixes_zookeeper_at_three_and_exposes_each_member() {
    let repo = catalog_repo(&["cr-cluster-kafka55-stor.yaml"]);
    let docs = documents(&render(repo.path()));
    assert_eq!(
        object(&docs, "StatefulSet", "kafka55-persistent-zookeeper")["spec"]["replicas"],
        3
    );
    let service = object(&docs, "Service", "kafka55-persistent-broker-2");
    assert_eq!(service["spec"]["ports"][0]["name"], "generic-broker");
    assert_eq!(service["spec"]["ports"][0]["port"], 9092);
    // kafka-client has a service without an endpoint: no member Service.
    assert!(!docs.iter().any(
        |d| d["metadata"]["name"] == "kafka55-persistent-kafka-client-0" && d["kind"] == "Service"
    ));
    assert!(docs.iter().any(
        |d| d["metadata"]["name"] == "kafka55-persistent-kafka-client"
            && d["kind"] == "StatefulSet"
    ));
}

#[test]
fn compat_fixture_exercises_the_same_ground() {
    let docs = documents(&render(&project_root().join("tests/fixtures/compat")));
    // JSON with tabs, munged role ids, defaults pushed into roles, NodePort member services.
    let data = object(&docs, "StatefulSet", "search-small-data-node");
    let pod = &data["spec"]["template"]["spec"];
    assert_eq!(data["spec"]["replicas"], 3);
    assert_eq!(
        pod["containers"][0]["image"],
        "registry.example.com/search:2.1"
    );
    assert_eq!(
        pod["containers"][0]["lifecycle"]["postStart"]["exec"]["command"][4],
        "configure"
    );
    assert_eq!(
        object(&docs, "Service", "search-small-data-node-1")["spec"]["type"],
        "NodePort"
    );
    // A role with `configPackage: null` runs no setup package, and has its own image.
    let dashboards = &object(&docs, "StatefulSet", "search-small-dashboards")["spec"]["template"]["spec"]
        ["containers"][0];
    assert!(dashboards.get("lifecycle").is_none());
    assert_eq!(
        dashboards["image"],
        "registry.example.com/search-dashboards:2.1"
    );
    // The master takes membership events; its setup runner gets them all.
    let master = &object(&docs, "StatefulSet", "search-small-master")["spec"]["template"]["spec"]["containers"]
        [0];
    assert_eq!(
        master["lifecycle"]["postStart"]["exec"]["command"][4],
        "configure addnodes delnodes"
    );
    // The notebook asks for a GPU, so NVIDIA_VISIBLE_DEVICES is not blanked, and it lives in
    // its own namespace.
    let notebook = object(&docs, "StatefulSet", "notebook-alice-server");
    assert_eq!(notebook["metadata"]["namespace"], "research");
    let env = notebook["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    assert!(!env.iter().any(|e| e["name"] == "NVIDIA_VISIBLE_DEVICES"));
    assert_eq!(
        notebook["spec"]["template"]["spec"]["automountServiceAccountToken"],
        true
    );
}
