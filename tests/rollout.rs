//! The rollout contract: a role's pod template changes when, and only when, something its pods
//! consume changes.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

/// Renders the two-role repository after `change` edits it; returns the StatefulSet hashes and
/// the rendered stream.
fn hashes_after(
    change: impl FnOnce(&std::path::Path),
) -> (std::collections::BTreeMap<String, String>, String) {
    let repo = two_role_repo();
    change(repo.path());
    let stream = render(repo.path());
    (rollout_hashes(&stream), stream)
}

fn edit(root: &std::path::Path, path: &str, from: &str, to: &str) {
    let full = root.join(path);
    let text = std::fs::read_to_string(&full).unwrap();
    assert!(text.contains(from), "{path} does not contain {from:?}");
    std::fs::write(full, text.replacen(from, to, 1)).unwrap();
}

fn changed(
    before: &std::collections::BTreeMap<String, String>,
    after: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    before
        .iter()
        .filter(|(name, hash)| after.get(*name) != Some(*hash))
        .map(|(name, _)| name.clone())
        .collect()
}

#[test]
fn the_baseline_hashes_every_statefulset() {
    let (hashes, _) = hashes_after(|_| {});
    assert_eq!(
        hashes.keys().collect::<Vec<_>>(),
        ["demo-coordinator", "demo-worker"]
    );
    assert_ne!(hashes["demo-coordinator"], hashes["demo-worker"]);
}

#[test]
fn one_roles_resources_roll_only_that_role_while_configmeta_updates_in_place() {
    let (before, before_stream) = hashes_after(|_| {});
    let (after, after_stream) = hashes_after(|root| {
        edit(
            root,
            "cluster.yaml",
            "cpu: \"2\"\n        memory: 2Gi",
            "cpu: \"3\"\n        memory: 2Gi",
        )
    });
    assert_eq!(changed(&before, &after), ["demo-worker"]);
    // The worker's flavor is in configmeta.json, which changes without restarting anyone.
    let meta = |stream: &str| {
        object(&documents(stream), "ConfigMap", "demo-configmeta")["data"]["configmeta.json"]
            .clone()
    };
    assert_ne!(meta(&before_stream), meta(&after_stream));
}

#[test]
fn a_roles_config_file_rolls_only_that_role() {
    let (before, _) = hashes_after(|_| {});
    let (after, _) = hashes_after(|root| {
        edit(
            root,
            "files/roles/worker/etc/worker/worker.conf.j2",
            "threads=4",
            "threads=8",
        )
    });
    assert_eq!(changed(&before, &after), ["demo-worker"]);
    let (after, _) = hashes_after(|root| {
        edit(
            root,
            "files/members/coordinator/var/lib/coord/myid.j2",
            "+ 1",
            "+ 10",
        )
    });
    assert_eq!(changed(&before, &after), ["demo-coordinator"]);
}

#[test]
fn a_roles_image_and_storage_roll_only_that_role() {
    let (before, _) = hashes_after(|_| {});
    let (after, _) = hashes_after(|root| {
        edit(
            root,
            "app.yaml",
            "    eventList: [configure]\n",
            "    eventList: [configure]\n    imageRepoTag: registry.example.com/twotier:1.1\n",
        )
    });
    assert_eq!(changed(&before, &after), ["demo-worker"]);
    let (after, _) = hashes_after(|root| edit(root, "cluster.yaml", "size: 5Gi", "size: 10Gi"));
    assert_eq!(changed(&before, &after), ["demo-coordinator"]);
    let (after, _) = hashes_after(|root| {
        edit(
            root,
            "cluster.yaml",
            "        memory: 2Gi\n",
            "        memory: 2Gi\n    env:\n    - name: MODE\n      value: fast\n",
        )
    });
    assert_eq!(changed(&before, &after), ["demo-worker"]);
}

