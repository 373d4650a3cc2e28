//! Templates are bounded: what one rendering may build (fuel sized from a ConfigMap's 1 MiB),
//! how deeply its expressions may nest (refused before minijinja's parser and compiler recurse
//! off the end of the stack), the stack its values need, and a backstop for the work minijinja
//! does inside a single step, where fuel does not reach. Each hostile template gets exit 1 and
//! a message naming the template and line, never an abort or gigabytes of memory.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

/// The two-role repository with one more template; returns the run.
fn with_template(path: &str, text: &str) -> Run {
    let repo = two_role_repo();
    write(repo.path(), &format!("files/{path}"), text);
    run(&["render", "."], repo.path())
}

/// The first line of the report for a template that must be refused.
fn refusal(path: &str, text: &str) -> String {
    let report = with_template(path, text).invalid();
    report.lines().next().unwrap_or_default().to_string()
}

/// Asserts that the template `path` (below `files/`) is refused with a first line that names its
/// line 2 and ends with `problem`.
fn assert_refused_at_line_two(path: &str, text: &str, problem: &str) {
    let first = refusal(path, text);
    assert!(
        first.starts_with(&format!("error: files/{path}:2:")) && first.ends_with(problem),
        "{text:.80}: {first}"
    );
}

#[test]
fn one_rendering_builds_at_most_a_few_mebibytes_of_strings() {
    // Each of these builds about 10 MB (the old fuel let them reach 1.28 GB).
    let bombs = [
        "{{ ('x' * 10000000)|length }}",
        "{% set x = 'xxxxxxxxxxxxxxxx' %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{{ x|length }}",
        "{{ ('x' * 10000)|replace('x', 'y' * 1000)|length }}",
        "{{ range(10000)|join('x' * 1000)|length }}",
        "{{ ('a\\n' * 10000)|indent(1000)|length }}",
        "{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}",
    ];
    for bomb in bombs {
        assert_refused_at_line_two(
            "roles/worker/etc/bomb.j2",
            &format!("ok\n{bomb}\n"),
            "template error: engine ran out of fuel",
        );
    }
}

#[test]
fn a_config_file_of_a_mebibyte_still_renders() {
    // What a ConfigMap can hold is well within one rendering's fuel, built either way.
    let stream = with_template(
        "roles/worker/etc/big.j2",
        "{% set x = 'x' * 1000 %}{% for i in range(1000) %}{{ x }}\n{% endfor %}",
    )
    .ok();
    assert!(stream.len() > 1_000_000, "{}", stream.len());
    let doubled = format!(
        "{{% set x = 'xxxxxxxxxxxxxxxx' %}}{}{{{{ x|length }}}}",
        "{% set x = x ~ x %}".repeat(16)
    );
    let stream = with_template("roles/worker/etc/len.j2", &doubled).ok();
    assert!(stream.contains("etc_len: \"1048576\""), "{stream}");
}

/// One expression of each kind, nested or chained `n` deep.
fn chains(n: usize) -> Vec<(&'static str, String)> {
    vec![
        ("not", format!("{{{{ {}true }}}}", "not ".repeat(n))),
        ("minus", format!("{{{{ {}1 }}}}", "-".repeat(n))),
        ("plus", format!("{{{{ 1{} }}}}", " + 1".repeat(n))),
        ("concat", format!("{{{{ 'a'{} }}}}", " ~ 'a'".repeat(n))),
        ("filters", format!("{{{{ 1{} }}}}", "|abs".repeat(n))),
        ("tests", format!("{{{{ 1{} }}}}", " is number".repeat(n))),
        (
            "attributes",
            format!("{{{{ cluster{} }}}}", ".name".repeat(n)),
        ),
        (
            "subscripts",
            format!("{{{{ cluster{} }}}}", "[0]".repeat(n)),
        ),
        ("calls", format!("{{{{ range{} }}}}", "(1)".repeat(n))),
        (
            "conditionals",
            format!("{{{{ 1{} }}}}", " if 1 else 1".repeat(n)),
        ),
        ("and", format!("{{{{ 1{} }}}}", " and 1".repeat(n))),
        (
            "parentheses",
            format!("{{{{ {}1{} }}}}", "(".repeat(n), ")".repeat(n)),
        ),
        (
            "brackets",
            format!("{{{{ {}{} }}}}", "[".repeat(n), "]".repeat(n)),
        ),
        (
            "braces",
            format!("{{{{ {}1{} }}}}", "{'a': ".repeat(n), "}".repeat(n)),
        ),
        ("set", format!("{{% set x = {}1 %}}", "- ".repeat(n))),
    ]
}

