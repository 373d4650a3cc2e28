//! Every bad input gets a clear message naming file, line and problem, exit 1, and nothing on
//! stdout; every problem is reported, not only the first.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

/// The two-role repository with one file replaced; returns the first line of the error report.
fn first_error(path: &str, text: &str) -> (String, String) {
    let repo = two_role_repo();
    write(repo.path(), path, text);
    let stderr = run(&["render", "."], repo.path()).invalid();
    (
        stderr.lines().next().unwrap_or_default().to_string(),
        stderr,
    )
}

fn cluster_with(from: &str, to: &str) -> String {
    assert!(TWO_ROLE_CLUSTER.contains(from), "{from}");
    TWO_ROLE_CLUSTER.replacen(from, to, 1)
}

fn app_with(from: &str, to: &str) -> String {
    assert!(TWO_ROLE_APP.contains(from), "{from}");
    TWO_ROLE_APP.replacen(from, to, 1)
}

#[test]
fn unknown_roles_point_at_the_id_and_suggest_the_right_one() {
    let (first, report) = first_error("cluster.yaml", &cluster_with("id: worker", "id: workr"));
    assert_eq!(
        first,
        "error: cluster.yaml:15:9: role \"workr\" is not a role of app \"twotier\""
    );
    assert!(report.contains("did you mean \"worker\"?"), "{report}");
    assert!(
        report.contains("- id: workr"),
        "the snippet shows the line: {report}"
    );
}

#[test]
fn cardinality_is_enforced_both_ways() {
    let (first, _) = first_error(
        "cluster.yaml",
        &cluster_with(
            "  - id: coordinator\n",
            "  - id: coordinator\n    members: 2\n",
        ),
    );
    assert_eq!(
        first,
        "error: cluster.yaml:9:14: role \"coordinator\" has 2 member(s), but app \"twotier\" gives it cardinality \"3\" (exactly 3)"
    );
    let (first, _) = first_error("cluster.yaml", &cluster_with("members: 2", "members: 0"));
    assert!(first.contains("cardinality \"1+\" (at least 1)"), "{first}");
}

#[test]
fn schema_violations_name_the_field_and_suggest_spellings() {
    let (first, report) = first_error("cluster.yaml", &cluster_with("members: 2", "membrs: 2"));
    assert_eq!(
        first,
        "error: cluster.yaml:16:5: unknown field `membrs` in spec.roles[1]"
    );
    assert!(report.contains("did you mean \"members\"?"), "{report}");
    let (first, _) = first_error("cluster.yaml", &cluster_with("        memory: 2Gi\n", ""));
    assert_eq!(
        first,
        "error: cluster.yaml:18:7: spec.roles[1].resources.limits is missing the required field `memory`"
    );
    let (first, report) = first_error(
        "cluster.yaml",
        &cluster_with("cpu: \"2\"", "cpu: \"2 cores\""),
    );
    assert_eq!(
        first,
        "error: cluster.yaml:19:14: spec.roles[1].resources.limits.cpu: \"2 cores\" does not have the required form"
    );
    assert!(report.contains("A Kubernetes quantity"), "{report}");
}

#[test]
fn references_between_documents_are_checked() {
    let (first, _) = first_error(
        "cluster.yaml",
        &cluster_with("app: twotier", "app: twotеer"),
    );
    assert!(
        first.starts_with("error: cluster.yaml:6:8: no app named \"twotеer\""),
        "{first}"
    );
    let (first, _) = first_error(
        "app.yaml",
        &app_with("serviceIDs: [web]", "serviceIDs: [webb]"),
    );
    assert!(
        first.starts_with("error: app.yaml:32:20: service \"webb\" is not defined in this app"),
        "{first}"
    );
    let (first, _) = first_error("app.yaml", &app_with("- id: worker", "- id: coordinator"));
    assert!(
        first.contains("role id \"coordinator\" appears twice"),
        "{first}"
    );
}