#[test]
fn scaling_rolls_the_roles_that_take_membership_events_only() {
    let (before, _) = hashes_after(|_| {});
    // The coordinator takes every event (no eventList); the worker takes only `configure`, and
    // its files do not mention workers, so the scale-out leaves its pods alone.
    let (after, stream) =
        hashes_after(|root| edit(root, "cluster.yaml", "members: 2", "members: 3"));
    assert_eq!(changed(&before, &after), ["demo-coordinator"]);
    assert_eq!(
        object(&documents(&stream), "StatefulSet", "demo-worker")["spec"]["replicas"],
        3
    );
}

#[test]
fn a_template_that_reads_another_roles_members_rolls_with_them() {
    let (before, _) = hashes_after(|root| {
        write(
            root,
            "files/roles/worker/etc/worker/peers.j2",
            "{{ roles.worker.fqdns | join('\\n') }}\n",
        )
    });
    let (after, _) = hashes_after(|root| {
        write(
            root,
            "files/roles/worker/etc/worker/peers.j2",
            "{{ roles.worker.fqdns | join('\\n') }}\n",
        );
        edit(root, "cluster.yaml", "members: 2", "members: 3");
    });
    assert_eq!(
        changed(&before, &after),
        ["demo-coordinator", "demo-worker"]
    );
}

#[test]
fn app_wide_configuration_rolls_every_role() {
    let (before, _) = hashes_after(|_| {});
    for (from, to) in [
        ("tuning: standard", "tuning: aggressive"),
        ("version: \"1.0\"", "version: \"1.1\""),
    ] {
        let (after, _) = hashes_after(|root| edit(root, "app.yaml", from, to));
        assert_eq!(
            changed(&before, &after),
            ["demo-coordinator", "demo-worker"],
            "{from} -> {to}"
        );
    }
}

#[test]
fn the_hash_is_versioned() {
    let (hashes, _) = hashes_after(|_| {});
    assert!(
        hashes
            .values()
            .all(|h| h.starts_with("v1-") && h.len() == 35),
        "{hashes:?}"
    );
}

#[test]
fn a_scale_out_does_not_roll_a_role_for_its_own_new_members_files() {
    // The worker gets a per-member file; adding a worker adds a file that no existing worker
    // reads, so the workers keep running (they take no membership events).
    let per_member = |root: &std::path::Path| {
        write(
            root,
            "files/members/worker/etc/worker/id.j2",
            "id={{ member.node_id }}\n",
        )
    };
    let (before, _) = hashes_after(per_member);
    let (after, stream) = hashes_after(|root| {
        per_member(root);
        edit(root, "cluster.yaml", "members: 2", "members: 3");
    });
    assert_eq!(changed(&before, &after), ["demo-coordinator"]);
    let docs = documents(&stream);
    assert_eq!(
        object(&docs, "ConfigMap", "demo-worker-files")["data"]["demo-worker-2.etc_worker_id"],
        "id=1003\n"
    );

    // A per-member file whose content depends on the role's size does roll it.
    let sized = |root: &std::path::Path| {
        write(
            root,
            "files/members/worker/etc/worker/id.j2",
            "{{ member.ordinal }}/{{ role.count }}\n",
        )
    };
    let (before, _) = hashes_after(sized);
    let (after, _) = hashes_after(|root| {
        sized(root);
        edit(root, "cluster.yaml", "members: 2", "members: 3");
    });
    assert_eq!(
        changed(&before, &after),
        ["demo-coordinator", "demo-worker"]
    );
}

#[test]
fn the_pod_template_does_not_list_members() {
    let repo = two_role_repo();
    let docs = documents(&render(repo.path()));
    let template = object(&docs, "StatefulSet", "demo-coordinator")["spec"]["template"].to_string();
    assert!(!template.contains("demo-coordinator-1"), "{template}");
    assert!(
        template.contains("$(POD_NAME).var_lib_coord_myid"),
        "{template}"
    );
}
