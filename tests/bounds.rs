//! Hostile inputs meet limits for the whole run and reports that cost what they show: the value
//! budget counts every file (below PATH and in catalog folders), inputs are bounded in bytes and
//! files, thousands of problems are reported as fifty and a count, and syntax errors at
//! multi-byte characters are reported with file, line and column, never a panic.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use proptest::prelude::*;

use common::*;
use kdrender::options::InputOptions;
use kdrender::validate::{Overrides, Scope};

/// About 68,000 values through aliases: harmless alone, not thirty times over.
const ALIAS_FILE: &str = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]
a1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]
a2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
a3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
b: [*a3, *a3, *a3, *a3, *a3]
";

#[test]
fn the_value_budget_counts_files_below_path_and_in_catalog_folders_together() {
    let repo = two_role_repo();
    write(
        repo.path(),
        "kdrender.yaml",
        &settings_with_catalog("../catalog"),
    );
    // The two-role repository lives in `env/`; the catalog beside it.
    let env = repo.path().join("env");
    std::fs::create_dir(&env).unwrap();
    for name in ["app.yaml", "cluster.yaml", "kdrender.yaml", "files"] {
        std::fs::rename(repo.path().join(name), env.join(name)).unwrap();
    }
    for i in 0..16 {
        write(&env, &format!("values/part{i:02}.yaml"), ALIAS_FILE);
        write(
            repo.path(),
            &format!("catalog/values/part{i:02}.yaml"),
            ALIAS_FILE,
        );
    }
    let env_arg = env.to_string_lossy().into_owned();
    let root_arg = repo.path().to_string_lossy().into_owned();
    let stderr = run(&["render", &env_arg, "--root", &root_arg], repo.path()).invalid();
    assert!(
        stderr.starts_with("error: ../catalog/values/part"),
        "the catalog's files go over the budget the rendered folder's files used: {stderr}"
    );
    assert!(
        stderr
            .lines()
            .next()
            .unwrap()
            .ends_with("the inputs expand to more than 2000000 values in all (keys, aliases and documents included); refusing to go on"),
        "{stderr}"
    );
    // Either half alone renders.
    std::fs::remove_dir_all(repo.path().join("catalog/values")).unwrap();
    run(&["render", &env_arg, "--root", &root_arg], repo.path()).ok();
}

#[test]
fn more_files_than_the_limit_are_refused() {
    let repo = two_role_repo();
    for i in 0..20_000 {
        write(
            repo.path(),
            &format!("many/{:03}/{i:05}.yaml", i / 1000),
            "",
        );
    }
    run(&["render", "."], repo.path())
        .refused("error: more than 20000 files to read in one run (reached at ");
}

#[test]
fn inputs_over_64_mib_in_all_are_refused() {
    let repo = two_role_repo();
    let big = format!("\"{}\"\n", "x".repeat(7 << 20));
    for i in 0..10 {
        write(repo.path(), &format!("big/{i}.json"), &big);
    }
    run(&["render", "."], repo.path())
        .refused("error: the inputs exceed 67108864 bytes in all (reached at big/");
}

#[test]
fn thousands_of_problems_are_reported_as_fifty_and_a_count() {
    let repo = two_role_repo();
    // Each cluster names a role of its own that the app lacks: 2000 different problems (one
    // problem at many places is one report: tests/cli.rs).
    let documents: String = (0..2000)
        .map(|i| {
            let broken = TWO_ROLE_CLUSTER.replace("id: worker", &format!("id: wrker{i}"));
            format!(
                "---\n{}",
                broken.replace("name: demo", &format!("name: demo{i}"))
            )
        })
        .collect();
    write(repo.path(), "cluster.yaml", &documents);
    let run = run(&["validate", "."], repo.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: cluster.yaml:") && lines[0].contains("\"wrker0\""),
        "the first line is the first problem: {}",
        lines[0]
    );
    let drawn = lines.iter().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(drawn, 50);
    let total: usize = lines
        .last()
        .and_then(|l| l.split(": ").nth(1))
        .and_then(|counts| counts.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", lines.last().unwrap()));
    assert!(total >= 2000, "{total}");
    // Every problem is counted once: drawn, named as a repetition of one drawn, or counted
    // at the end.
    let number_after = |prefix: &str| -> usize {
        lines
            .iter()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(|rest| rest.split(' ').next().unwrap().parse::<usize>().unwrap())
            .sum()
    };
    let repeated = number_after("  … and ");
    let hidden = number_after("… and ");
    assert!(hidden > 0, "{}", run.stderr);
    assert_eq!(drawn + repeated + hidden, total, "{}", run.stderr);
}