#[test]
fn resource_rules_are_checked() {
    let (first, _) = first_error(
        "cluster.yaml",
        &cluster_with(
            "        memory: 2Gi\n",
            "        memory: 2Gi\n      requests:\n        memory: 3Gi\n",
        ),
    );
    assert!(
        first.contains("requests 3Gi of memory, more than its limit of 2Gi"),
        "{first}"
    );
    let (first, _) = first_error(
        "app.yaml",
        &app_with(
            "    eventList: [configure]\n",
            "    eventList: [configure]\n    minResources: {memory: 4Gi}\n",
        ),
    );
    assert!(
        first
            .contains("role \"worker\" requests 2Gi of memory; app \"twotier\" needs at least 4Gi"),
        "{first}"
    );
    let (first, _) = first_error(
        "app.yaml",
        &app_with(
            "    cardinality: \"3\"\n",
            "    cardinality: \"3\"\n    minStorage: {size: 8Gi}\n",
        ),
    );
    assert!(
        first.contains("has 5Gi of storage; app \"twotier\" needs at least 8Gi"),
        "{first}"
    );
    let (first, _) = first_error("cluster.yaml", &cluster_with("members: 2", "members: 1000"));
    assert!(
        first.contains("has 1003 members in all; at most 1000 are allowed"),
        "{first}"
    );
}

#[test]
fn kubernetes_name_budgets_are_enforced_at_render_time() {
    let long = "a-cluster-name-that-is-far-too-long-for-its-roles";
    let (first, report) = first_error(
        "cluster.yaml",
        &cluster_with("name: demo", &format!("name: {long}")),
    );
    assert!(
        first.contains(&format!(
            "StatefulSet name \"{long}-coordinator\" is 61 characters long; at most 52"
        )),
        "{first}"
    );
    assert!(report.contains("controller-revision-hash"), "{report}");
    let (first, _) = first_error("cluster.yaml", &cluster_with("name: demo", "name: 9lives"));
    assert!(
        first.contains(
            "cluster name \"9lives\" cannot name its Service: \"9lives\" must begin with a letter"
        ),
        "{first}"
    );
}

#[test]
fn syntax_errors_and_bad_encodings_name_the_file() {
    let (first, _) = first_error(
        "cluster.yaml",
        "apiVersion: v1\nkind: [KubeDirectorCluster\nspec: {}\n",
    );
    assert!(first.starts_with("error: cluster.yaml:"), "{first}");
    assert!(first.contains("YAML syntax"), "{first}");
    let repo = two_role_repo();
    std::fs::write(repo.path().join("broken.yaml"), b"kind: \xff\xfe\n").unwrap();
    let stderr = run(&["render", "."], repo.path()).invalid();
    assert!(
        stderr.starts_with("error: broken.yaml is not valid UTF-8"),
        "{stderr}"
    );
    let (first, _) = first_error("cluster.json", "{\"kind\": \"KubeDirectorCluster\",}");
    assert!(first.starts_with("error: cluster.json:1:"), "{first}");
}

#[test]
fn template_errors_name_the_template_line_and_the_undefined_name() {
    let (first, report) = first_error(
        "files/roles/worker/etc/worker/worker.conf.j2",
        "threads=4\nid={{ member.ordinal }}\n",
    );
    assert_eq!(
        first,
        "error: files/roles/worker/etc/worker/worker.conf.j2:2:7: template error: `member` is undefined"
    );
    assert!(report.contains("id={{ member.ordinal }}"), "{report}");
    let (first, _) = first_error("files/roles/workers/etc/x.j2", "x\n");
    assert!(
        first.contains("\"workers\" is not a role of app \"twotier\""),
        "{first}"
    );
    let (first, _) = first_error("files/roles/worker/etc/plain.conf", "x\n");
    assert!(
        first.contains("is not a template: template names end in .j2"),
        "{first}"
    );
    let (first, _) = first_error(
        "files/roles/worker/etc/loop.j2",
        "{% for i in range(10000) %}{% for j in range(10000) %}{{ i }}{% endfor %}{% endfor %}",
    );
    assert!(first.contains("engine ran out of fuel"), "{first}");
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let repo = two_role_repo();
    write(
        repo.path(),
        "cluster.yaml",
        &cluster_with("id: worker", "id: workr"),
    );
    write(
        repo.path(),
        "other.yaml",
        &cluster_with("name: demo", "name: other").replace("app: twotier", "app: nope"),
    );
    let stderr = run(&["render", "."], repo.path()).invalid();
    assert!(stderr.contains("role \"workr\" is not a role"), "{stderr}");
    assert!(stderr.contains("no app named \"nope\""), "{stderr}");
}

