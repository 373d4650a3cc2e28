//! The rollout contract (hash scheme v2): a role's pod template changes when, and only when,
//! something its pods consume changes that a running pod cannot pick up. What `configmeta.json`
//! holds (membership, other roles' flavors, the app's configMeta) reaches running members in
//! place (tests/setup_runner.rs, tests/diff.rs).

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

/// Renders the two-role repository after `change` edits it; returns the StatefulSet hashes and
/// the rendered stream.
fn hashes_after(change: impl FnOnce(&Path)) -> (BTreeMap<String, String>, String) {
    let repo = two_role_repo();
    change(repo.path());
    let stream = render(repo.path());
    (rollout_hashes(&stream), stream)
}

fn changed(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    before
        .iter()
        .filter(|(name, hash)| after.get(*name) != Some(*hash))
        .map(|(name, _)| name.clone())
        .collect()
}

/// A change to a file of the two-role repository.
enum Change {
    /// Replace the first `from` in `path` by `to`.
    Edit(&'static str, &'static str, &'static str),
    /// Write `path` with this text.
    Write(&'static str, &'static str),
}

impl Change {
    fn apply(&self, root: &Path) {
        match *self {
            Change::Edit(path, from, to) => edit(root, path, from, to),
            Change::Write(path, text) => write(root, path, text),
        }
    }
}

/// One row of the rollout contract: with `setup` in the repository, `change` rolls exactly the
/// StatefulSets `rolled`.
struct Case {
    what: &'static str,
    setup: &'static [Change],
    change: &'static [Change],
    rolled: &'static [&'static str],
}

const WORKER_CPU: Change = Change::Edit(
    "cluster.yaml",
    "cpu: \"2\"\n        memory: 2Gi",
    "cpu: \"3\"\n        memory: 2Gi",
);
const ONE_MORE_WORKER: Change = Change::Edit("cluster.yaml", "members: 2", "members: 3");
/// The coordinator takes every event (the app gives it no eventList); the worker takes only
/// `configure`.
const BOTH: &[&str] = &["demo-coordinator", "demo-worker"];
/// A setup package for the worker.
const WORKER_PACKAGE: Change = Change::Edit(
    "app.yaml",
    "    eventList: [configure]\n",
    "    eventList: [configure]\n    configPackage: {packageURL: \"file:///opt/setup/worker.tgz\"}\n",
);
/// A setup package for every role.
const DEFAULT_PACKAGE: Change = Change::Edit(
    "app.yaml",
    "  defaultImageRepoTag:",
    "  defaultConfigPackage: {packageURL: \"file:///opt/setup/twotier.tgz\", useNewSetupLayout: true}\n  defaultImageRepoTag:",
);

