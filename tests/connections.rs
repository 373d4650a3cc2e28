//! Connections between clusters rendered from the same repository: embedded in configmeta.json
//! as KubeDirector embeds them, visible to templates, and part of the membership that rolls
//! roles taking addnodes/delnodes.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

/// The two-role repository whose cluster `demo` connects to the cluster `to`.
fn connecting_to(to: &str) -> tempfile::TempDir {
    let repo = two_role_repo();
    write(
        repo.path(),
        "cluster.yaml",
        &TWO_ROLE_CLUSTER.replace(
            "  app: twotier\n",
            &format!("  app: twotier\n  connections:\n    clusters: [{to}]\n"),
        ),
    );
    repo
}

/// `demo` connects to `store`, another cluster of the same app.
fn connected_repo(store_workers: u32) -> tempfile::TempDir {
    let repo = connecting_to("store");
    write(
        repo.path(),
        "store.yaml",
        &TWO_ROLE_CLUSTER
            .replace("name: demo", "name: store")
            .replace("members: 2", &format!("members: {store_workers}")),
    );
    repo
}

fn configmeta(docs: &[serde_json::Value], cluster: &str) -> serde_json::Value {
    let text =
        object(docs, "ConfigMap", &format!("{cluster}-configmeta"))["data"]["configmeta.json"]
            .as_str()
            .unwrap();
    serde_json::from_str(text).unwrap()
}

#[test]
fn a_connected_cluster_is_embedded_with_prefixed_references() {
    let docs = documents(&render(connected_repo(2).path()));
    let meta = configmeta(&docs, "demo");
    let embedded = &meta["connections"]["clusters"]["store"];
    assert_eq!(embedded["cluster"]["name"], "store");
    assert_eq!(
        embedded["nodegroups"]["1"]["roles"]["worker"]["fqdns"][1],
        "store-worker-1.store.default.svc.cluster.local"
    );
    assert_eq!(
        embedded["distros"]["test/twotier"]["1"]["bdvlibrefkey"],
        serde_json::json!(["connections", "clusters", "store", "nodegroups", "1"])
    );
    assert!(embedded.get("node").is_none() && embedded.get("connections").is_none());
    // The other direction is not connected.
    assert_eq!(
        configmeta(&docs, "store")["connections"]["clusters"],
        serde_json::json!({})
    );
}

#[test]
fn templates_see_connected_clusters() {
    let repo = connected_repo(2);
    write(
        repo.path(),
        "files/roles/worker/etc/worker/store.conf.j2",
        "{% if connections.store is defined %}{{ connections.store.roles.worker.fqdns | join(',') }}{% else %}none{% endif %}\n",
    );
    let docs = documents(&render(repo.path()));
    let files = &object(&docs, "ConfigMap", "demo-worker-files")["data"];
    assert_eq!(
        files["etc_worker_store.conf"],
        "store-worker-0.store.default.svc.cluster.local,store-worker-1.store.default.svc.cluster.local"
    );
    // The same app's template in the cluster without the connection takes the other branch
    // (trim_blocks drops the newline after `{% endif %}`, as Jinja2 does).
    assert_eq!(
        object(&docs, "ConfigMap", "store-worker-files")["data"]["etc_worker_store.conf"],
        "none"
    );
}

#[test]
fn scaling_a_connected_cluster_rolls_nobody_and_reaches_configmeta_in_place() {
    let (before, after) = (
        render(connected_repo(2).path()),
        render(connected_repo(3).path()),
    );
    // Membership is no input of the rollout hash (scheme v2): running members get the new
    // configmeta.json in place, and setup runners reconnect (tests/setup_runner.rs).
    assert_eq!(rollout_hashes(&before), rollout_hashes(&after));
    let embedded = |stream: &str| {
        configmeta(&documents(stream), "demo")["connections"]["clusters"]["store"]["nodegroups"]
            ["1"]["roles"]["worker"]["fqdns"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!((embedded(&before), embedded(&after)), (2, 3));
}

#[test]
fn a_connection_to_a_cluster_not_rendered_here_warns_and_is_left_out() {
    let repo = connecting_to("elsewhere");
    let stdout = run(&["render", "."], repo.path()).warned(
        "warning: cluster.yaml:8:16: connected cluster \"elsewhere\" is not rendered from this repository",
    );
    assert_eq!(
        configmeta(&documents(&stdout), "demo")["connections"]["clusters"],
        serde_json::json!({})
    );
}