#[test]
fn deeply_chained_or_nested_expressions_are_refused_at_their_line() {
    // 30,000 deep: each of these overflowed the stack (exit 134) or hit minijinja's own limit.
    for (kind, expression) in chains(30_000) {
        for path in [
            "roles/worker/etc/deep.j2",
            "members/coordinator/var/lib/deep.j2",
            "all/etc/deep.j2",
        ] {
            let first = refusal(path, &format!("line one\n{expression}\n"));
            assert!(
                first.starts_with(&format!("error: files/{path}:2:")),
                "{kind} in {path}: {first}"
            );
            assert!(
                first.contains("template error: expression nested more than 300 levels deep")
                    || first.contains("template error: template exceeds maximum recursion limits"),
                "{kind} in {path}: {first}"
            );
        }
    }
}

#[test]
fn real_expressions_are_far_from_the_nesting_limit() {
    for (kind, expression) in chains(60) {
        let run = with_template("roles/worker/etc/ok.j2", &format!("{expression}\n"));
        assert!(
            !run.stderr.contains("nested more than"),
            "{kind}: {}",
            run.stderr
        );
    }
}

#[test]
fn deeply_nested_blocks_are_refused_by_minijinja_not_by_the_stack() {
    for (open, close) in [
        ("{% if true %}", "{% endif %}"),
        ("{% for i in [1] %}", "{% endfor %}"),
        ("{% set x %}", "{% endset %}"),
        ("{% filter upper %}", "{% endfilter %}"),
    ] {
        let text = format!("x\n{}{}\n", open.repeat(30_000), close.repeat(30_000));
        for path in ["roles/worker/etc/blocks.j2", "members/worker/etc/blocks.j2"] {
            assert_refused_at_line_two(
                path,
                &text,
                "template error: template exceeds maximum recursion limits",
            );
        }
    }
}

/// The two-role repository with nine more clusters: enough for clusters to render on several
/// threads.
fn many_clusters() -> tempfile::TempDir {
    let repo = two_role_repo();
    for i in 0..9 {
        write(
            repo.path(),
            &format!("cluster-{i}.yaml"),
            &two_role_cluster_named(&format!("c{i}")),
        );
    }
    repo
}

/// `many_clusters` with one more template; returns the run.
fn many_clusters_with(path: &str, text: &str) -> Run {
    let repo = many_clusters();
    write(repo.path(), &format!("files/{path}"), text);
    run(&["render", "."], repo.path())
}

#[test]
fn recursion_to_minijinjas_limit_is_an_error_on_every_thread() {
    let macro_recursion = "{% macro again(n) %}{{ again(n + 1) }}{% endmacro %}{{ again(0) }}";
    let report = many_clusters_with("roles/worker/etc/macro.j2", macro_recursion).invalid();
    assert!(report.contains("recursion limit exceeded"), "{report}");
    let repo = many_clusters();
    write(
        repo.path(),
        "files/include/self.j2",
        "{% for i in [1] %}{% include 'include/self.j2' %}{% endfor %}",
    );
    write(
        repo.path(),
        "files/roles/worker/etc/inc.j2",
        "{% include 'include/self.j2' %}",
    );
    let report = run(&["render", "."], repo.path()).invalid();
    assert!(
        report.contains("recursion limit exceeded")
            || report.contains("error in \"include/self.j2\""),
        "{report}"
    );
}

/// A template that builds lists nested `levels` deep, 60 levels per statement (minijinja's
/// parser allows about 70), once for each of `names`, then does `then`.
fn nested_values(levels: usize, names: &[&str], then: &str) -> String {
    let mut text = String::new();
    for name in names {
        text.push_str(&format!("{{% set {name} = 1 %}}"));
    }
    for _ in 0..levels / 60 {
        for name in names {
            text.push_str(&format!(
                "{{% set {name} = {}{name}{} %}}",
                "[".repeat(60),
                "]".repeat(60)
            ));
        }
    }
    text.push_str(then);
    text
}

#[test]
fn the_deepest_values_fuel_allows_are_dropped_and_walked_without_overflow() {
    // About as deep as a rendering's fuel can nest a value: dropping, printing and comparing
    // it recurses that deep, far past a default thread's 2 MiB or the main thread's 8 MiB.
    let deep = nested_values(80_040, &["a"], "{{ a|length }}");
    for run in [
        with_template("roles/worker/etc/deep.j2", &deep),
        many_clusters_with("roles/worker/etc/deep.j2", &deep),
    ] {
        assert!(run.ok().contains("etc_deep: \"1\""));
    }
    let printed = nested_values(40_020, &["a"], "{{ a }}");
    let stream = with_template("roles/worker/etc/deep.j2", &printed).ok();
    assert!(stream.contains(&format!("{}1{}", "[".repeat(40_020), "]".repeat(40_020))));
    let compared = nested_values(40_020, &["a", "b"], "{{ a == b }}");
    let stream = with_template("roles/worker/etc/deep.j2", &compared).ok();
    assert!(stream.contains("etc_deep: \"True\""), "{stream}");
}