#[test]
fn zero_objects_is_an_error_unless_asked_for() {
    let repo = repo(&[("app.yaml", TWO_ROLE_APP)]);
    let stderr = run(&["render", "."], repo.path()).invalid();
    assert!(stderr.starts_with("error: no objects rendered"), "{stderr}");
    let result = run(&["render", ".", "--allow-empty"], repo.path());
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(result.stdout.is_empty());
}

#[test]
fn dot_folders_and_other_kinds_are_not_inputs() {
    let repo = two_role_repo();
    write(
        repo.path(),
        ".github/workflows/ci.yaml",
        "this: is: not: yaml: [",
    );
    write(
        repo.path(),
        "extra/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    let result = run(&["render", "."], repo.path());
    assert_eq!(result.code, 0, "{}", result.stderr);
    let validate = run(&["validate", "."], repo.path());
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert!(
        validate
            .stderr
            .contains("note: extra/configmap.yaml:1:1: a ConfigMap document, not an input"),
        "{}",
        validate.stderr
    );
}

#[test]
fn secret_values_never_reach_the_output() {
    let repo = two_role_repo();
    write(
        repo.path(),
        "cluster.yaml",
        &cluster_with(
            "        memory: 2Gi\n",
            "        memory: 2Gi\n    secretKeys:\n    - name: db-password\n      value: hunter2-very-secret\n",
        ),
    );
    let result = run(&["render", "."], repo.path());
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(!result.stdout.contains("hunter2-very-secret"));
    assert!(!result.stderr.contains("hunter2-very-secret"));
    assert!(
        result.stderr.contains("secretKeys are not rendered"),
        "{}",
        result.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    let repo = two_role_repo();
    let result = run(&["render", "--no-such-flag"], repo.path());
    assert_eq!(result.code, 2);
    assert!(result.stdout.is_empty());
    let result = run(&["schema", "nonsense"], repo.path());
    assert_eq!(result.code, 2);
    assert!(
        result.stderr.contains("known: app, cluster, settings"),
        "{}",
        result.stderr
    );
}

#[test]
fn validate_reports_problems_without_printing_objects() {
    let repo = two_role_repo();
    write(
        repo.path(),
        "cluster.yaml",
        &cluster_with("id: worker", "id: workr"),
    );
    let result = run(&["validate", "."], repo.path());
    assert_eq!(result.code, 1);
    assert!(result.stdout.is_empty());
    assert!(
        result
            .stderr
            .ends_with("checked 1 app(s) and 1 cluster(s): 1 error(s), 0 warning(s)\n"),
        "{}",
        result.stderr
    );
}

#[test]
fn validate_checks_apps_that_no_cluster_uses_and_render_does_not() {
    let repo = two_role_repo();
    write(
        repo.path(),
        "unused-app.yaml",
        &app_with("name: twotier", "name: unused")
            .replace("cardinality: \"3\"", "cardinality: \"three\""),
    );
    assert_eq!(run(&["render", "."], repo.path()).code, 0);
    let stderr = run(&["validate", "."], repo.path()).invalid();
    assert!(stderr.contains("unused-app.yaml"), "{stderr}");
}

#[test]
fn reports_never_print_control_or_bidi_characters_from_the_inputs_raw() {
    // An escape sequence that would erase the line, and a right-to-left override, in a cluster
    // name that a report quotes in its message and its snippet.
    let cluster = cluster_with("name: demo", "name: \"x\u{1b}[2K\u{202e}y\"");
    let (_, stderr) = first_error("cluster.yaml", &cluster);
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{202e}'),
        "{stderr:?}"
    );
    assert!(stderr.contains("x\\u{1b}[2K\\u{202e}y"), "{stderr}");
}

#[test]
fn snippets_of_crlf_files_number_their_lines_and_show_no_carriage_returns() {
    let cluster = cluster_with("spec:\n", "spec:\n  nonsense: 1\n").replace('\n', "\r\n");
    let (first, stderr) = first_error("cluster.yaml", &cluster);
    assert!(first.contains("cluster.yaml:6:"), "{stderr}");
    let numbered: Vec<&str> = stderr
        .lines()
        .filter_map(|line| line.trim_start().split_once(" │ ").map(|(n, _)| n))
        .collect();
    assert_eq!(numbered, ["5", "6", "7"], "{stderr}");
    assert!(
        !stderr.contains('\r') && !stderr.contains("\\u{d}"),
        "{stderr:?}"
    );
}