#[test]
fn a_document_of_very_many_wrong_values_reports_its_first_schema_error() {
    // 150,000 empty roles would be 300,000 schema errors, all gathered at once by the checker.
    let repo = two_role_repo();
    let roles = "{}, ".repeat(150_000);
    write(
        repo.path(),
        "cluster.yaml",
        &format!(
            "apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata:\n  name: demo\nspec:\n  app: twotier\n  roles: [{roles}]\n"
        ),
    );
    let stderr = run(&["validate", "."], repo.path()).invalid();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: cluster.yaml:")
            && lines[0].ends_with("spec.roles[0] is missing the required field `id`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: the document holds more than 100000 values, so only its first schema error is listed"),
        "{stderr}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with(": 1 error(s), 0 warning(s)"),
        "{stderr}"
    );
}

/// Syntax errors placed at multi-byte characters, in JSON (every error path of its parser that
/// a character can reach) and in YAML, each in a file of its own: one run reports them all,
/// each with file, line and column (in its own summary line, or, for the same syntax error as
/// another file's, among the places its report names).
#[test]
fn syntax_errors_at_multi_byte_characters_name_file_line_and_column() {
    let cases = [
        (
            "value.json",
            "{\n  \"kind\": “KubeDirectorCluster”\n}\n",
            "2:11",
        ),
        ("after.json", "{}\n é\n", "2:2"),
        ("key.json", "{\n\t“kind”: 1}\n", "2:2"),
        ("colon.json", "{\"kind\" ： 1}", "1:9"),
        ("comma.json", "{\"a\": 1 é}", "1:9"),
        ("bracket.json", "[1, 2 😀]", "1:7"),
        ("escape.json", "[\"\\é\"]", "1:4"),
        ("number.json", "[-é]", "1:3"),
        ("fraction.json", "[1.€]", "1:4"),
        ("exponent.json", "[1e€]", "1:4"),
        ("bom.json", "\u{feff}{} “", "1:5"),
        // YAML: at the character, or after characters of several bytes on the same line.
        ("bom.yaml", "a: 1\n---\n\u{feff}b: 2\n", "3:1"),
        ("entry.yaml", "- a\né: x\n", "2:1"),
        ("colon.yaml", "a: b\n“: c: d\n", "2:5"),
        ("indent.yaml", "a: 1\n  “b: 2\n", "2:5"),
        ("key.yaml", "key: é\n  é: x\n", "2:4"),
        ("tab.yaml", "a:\n\t- é\n", "2:2"),
    ];
    let repo = two_role_repo();
    for (name, text, _) in cases {
        write(repo.path(), &format!("broken/{name}"), text);
    }
    let stderr = run(&["render", "."], repo.path()).invalid();
    assert!(!stderr.contains(", …"), "every place is named:\n{stderr}");
    for (name, text, at) in cases {
        let summary = format!("error: broken/{name}:");
        let place = format!(" broken/{name}:");
        let line = stderr
            .lines()
            .find(|l| {
                l.starts_with(&summary) || (l.contains("more like this") && l.contains(&place))
            })
            .unwrap_or_else(|| panic!("no error for {name} ({text:?}):\n{stderr}"));
        assert!(
            line.starts_with(&format!("error: broken/{name}:{at}: "))
                || line.contains(&format!(" broken/{name}:{at}"))
                    && [",", ""]
                        .iter()
                        .any(|end| line.contains(&format!("broken/{name}:{at}{end}"))),
            "{name}: {line}"
        );
    }
}

/// Characters of one to four bytes, invisible ones, and line and paragraph separators.
const MULTI_BYTE: [&str; 10] = [
    "é", "“", "”", "\u{feff}", "😀", "\u{200b}", "\u{2028}", "\u{85}", "ｘ", "\u{202e}",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    /// A multi-byte character inserted anywhere in a valid repository's app or cluster (as YAML
    /// or as JSON) renders, or fails with a report whose first line names file, line and
    /// column: never a panic.
    #[test]
    fn multi_byte_characters_anywhere_render_or_fail_cleanly(
        file in 0usize..3,
        at in 0usize..4000,
        character in prop::sample::select(MULTI_BYTE.to_vec()),
        twice in prop::bool::ANY,
    ) {
        let repo = two_role_repo();
        let cluster_json = serde_json::to_string_pretty(
            &serde_saphyr::from_str::<serde_json::Value>(TWO_ROLE_CLUSTER).unwrap(),
        )
        .unwrap();
        let (path, original) = [
            ("app.yaml", TWO_ROLE_APP.to_string()),
            ("cluster.yaml", TWO_ROLE_CLUSTER.to_string()),
            ("cluster.json", cluster_json),
        ]
        .into_iter()
        .nth(file)
        .unwrap();
        if path == "cluster.json" {
            std::fs::remove_file(repo.path().join("cluster.yaml")).unwrap();
        }
        let mut text = original;
        let mut at = at % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.insert_str(at, character);
        if twice {
            text.insert_str(at, character);
        }
        write(repo.path(), path, &text);
        let options = InputOptions {
            path: repo.path().to_path_buf(),
            root: repo.path().to_path_buf(),
            overrides: Overrides::default(),
            kube_version: None,
            files: kdrender::load::Files::Disk,
        };
        if let Err(failure) = kdrender::render_objects(&options, Scope::UsedApps, kdrender::emit::MAX_OUTPUT_BYTES) {
            let report = failure.report();
            let first = report.lines().next().unwrap_or_default();
            let location = first.strip_prefix("error: ").and_then(|rest| rest.split(": ").next());
            let parts: Vec<&str> = location.unwrap_or_default().split(':').collect();
            prop_assert!(
                parts.len() == 3 && parts[1].parse::<usize>().is_ok() && parts[2].parse::<usize>().is_ok(),
                "{}", report
            );
        }
    }
}