const CASES: &[Case] = &[
    Case {
        what: "one role's resources roll only that role",
        setup: &[],
        change: &[WORKER_CPU],
        rolled: &["demo-worker"],
    },
    Case {
        what: "a role's config file rolls only that role",
        setup: &[],
        change: &[Change::Edit(
            "files/roles/worker/etc/worker/worker.conf.j2",
            "threads=4",
            "threads=8",
        )],
        rolled: &["demo-worker"],
    },
    Case {
        what: "a role's per-member file rolls only that role",
        setup: &[],
        change: &[Change::Edit(
            "files/members/coordinator/var/lib/coord/myid.j2",
            "+ 1",
            "+ 10",
        )],
        rolled: &["demo-coordinator"],
    },
    Case {
        what: "a role's image rolls only that role",
        setup: &[],
        change: &[Change::Edit(
            "app.yaml",
            "    eventList: [configure]\n",
            "    eventList: [configure]\n    imageRepoTag: registry.example.com/twotier:1.1\n",
        )],
        rolled: &["demo-worker"],
    },
    Case {
        what: "a role's storage rolls only that role",
        setup: &[],
        change: &[Change::Edit("cluster.yaml", "size: 5Gi", "size: 10Gi")],
        rolled: &["demo-coordinator"],
    },
    Case {
        what: "a role's environment rolls only that role",
        setup: &[],
        change: &[Change::Edit(
            "cluster.yaml",
            "        memory: 2Gi\n",
            "        memory: 2Gi\n    env:\n    - name: MODE\n      value: fast\n",
        )],
        rolled: &["demo-worker"],
    },
    Case {
        what: "a scale-out rolls nobody (no template reads the workers): running members hear of \
               it in place",
        setup: &[],
        change: &[ONE_MORE_WORKER],
        rolled: &[],
    },
    Case {
        what: "a scale-out rolls nobody in roles with a setup package either, whatever events \
               they take",
        setup: &[DEFAULT_PACKAGE],
        change: &[ONE_MORE_WORKER],
        rolled: &[],
    },
    Case {
        what: "a template that reads the role's own members rolls it with them",
        setup: &[Change::Write(
            "files/roles/worker/etc/worker/peers.j2",
            "{{ roles.worker.fqdns | join('\\n') }}\n",
        )],
        change: &[ONE_MORE_WORKER],
        rolled: &["demo-worker"],
    },
    Case {
        what: "a template that reads another role's members rolls with them",
        setup: &[Change::Write(
            "files/roles/coordinator/etc/coord/workers.j2",
            "{{ roles.worker.fqdns | join('\\n') }}\n",
        )],
        change: &[ONE_MORE_WORKER],
        rolled: &["demo-coordinator"],
    },
    Case {
        what: "the app's configMeta rolls nobody: it reaches configmeta.json in place",
        setup: &[],
        change: &[Change::Edit(
            "app.yaml",
            "tuning: standard",
            "tuning: aggressive",
        )],
        rolled: &[],
    },
    Case {
        what: "a template that reads the app's configMeta rolls its role",
        setup: &[Change::Write(
            "files/roles/worker/etc/worker/tuning.j2",
            "{{ app.config_meta.tuning }}\n",
        )],
        change: &[Change::Edit(
            "app.yaml",
            "tuning: standard",
            "tuning: aggressive",
        )],
        rolled: &["demo-worker"],
    },
    Case {
        what: "a role's setup package rolls the roles that use it",
        setup: &[WORKER_PACKAGE],
        change: &[Change::Edit("app.yaml", "worker.tgz", "worker-2.tgz")],
        rolled: &["demo-worker"],
    },
    Case {
        what: "the app's default setup package rolls every role that uses it",
        setup: &[DEFAULT_PACKAGE],
        change: &[Change::Edit("app.yaml", "twotier.tgz", "twotier-2.tgz")],
        rolled: BOTH,
    },
    Case {
        what: "the events a role with a setup package takes roll it (its runner is told them \
               when it starts)",
        setup: &[WORKER_PACKAGE],
        change: &[Change::Edit(
            "app.yaml",
            "eventList: [configure]",
            "eventList: [configure, addnodes]",
        )],
        rolled: &["demo-worker"],
    },
    Case {
        what: "the events of a role without a setup package roll nothing",
        setup: &[],
        change: &[Change::Edit(
            "app.yaml",
            "eventList: [configure]",
            "eventList: [configure, addnodes]",
        )],
        rolled: &[],
    },
    Case {
        what: "the image configcli comes from rolls the roles with a setup package",
        setup: &[WORKER_PACKAGE],
        change: &[Change::Write(
            "kdrender.yaml",
            "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  configcliImage: registry.example.com/kubedirector:0.11.0\n",
        )],
        rolled: &["demo-worker"],
    },
    Case {
        what: "the app's version rolls every role",
        setup: &[],
        change: &[Change::Edit(
            "app.yaml",
            "version: \"1.0\"",
            "version: \"1.1\"",
        )],
        rolled: BOTH,
    },
    Case {
        what: "a scale-out does not roll a role for its own new member's file, which no existing \
               member reads",
        setup: &[PER_MEMBER_ID],
        change: &[ONE_MORE_WORKER],
        rolled: &[],
    },
    Case {
        what: "a per-member file whose content depends on the role's size rolls it",
        setup: &[Change::Write(
            "files/members/worker/etc/worker/id.j2",
            "{{ member.ordinal }}/{{ role.count }}\n",
        )],
        change: &[ONE_MORE_WORKER],
        rolled: &["demo-worker"],
    },
];

const PER_MEMBER_ID: Change = Change::Write(
    "files/members/worker/etc/worker/id.j2",
    "id={{ member.node_id }}\n",
);

/// Renders the two-role repository with `changes` applied.
fn hashes_with(changes: &[&[Change]]) -> (BTreeMap<String, String>, String) {
    hashes_after(|root| {
        for change in changes.iter().flat_map(|list| list.iter()) {
            change.apply(root);
        }
    })
}

#[test]
fn each_change_rolls_exactly_the_roles_whose_pods_consume_it() {
    let mut failures = Vec::new();
    for case in CASES {
        let (before, _) = hashes_with(&[case.setup]);
        let (after, _) = hashes_with(&[case.setup, case.change]);
        let rolled = changed(&before, &after);
        if rolled != case.rolled {
            failures.push(format!(
                "{}: rolled {rolled:?}, not {:?}",
                case.what, case.rolled
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_baseline_hashes_every_statefulset() {
    let (hashes, _) = hashes_after(|_| {});
    assert_eq!(hashes.keys().collect::<Vec<_>>(), BOTH);
    assert_ne!(hashes["demo-coordinator"], hashes["demo-worker"]);
}

#[test]
fn configmeta_updates_in_place_when_a_roles_resources_change() {
    // The worker's flavor is in configmeta.json, which changes without restarting anyone.
    let (_, before) = hashes_with(&[]);
    let (_, after) = hashes_with(&[&[WORKER_CPU]]);
    let meta = |stream: &str| {
        object(&documents(stream), "ConfigMap", "demo-configmeta")["data"]["configmeta.json"]
            .clone()
    };
    assert_ne!(meta(&before), meta(&after));
}

#[test]
fn a_scale_out_adds_the_member_and_its_own_files() {
    let (_, stream) = hashes_with(&[&[PER_MEMBER_ID, ONE_MORE_WORKER]]);
    let docs = documents(&stream);
    assert_eq!(
        object(&docs, "StatefulSet", "demo-worker")["spec"]["replicas"],
        3
    );
    assert_eq!(
        object(&docs, "ConfigMap", "demo-worker-files")["data"]["demo-worker-2.etc_worker_id"],
        "id=6\n"
    );
}

#[test]
fn the_hash_is_versioned() {
    let (hashes, _) = hashes_after(|_| {});
    assert!(
        hashes
            .values()
            .all(|h| h.starts_with("v2-") && h.len() == 35),
        "{hashes:?}"
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