/// Two lists each holding one list twice, doubled `n` times: 2^n leaves behind a few values.
fn doubled(n: usize, leaf: &str, then: &str) -> String {
    format!(
        "{{% set a = {leaf} %}}{{% set b = {leaf} %}}{}{then}",
        "{% set a = [a, a] %}{% set b = [b, b] %}".repeat(n)
    )
}

#[test]
fn printing_a_value_costs_fuel_for_what_it_prints() {
    assert_refused_at_line_two(
        "roles/worker/etc/dag.j2",
        &format!("x\n{}\n", doubled(40, "'xxxxxxxxxx'", "{{ a }}")),
        "template error: printing this value takes more than the remaining fuel",
    );
}

#[test]
fn work_inside_one_step_is_given_up_after_a_deadline() {
    // Comparing the two lists visits 2^40 items inside one instruction, charging no fuel.
    with_template(
        "roles/worker/etc/dag.j2",
        &format!("x\n{}\n", doubled(40, "'x'", "{{ a == b }}")),
    )
    .refused("error: files/roles/worker/etc/dag.j2:1:1: template error: rendering did not finish within 5 s; kdrender gave up on it");
}

#[test]
fn work_inside_one_step_that_allocates_is_given_up() {
    // Turning the doubled list into one string copies a 4 MB leaf 2^20 times; in a release
    // build memory passes the limit first, in a slow debug build the deadline may come first.
    let report = with_template(
        "roles/worker/etc/dag.j2",
        &doubled(20, "'x' * 4000000", "{{ ('' ~ a)|length }}"),
    )
    .invalid();
    let first = report.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: files/roles/worker/etc/dag.j2:1:1: template error: rendering ")
            && first.ends_with("kdrender gave up on it"),
        "{report}"
    );
}

#[test]
fn namespaces_are_not_available() {
    // A namespace can hold itself; printing it then recursed until the stack overflowed.
    let first = refusal(
        "roles/worker/etc/ns.j2",
        "{% set ns = namespace(x=1) %}{% set ns.me = ns %}\n{{ ns }}",
    );
    assert!(
        first.starts_with("error: files/roles/worker/etc/ns.j2:1:")
            && first.contains("namespace() is not available in kdrender templates"),
        "{first}"
    );
}

/// The two-role repository with four workers and `templates` (path below `files/`, text).
fn four_workers_with(templates: &[(&str, &str)]) -> Run {
    let repo = two_role_repo();
    write(
        repo.path(),
        "cluster.yaml",
        &TWO_ROLE_CLUSTER.replace("members: 2", "members: 4"),
    );
    for (path, text) in templates {
        write(repo.path(), &format!("files/{path}"), text);
    }
    run(&["render", "."], repo.path())
}

#[test]
fn a_roles_files_stop_at_the_first_member_that_fails_as_one_rendering_at_a_time_would() {
    // A role's renderings run on the worker together; those after a failure are not reported.
    let report = four_workers_with(&[
        (
            "members/worker/etc/a.j2",
            "{% if member.ordinal >= 1 %}{{ missing_for_member[member.ordinal] }}{% endif %}a\n",
        ),
        ("members/worker/etc/b.j2", "{{ member.ordinal }}\n"),
    ])
    .invalid();
    assert_eq!(report.matches("is undefined").count(), 1, "{report}");
    assert!(
        report.starts_with("error: files/members/worker/etc/a.j2:1:"),
        "{report}"
    );
}

#[test]
fn a_full_configmap_stops_the_roles_files_as_one_rendering_at_a_time_would() {
    // Each member's file is 600 kB: the second fills the role's ConfigMap, and nothing after
    // it is rendered or reported, although the worker may have rendered more.
    let report = four_workers_with(&[
        ("members/worker/etc/big.j2", "{{ 'x' * 600000 }}\n"),
        ("members/worker/etc/later.j2", "{{ nope }}\n"),
    ])
    .invalid();
    let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{report}");
    assert!(
        errors[0].starts_with("error: files/members/worker/etc/big.j2:1:1:")
            && errors[0].contains("demo-worker-1"),
        "{report}"
    );
}