/// A cluster of the two-role app with `workers` members in its open role (and the three
/// coordinators its cardinality fixes), as one document of a multi-document file.
fn cluster_document(name: &str, workers: u32) -> String {
    let cluster =
        two_role_cluster_named(name).replace("members: 2", &format!("members: {workers}"));
    format!("---\n{cluster}")
}

#[test]
fn output_past_the_limit_is_refused_for_the_stream_and_the_folder() {
    let repo = two_role_repo();
    let clusters: String = (0..20)
        .map(|i| cluster_document(&format!("c{i:02}"), 2))
        .collect();
    write(repo.path(), "more.yaml", &clusters);
    let full = run(&["render", "."], repo.path()).ok();
    let limit = (full.len() / 2).to_string();
    let message = format!("the output would be more than {limit} bytes, the limit");
    let stderr = run(&["render", ".", "--max-output-bytes", &limit], repo.path()).invalid();
    assert!(stderr.starts_with(&format!("error: {message}")), "{stderr}");
    // Objects held in memory for the folder count against the same limit, and nothing is
    // written.
    let out = repo.path().join("out");
    let out_arg = out.to_string_lossy().into_owned();
    let stderr = run(
        &[
            "render",
            ".",
            "--output-dir",
            &out_arg,
            "--max-output-bytes",
            &limit,
        ],
        repo.path(),
    )
    .invalid();
    assert!(stderr.starts_with(&format!("error: {message}")), "{stderr}");
    assert!(!out.exists());
    // Within the limit, both succeed.
    let enough = (full.len() * 2).to_string();
    run(&["render", ".", "--max-output-bytes", &enough], repo.path()).ok();
}

#[test]
fn a_run_renders_at_most_fifty_thousand_members() {
    // 51 clusters of 1000 members: each is within KubeDirector's limit, the run is not. It is
    // refused before anything is rendered, at the cluster that passes the limit.
    let repo = two_role_repo();
    let clusters: String = (0..50)
        .map(|i| cluster_document(&format!("big{i:02}"), 997))
        .collect();
    write(repo.path(), "many.yaml", &clusters);
    let stderr = run(&["render", "."], repo.path()).invalid();
    let first = stderr.lines().next().unwrap();
    assert!(
        first.starts_with("error: many.yaml:")
            && first.ends_with(
                "the clusters of this run have more than 50000 members in all (reached at cluster \"big49\")"
            ),
        "{stderr}"
    );
}

#[test]
fn a_cluster_may_not_list_more_members_than_its_configmeta_can_hold() {
    let repo = two_role_repo();
    let mut clusters: String = (0..6)
        .map(|i| cluster_document(&format!("peer{i}"), 997))
        .collect();
    let hub = cluster_document("hub", 1).replace(
        "  app: twotier\n",
        "  app: twotier\n  connections:\n    clusters: [peer0, peer1, peer2, peer3, peer4, peer5]\n",
    );
    clusters.push_str(&hub);
    write(repo.path(), "hub.yaml", &clusters);
    let stderr = run(&["render", "."], repo.path()).invalid();
    assert!(
        stderr.lines().next().unwrap().ends_with(
            "cluster \"hub\" and the clusters it connects to have 6004 members, more than the 5000 its configmeta.json can list"
        ),
        "{stderr}"
    );
}

#[test]
fn a_run_renders_at_most_ten_thousand_clusters() {
    let repo = two_role_repo();
    write(
        repo.path(),
        "lean.yaml",
        "apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorApp\nmetadata:\n  name: lean\nspec:\n  label:\n    name: Lean\n  distroID: test/lean\n  version: \"1\"\n  configSchemaVersion: 8\n  defaultImageRepoTag: registry.example.com/lean:1\n  services: []\n  roles:\n  - id: r\n    cardinality: \"0+\"\n  config:\n    selectedRoles: [r]\n    roleServices: []\n",
    );
    // Clusters without members: cheap to read, yet each renders a Service and a ConfigMap.
    let empty = "---\napiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata:\n  name: e{i}\nspec:\n  app: lean\n  roles: []\n";
    let clusters: String = (0..=10_000)
        .map(|i| empty.replace("{i}", &i.to_string()))
        .collect();
    write(repo.path(), "empty.yaml", &clusters);
    let stderr = run(&["render", "."], repo.path()).invalid();
    assert!(
        stderr
            .lines()
            .next()
            .unwrap()
            .ends_with("more than 10000 clusters to render in one run (this is cluster 10001)"),
        "{stderr}"
    );
}
