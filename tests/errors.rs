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

/// What a case writes into the two-role repository.
#[derive(Debug)]
enum Input {
    /// cluster.yaml, with the first `from` replaced by `to`.
    Cluster(&'static str, &'static str),
    /// app.yaml, with the first `from` replaced by `to`.
    App(&'static str, &'static str),
    /// A file of its own (a new one, or a template replaced).
    File(&'static str, &'static [u8]),
}

impl Input {
    /// Writes the input into the repository at `root`.
    fn write(&self, root: &std::path::Path) {
        match *self {
            Input::Cluster(from, to) => write(root, "cluster.yaml", &cluster_with(from, to)),
            Input::App(from, to) => write(root, "app.yaml", &app_with(from, to)),
            Input::File(path, bytes) => {
                std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
                std::fs::write(root.join(path), bytes).unwrap();
            }
        }
    }
}

/// What the first line of the report must be.
#[derive(Debug)]
enum Line {
    Is(&'static str),
    StartsWith(&'static str),
    Contains(&'static str),
}

impl Line {
    fn holds(&self, line: &str) -> bool {
        match *self {
            Line::Is(text) => line == text,
            Line::StartsWith(text) => line.starts_with(text),
            Line::Contains(text) => line.contains(text),
        }
    }
}

/// One bad input: the report's first line names the file, the line and the problem (each of
/// `first` holds for it), and the whole report contains each of `report`.
struct Case {
    input: Input,
    first: &'static [Line],
    report: &'static [&'static str],
}

const CASES: &[Case] = &[
    // Unknown roles point at the id and suggest the right one; the snippet shows the line.
    Case {
        input: Input::Cluster("id: worker", "id: workr"),
        first: &[Line::Is(
            "error: cluster.yaml:15:9: role \"workr\" is not a role of app \"twotier\"",
        )],
        report: &["did you mean \"worker\"?", "- id: workr"],
    },
    // Cardinality is enforced both ways.
    Case {
        input: Input::Cluster("  - id: coordinator\n", "  - id: coordinator\n    members: 2\n"),
        first: &[Line::Is(
            "error: cluster.yaml:9:14: role \"coordinator\" has 2 member(s), but app \"twotier\" gives it cardinality \"3\" (exactly 3)",
        )],
        report: &[],
    },
    Case {
        input: Input::Cluster("members: 2", "members: 0"),
        first: &[Line::Contains("cardinality \"1+\" (at least 1)")],
        report: &[],
    },
    // Schema violations name the field and suggest spellings.
    Case {
        input: Input::Cluster("members: 2", "membrs: 2"),
        first: &[Line::Is(
            "error: cluster.yaml:16:5: unknown field `membrs` in spec.roles[1]",
        )],
        report: &["did you mean \"members\"?"],
    },
    Case {
        input: Input::Cluster("        memory: 2Gi\n", ""),
        first: &[Line::Is(
            "error: cluster.yaml:18:7: spec.roles[1].resources.limits is missing the required field `memory`",
        )],
        report: &[],
    },
    Case {
        input: Input::Cluster("cpu: \"2\"", "cpu: \"2 cores\""),
        first: &[Line::Is(
            "error: cluster.yaml:19:14: spec.roles[1].resources.limits.cpu: \"2 cores\" does not have the required form",
        )],
        report: &["A Kubernetes quantity"],
    },
    // References between documents are checked (the app name has a Cyrillic е).
    Case {
        input: Input::Cluster("app: twotier", "app: twotеer"),
        first: &[Line::StartsWith(
            "error: cluster.yaml:6:8: no app named \"twotеer\"",
        )],
        report: &[],
    },
    Case {
        input: Input::App("serviceIDs: [web]", "serviceIDs: [webb]"),
        first: &[Line::StartsWith(
            "error: app.yaml:32:20: service \"webb\" is not defined in this app",
        )],
        report: &[],
    },
    Case {
        input: Input::App("- id: worker", "- id: coordinator"),
        first: &[Line::Contains("role id \"coordinator\" appears twice")],
        report: &[],
    },
    // Resource rules are checked.
    Case {
        input: Input::Cluster(
            "        memory: 2Gi\n",
            "        memory: 2Gi\n      requests:\n        memory: 3Gi\n",
        ),
        first: &[Line::Contains(
            "requests 3Gi of memory, more than its limit of 2Gi",
        )],
        report: &[],
    },
    Case {
        input: Input::App(
            "    eventList: [configure]\n",
            "    eventList: [configure]\n    minResources: {memory: 4Gi}\n",
        ),
        first: &[Line::Contains(
            "role \"worker\" requests no memory, below app \"twotier\"'s minResources of 4Gi",
        )],
        report: &[],
    },
    Case {
        input: Input::App(
            "    cardinality: \"3\"\n",
            "    cardinality: \"3\"\n    minStorage: {size: 8Gi}\n",
        ),
        first: &[Line::Contains(
            "has 5Gi of storage; app \"twotier\" needs at least 8Gi",
        )],
        report: &[],
    },
    Case {
        input: Input::Cluster("members: 2", "members: 1000"),
        first: &[Line::Contains(
            "has 1003 members in all; at most 1000 are allowed",
        )],
        report: &[],
    },
    // Syntax errors and bad encodings name the file.
    Case {
        input: Input::File(
            "cluster.yaml",
            b"apiVersion: v1\nkind: [KubeDirectorCluster\nspec: {}\n",
        ),
        first: &[
            Line::StartsWith("error: cluster.yaml:"),
            Line::Contains("YAML syntax"),
        ],
        report: &[],
    },
    Case {
        input: Input::File("broken.yaml", b"kind: \xff\xfe\n"),
        first: &[Line::StartsWith("error: broken.yaml is not valid UTF-8")],
        report: &[],
    },
    Case {
        input: Input::File("cluster.json", b"{\"kind\": \"KubeDirectorCluster\",}"),
        first: &[Line::StartsWith("error: cluster.json:1:")],
        report: &[],
    },
    // Template errors name the template, the line and the undefined name.
    Case {
        input: Input::File(
            "files/roles/worker/etc/worker/worker.conf.j2",
            b"threads=4\nid={{ member.ordinal }}\n",
        ),
        first: &[Line::Is(
            "error: files/roles/worker/etc/worker/worker.conf.j2:2:7: template error: `member` is undefined",
        )],
        report: &["id={{ member.ordinal }}"],
    },
    Case {
        input: Input::File("files/roles/workers/etc/x.j2", b"x\n"),
        first: &[Line::Contains(
            "\"workers\" is not a role of app \"twotier\"",
        )],
        report: &[],
    },
    Case {
        input: Input::File("files/roles/worker/etc/plain.conf", b"x\n"),
        first: &[Line::Contains(
            "is not a template: template names end in .j2",
        )],
        report: &[],
    },
    Case {
        input: Input::File(
            "files/roles/worker/etc/loop.j2",
            b"{% for i in range(10000) %}{% for j in range(10000) %}{{ i }}{% endfor %}{% endfor %}",
        ),
        first: &[Line::Contains("engine ran out of fuel")],
        report: &[],
    },
];

/// What is wrong with the report `case` gets, if anything.
fn problem_with(case: &Case) -> Option<String> {
    let repo = two_role_repo();
    case.input.write(repo.path());
    let result = run(&["render", "."], repo.path());
    let first = result.stderr.lines().next().unwrap_or_default();
    let wrong = if result.code != 1 || !result.stdout.is_empty() {
        "not exit 1 with nothing on stdout"
    } else if !case.first.iter().all(|line| line.holds(first)) {
        "the first line is not the expected one"
    } else if !case.report.iter().all(|text| result.stderr.contains(text)) {
        "the report lacks an expected part"
    } else {
        return None;
    };
    Some(format!(
        "{:?} (first line {:?}): {wrong}; exit {}:\n{}",
        case.input, case.first, result.code, result.stderr
    ))
}

#[test]
fn every_bad_input_gets_a_report_that_names_file_line_and_problem() {
    let failures: Vec<String> = CASES.iter().filter_map(problem_with).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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
