//! `kdrender diff` over a fleet: the review leads with its summary, a change made alike in many
//! clusters is shown once with the list of clusters, different changes are never merged,
//! `--stat` gives counts only, `--cluster` narrows the review, and the JSON format carries the
//! same grouping.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;

use common::*;
use serde_json::{Value, json};

/// The two-role app with `clusters` (name, namespace), committed.
fn fleet(clusters: &[(&str, &str)]) -> tempfile::TempDir {
    let repo = repo(&[("app.yaml", TWO_ROLE_APP)]);
    write_two_role_templates(repo.path(), "files");
    for (name, namespace) in clusters {
        let cluster = two_role_cluster_named(name).replace(
            &format!("name: {name}\n"),
            &format!("name: {name}\n  namespace: {namespace}\n"),
        );
        write(repo.path(), &format!("clusters/{name}.yaml"), &cluster);
    }
    git(repo.path(), &["init", "-q"]);
    commit_all(repo.path(), "base");
    repo
}

/// `n` clusters `c00`, `c01`, … in namespace `prod`.
fn numbered(n: usize) -> Vec<(String, &'static str)> {
    (0..n).map(|i| (format!("c{i:02}"), "prod")).collect()
}

fn fleet_of(clusters: &[(String, &str)]) -> tempfile::TempDir {
    let refs: Vec<(&str, &str)> = clusters.iter().map(|(n, ns)| (n.as_str(), *ns)).collect();
    fleet(&refs)
}

/// One template edit: a line more in every coordinator's config file, whose first line lists
/// the cluster's own FQDNs.
fn edit_coordinator_template(repo: &Path) {
    edit(
        repo,
        "files/roles/coordinator/etc/coord/coord.conf.j2",
        "join(',') }}\n",
        "join(',') }}\ntickTime=2000\n",
    );
}

fn text(repo: &Path, args: &[&str]) -> String {
    let mut all = vec!["diff", "--color", "never"];
    all.extend_from_slice(args);
    all.push(".");
    run(&all, repo).ok()
}

fn json_plan(repo: &Path, args: &[&str]) -> Value {
    let mut all = vec!["diff", "--format", "json"];
    all.extend_from_slice(args);
    all.push(".");
    serde_json::from_str(&run(&all, repo).ok()).unwrap()
}

