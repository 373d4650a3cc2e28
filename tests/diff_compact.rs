//! `kdrender diff` holds neither render's object trees: the base is kept as compact text and
//! each cluster of the working tree is compared with it as soon as it is rendered. On a fleet
//! with several different changes (groups), clusters removed, added, scaled and an object that
//! moves to another cluster, its report is byte for byte the one the two renders' whole object
//! trees give, compared at once.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;

use common::*;
use kdrender::diff::{Base, fleet, json, plan, text};
use kdrender::options::InputOptions;
use kdrender::pipeline;
use kdrender::render::Object;
use kdrender::validate::Scope;

/// Every object PATH renders, trees and all (the way `diff` compared before it kept text).
fn objects(path: &Path) -> Vec<Object> {
    let options = InputOptions {
        path: path.to_path_buf(),
        root: path.to_path_buf(),
        overrides: Default::default(),
        kube_version: None,
        files: kdrender::load::Files::Disk,
    };
    pipeline::render_objects(&options, Scope::UsedApps, usize::MAX)
        .unwrap_or_else(|failure| panic!("{}", failure.report()))
        .objects
}

/// The text and JSON reports of the whole trees of `base` and `head` compared at once.
fn whole_trees(base: &Path, head: &Path, commit: &str) -> (String, String) {
    let (base, head) = (objects(base), objects(head));
    let plan = plan::plan(&base, &head);
    let groups = fleet::group(&plan, &base, &head);
    let shown = Base {
        revision: "HEAD",
        commit: Some(commit),
        path: "",
    };
    (
        text::render(&plan, &groups, &shown, false, false),
        json::render(&plan, &groups, &shown, false),
    )
}

fn cluster(name: &str, namespace: &str) -> String {
    two_role_cluster_named(name).replace(
        &format!("name: {name}\n"),
        &format!("name: {name}\n  namespace: {namespace}\n"),
    )
}

#[test]
fn a_fleet_with_different_changes_reads_as_the_whole_trees_compared_at_once() {
    let repo = repo(&[("app.yaml", TWO_ROLE_APP)]);
    write_two_role_templates(repo.path(), "files");
    for i in 0..48 {
        let namespace = if i % 4 == 3 { "staging" } else { "prod" };
        let name = format!("c{i:02}");
        write(
            repo.path(),
            &format!("clusters/{name}.yaml"),
            &cluster(&name, namespace),
        );
    }
    git(repo.path(), &["init", "-q"]);
    commit_all(repo.path(), "base");
    let base = tempfile::tempdir().unwrap();
    copy_tree(repo.path(), base.path());
    std::fs::remove_dir_all(base.path().join(".git")).unwrap();
    let commit = git(repo.path(), &["rev-parse", "HEAD"]).trim().to_string();

    // One edit everywhere; some clusters change more, or otherwise.
    let root = repo.path();
    edit(
        root,
        "files/roles/coordinator/etc/coord/coord.conf.j2",
        "join(',') }}\n",
        "join(',') }}\ntickTime=2000\n",
    );
    edit(root, "clusters/c05.yaml", "cpu: \"2\"", "cpu: \"3\"");
    edit(root, "clusters/c09.yaml", "members: 2", "members: 3");
    edit(root, "clusters/c13.yaml", "members: 2", "members: 1");
    edit(root, "clusters/c17.yaml", "size: 5Gi", "size: 9Gi");
    std::fs::remove_file(root.join("clusters/c21.yaml")).unwrap();
    write(root, "clusters/new.yaml", &cluster("new", "prod"));
    // c30 goes; c30-worker-0 comes, whose headless Service is the one c30's first worker had.
    std::fs::remove_file(root.join("clusters/c30.yaml")).unwrap();
    write(
        root,
        "clusters/c30-worker-0.yaml",
        &cluster("c30-worker-0", "prod"),
    );

    let (text, json) = whole_trees(base.path(), root, &commit);
    let review = run(&["diff", "--color", "never", "."], root).ok();
    assert_eq!(review, text);
    let document = run(&["diff", "--format", "json", "."], root).ok();
    assert_eq!(document, json);

    // The fleet is what the test says it is: several groups, and the moved Service is changed
    // (in its new cluster), not removed and added.
    let plan: serde_json::Value = serde_json::from_str(&document).unwrap();
    assert!(plan["summary"]["groups"].as_u64().unwrap() >= 6, "{review}");
    assert!(review.contains("cluster c21 is removed"), "{review}");
    let moved = |list: &str| {
        plan["objects"][list]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["name"] == "c30-worker-0" && o["kind"] == "Service")
            .map(|o| o["cluster"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(moved("changed"), ["c30-worker-0"], "{review}");
    assert!(moved("removed").is_empty() && moved("added").is_empty());
}
