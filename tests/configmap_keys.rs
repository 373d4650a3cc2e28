//! Config files reach pods through a ConfigMap key per file (`etc/a/b` → `etc_a_b`, per member
//! `<pod>.<key>`). Two files under one key once meant one silently got the other's content;
//! keys Kubernetes refuses, and a ConfigMap over 1 MiB, failed only at apply time. All are
//! refused at render time, naming the templates.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

/// The two-role repository with more templates; returns the run.
fn with_templates(templates: &[(&str, &str)]) -> Run {
    let repo = two_role_repo();
    for (path, text) in templates {
        write(repo.path(), &format!("files/{path}"), text);
    }
    run(&["render", "."], repo.path())
}

fn first_line(report: &str) -> &str {
    report.lines().next().unwrap_or_default()
}

#[test]
fn two_paths_with_one_key_are_refused_naming_both_templates() {
    let report = with_templates(&[
        ("roles/worker/etc/a_b.j2", "one\n"),
        ("roles/worker/etc/a/b.j2", "two\n"),
    ])
    .invalid();
    assert_eq!(
        first_line(&report),
        "error: files/roles/worker/etc/a_b.j2:1:1: files/roles/worker/etc/a/b.j2 and files/roles/worker/etc/a_b.j2 both write key \"etc_a_b\" of ConfigMap demo-worker-files: one file would get the other's content"
    );
    // A file for every role clashes with a role's own file too.
    let report = with_templates(&[
        ("all/etc/x_y.conf.j2", "one\n"),
        ("roles/worker/etc/x/y.conf.j2", "two\n"),
    ])
    .invalid();
    assert!(
        first_line(&report)
            .contains("both write key \"etc_x_y.conf\" of ConfigMap demo-worker-files"),
        "{report}"
    );
}

#[test]
fn a_shared_file_named_like_a_members_key_is_refused() {
    // demo-coordinator-1.var_lib_coord_myid is member 1's copy of the per-member myid file.
    let report = with_templates(&[(
        "roles/coordinator/demo-coordinator-1.var_lib_coord_myid.j2",
        "not a member's id\n",
    )])
    .invalid();
    let first = first_line(&report);
    assert!(
        first.contains("files/members/coordinator/var/lib/coord/myid.j2")
            && first.contains("files/roles/coordinator/demo-coordinator-1.var_lib_coord_myid.j2")
            && first.contains("both write key \"demo-coordinator-1.var_lib_coord_myid\" of ConfigMap demo-coordinator-files"),
        "{report}"
    );
}

#[test]
fn keys_kubernetes_refuses_are_refused_at_render_time() {
    // File names stop at 255 bytes; keys join folders too.
    let folder = "a".repeat(100);
    let long = format!("etc/{folder}/{folder}/{}.conf", "a".repeat(60));
    let report = with_templates(&[(&format!("roles/worker/{long}.j2"), "x\n")]).invalid();
    assert!(
        first_line(&report).ends_with(&format!(
            "writes key \"{}\" of ConfigMap demo-worker-files, which is 271 characters long; Kubernetes allows at most 253",
            long.replace('/', "_")
        )),
        "{report}"
    );
    // Per member the pod name comes first: short enough alone, too long with it.
    let member = format!("var/{}", "b".repeat(245));
    let report = with_templates(&[(&format!("members/worker/{member}.j2"), "x\n")]).invalid();
    assert!(
        first_line(&report).ends_with(&format!(
            "writes key \"demo-worker-0.var_{}\" of ConfigMap demo-worker-files, which is 263 characters long; Kubernetes allows at most 253",
            "b".repeat(245)
        )),
        "{report}"
    );
}

#[test]
fn a_configmap_over_a_mebibyte_is_refused_naming_the_template_that_filled_it() {
    // 600 kB per member: the second member's copy passes Kubernetes' limit.
    let report = with_templates(&[(
        "members/worker/etc/big.j2",
        "{% for i in range(600) %}{{ 'x' * 1000 }}{% endfor %}",
    )])
    .invalid();
    assert!(
        first_line(&report).starts_with(
            "error: files/members/worker/etc/big.j2:1:1: ConfigMap demo-worker-files would hold more than 1048576 bytes with files/members/worker/etc/big.j2 (600000 bytes for key \"demo-worker-1.etc_big\")"
        ),
        "{report}"
    );
    let report = with_templates(&[
        ("roles/worker/etc/half.j2", "{{ 'x' * 600000 }}"),
        ("roles/worker/etc/other.j2", "{{ 'y' * 600000 }}"),
    ])
    .invalid();
    assert!(
        first_line(&report).contains("ConfigMap demo-worker-files would hold more than 1048576 bytes with files/roles/worker/etc/other.j2"),
        "{report}"
    );
}

#[test]
fn distinct_keys_and_a_full_configmap_still_render() {
    let stream = with_templates(&[
        ("roles/worker/etc/a.b.j2", "dots\n"),
        ("roles/worker/etc/a-b.j2", "dash\n"),
        ("members/worker/etc/a_c.j2", "{{ member.ordinal }}\n"),
        ("roles/worker/etc/fill.j2", "{{ 'x' * 1000000 }}"),
    ])
    .ok();
    let docs = documents(&stream);
    let data = &object(&docs, "ConfigMap", "demo-worker-files")["data"];
    assert_eq!(data["etc_a.b"], "dots\n");
    assert_eq!(data["etc_a-b"], "dash\n");
    assert_eq!(data["demo-worker-1.etc_a_c"], "1\n");
}