fn group_clusters(plan: &Value) -> Vec<Vec<String>> {
    plan["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            g["clusters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    format!(
                        "{}/{}",
                        c["namespace"].as_str().unwrap(),
                        c["name"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_review_leads_with_its_summary_and_shows_a_change_made_in_many_clusters_once() {
    let clusters = numbered(12);
    let repo = fleet_of(&clusters);
    edit_coordinator_template(repo.path());
    let review = text(repo.path(), &[]);
    let lines: Vec<&str> = review.lines().collect();
    assert!(lines[0].starts_with("kdrender diff: HEAD ("), "{review}");
    assert_eq!(
        lines[1..7],
        [
            "",
            "Summary",
            "  clusters      12 changed, 1 distinct change",
            "  objects       0 added, 0 removed, 24 changed",
            "  StatefulSets  12 restarted, 0 notified in place; 0 scaled, 0 created, 0 pruned",
            "  warnings      none",
        ],
        "{review}"
    );
    assert_eq!(
        lines[8], "12 clusters: prod/c00, prod/c01, prod/c02, prod/c03, prod/c04 and 7 more",
        "{review}"
    );
    // The change is shown once: one restart, one hunk per object, for the first cluster.
    assert_eq!(review.matches("  restart  ").count(), 1, "{review}");
    assert_eq!(review.matches("+    tickTime=2000").count(), 1, "{review}");
    assert!(review.contains("  restart  prod/c00-coordinator (cluster c00, role coordinator)"));
    assert!(!review.contains("c11-coordinator"), "{review}");

    // The review's length does not grow with the fleet: 12 clusters read as 3 do.
    let small = fleet_of(&numbered(3));
    edit_coordinator_template(small.path());
    assert_eq!(text(small.path(), &[]).lines().count(), lines.len());
}

#[test]
fn different_changes_are_never_merged() {
    let repo = fleet(&[
        ("db", "prod"),
        ("db2", "prod"),
        ("mydb", "prod"),
        ("odd", "prod"),
        ("other", "staging"),
    ]);
    edit_coordinator_template(repo.path());
    // odd also gets more worker CPU: its change is not the others'.
    edit(repo.path(), "clusters/odd.yaml", "cpu: \"2\"", "cpu: \"3\"");
    let plan = json_plan(repo.path(), &[]);
    assert_eq!(
        group_clusters(&plan),
        [
            vec!["prod/db", "prod/db2", "prod/mydb", "staging/other"],
            vec!["prod/odd"],
        ]
    );
    assert_eq!(plan["groups"][1]["restarts"], 2);
    let review = text(repo.path(), &[]);
    assert!(review.contains("\nCluster prod/odd\n"), "{review}");
    assert!(review.contains("  restart  prod/odd-worker (cluster odd, role worker)"));

    // The same template edited two ways (the value depends on the cluster's namespace) is two
    // changes, never one.
    let repo = fleet(&[("a", "prod"), ("b", "prod"), ("c", "staging")]);
    edit(
        repo.path(),
        "files/roles/worker/etc/worker/worker.conf.j2",
        "threads=4",
        "threads={% if cluster.namespace == 'staging' %}16{% else %}8{% endif %}",
    );
    let plan = json_plan(repo.path(), &[]);
    assert_eq!(
        group_clusters(&plan),
        [vec!["prod/a", "prod/b"], vec!["staging/c"]],
        "{plan:#}"
    );
}

#[test]
fn stat_gives_counts_only() {
    let repo = fleet_of(&numbered(4));
    edit_coordinator_template(repo.path());
    edit(repo.path(), "clusters/c03.yaml", "members: 2", "members: 3");
    let stat = text(repo.path(), &["--stat"]);
    assert!(!stat.contains("@@"), "{stat}");
    assert!(!stat.contains("tickTime"), "{stat}");
    assert!(stat.contains("\nSummary\n"), "{stat}");
    assert!(
        stat.contains(
            "\n3 clusters: prod/c00, prod/c01, prod/c02\n  the same change in each, shown for prod/c00; names, ids and rollout hashes are each cluster's own\n  ConfigMap/c00-coordinator-files | +1 -0\n  StatefulSet/c00-coordinator     | +1 -1, restarted\n  0 added, 0 removed, 2 changed; 2 insertions(+), 1 deletion(-)\n"
        ),
        "{stat}"
    );
    assert!(stat.contains("\nCluster prod/c03\n"), "{stat}");
    assert!(stat.contains("  Service/c03-worker-2"), "{stat}");
    assert!(stat.contains("| added\n"), "{stat}");

    // JSON: the same document with counts instead of the unified diffs.
    let plan = json_plan(repo.path(), &["--stat"]);
    let changed = plan["objects"]["changed"].as_array().unwrap();
    assert!(!changed.is_empty());
    assert!(changed.iter().all(|c| c.get("diff").is_none()), "{plan:#}");
    assert_eq!(
        changed[0],
        json!({"namespace": "prod", "cluster": "c00", "kind": "ConfigMap", "name": "c00-coordinator-files", "insertions": 1, "deletions": 0})
    );
    assert_eq!(plan["summary"]["groups"], 2);
}

#[test]
fn cluster_narrows_the_review_to_the_clusters_named() {
    let repo = fleet_of(&numbered(4));
    edit_coordinator_template(repo.path());
    std::fs::remove_file(repo.path().join("clusters/c03.yaml")).unwrap();
    let plan = json_plan(repo.path(), &["--cluster", "c01", "--cluster", "c03"]);
    assert_eq!(group_clusters(&plan), [vec!["prod/c01"], vec!["prod/c03"]]);
    let clusters: std::collections::BTreeSet<&str> = ["added", "removed", "changed"]
        .iter()
        .flat_map(|list| plan["objects"][list].as_array().unwrap())
        .map(|o| o["cluster"].as_str().unwrap())
        .collect();
    assert_eq!(clusters, ["c01", "c03"].into());
    // A cluster removed in the working tree can be named: it is rendered at the base.
    assert!(plan["summary"]["objects"]["removed"].as_u64().unwrap() > 0);

    // A name neither side renders is an error, with the nearest name.
    let refused = run(&["diff", "--cluster", "c1", "."], repo.path())
        .refused("error: --cluster names \"c1\", which is not a KubeDirectorCluster below PATH");
    assert!(refused.contains("did you mean \"c01\"?"), "{refused}");
}

#[test]
fn the_json_format_carries_the_summary_and_the_groups() {
    let repo = fleet_of(&numbered(3));
    edit_coordinator_template(repo.path());
    edit(
        repo.path(),
        "clusters/c02.yaml",
        "storage:\n      size: 5Gi",
        "storage:\n      size: 9Gi",
    );
    let plan = json_plan(repo.path(), &[]);
    assert_eq!(plan["version"], 2);
    assert_eq!(
        plan["summary"],
        json!({
            "clusters": 3,
            "groups": 2,
            // c02's configmeta.json changes too: its coordinator's flavor names the storage.
            "objects": {"added": 0, "removed": 0, "changed": 7},
            "statefulsets": {"restarted": 3, "notified_in_place": 0, "scaled": 0, "created": 0, "pruned": 0},
            "warnings": {"total": 1, "by_kind": {"immutable-field": 1}},
        })
    );
    assert_eq!(
        plan["groups"],
        json!([
            {
                "clusters": [{"namespace": "prod", "name": "c00"}, {"namespace": "prod", "name": "c01"}],
                "count": 2,
                "objects": {"added": 0, "removed": 0, "changed": 2},
                "restarts": 1,
                "warnings": 0,
            },
            {
                "clusters": [{"namespace": "prod", "name": "c02"}],
                "count": 1,
                "objects": {"added": 0, "removed": 0, "changed": 3},
                "restarts": 1,
                "warnings": 1,
            },
        ])
    );
    // The flat lists keep every cluster.
    assert_eq!(plan["rollout"]["restarts"].as_array().unwrap().len(), 3);
}
