//! Same inputs, same bytes: across runs, absolute paths, working directories, file names and
//! order, locales, time zones, HOME, and across reformatting of the inputs.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use serde_json::Value;

#[test]
fn two_runs_are_byte_identical() {
    let repo = two_role_repo();
    assert_eq!(render(repo.path()), render(repo.path()));
}

#[test]
fn the_absolute_path_and_working_directory_do_not_matter() {
    let first = two_role_repo();
    let second = tempfile::tempdir().unwrap();
    let deep = second
        .path()
        .join("a/much/deeper/place/_cmp_server/8d1e0c2a/app");
    copy_tree(first.path(), &deep);
    let from_root = run(&["render", "."], first.path()).ok();
    let from_elsewhere = run(&["render", &deep.to_string_lossy()], &project_root()).ok();
    let relative = run(
        &["render", "place/_cmp_server/8d1e0c2a/app"],
        &second.path().join("a/much/deeper"),
    )
    .ok();
    assert_eq!(from_root, from_elsewhere);
    assert_eq!(from_root, relative);
    assert!(!from_root.contains(&first.path().to_string_lossy().to_string()));
}

#[test]
fn file_names_order_and_grouping_do_not_matter() {
    let reference = render(two_role_repo().path());
    // The same documents, renamed so that the walk meets them in the opposite order, and the
    // app and cluster grouped into one multi-document file.
    let renamed = repo(&[
        ("zz/late-app.yml", TWO_ROLE_APP),
        ("aa/early-cluster.yaml", TWO_ROLE_CLUSTER),
    ]);
    write_two_role_templates(renamed.path(), "zz/files");
    assert_eq!(reference, render(renamed.path()));
    let grouped = repo(&[(
        "all.yaml",
        &format!("{TWO_ROLE_CLUSTER}---\n{TWO_ROLE_APP}"),
    )]);
    write_two_role_templates(grouped.path(), "files");
    assert_eq!(reference, render(grouped.path()));
}

#[test]
fn locale_time_zone_and_home_do_not_matter() {
    let repo = two_role_repo();
    let reference = render(repo.path());
    let path = repo.path().to_string_lossy().to_string();
    let variants: [&[(&str, Option<&str>)]; 3] = [
        &[
            ("LANG", Some("tr_TR.UTF-8")),
            ("LC_ALL", Some("tr_TR.UTF-8")),
            ("TZ", Some("Pacific/Kiritimati")),
        ],
        &[
            ("HOME", None),
            ("USER", None),
            ("TZ", Some("America/St_Johns")),
            ("SOURCE_DATE_EPOCH", Some("0")),
        ],
        &[
            ("HOME", Some("/nonexistent")),
            ("LANG", Some("C")),
            ("TMPDIR", Some("/nonexistent")),
        ],
    ];
    for variant in variants {
        let mut command = kdrender();
        command.args(["render", &path]).current_dir("/");
        for (key, value) in variant {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        assert_eq!(run_with(&mut command).ok(), reference, "{variant:?}");
    }
}

/// Writes a JSON value with every object's keys in reverse order and tab indentation.
fn reversed_json(value: &Value, indent: usize, out: &mut String) {
    let pad = "\t".repeat(indent + 1);
    match value {
        Value::Object(map) => {
            out.push_str("{\n");
            let entries: Vec<_> = map.iter().rev().collect();
            for (i, (key, value)) in entries.iter().enumerate() {
                out.push_str(&format!("{pad}{}: ", serde_json::to_string(key).unwrap()));
                reversed_json(value, indent + 1, out);
                out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
            }
            out.push_str(&"\t".repeat(indent));
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                reversed_json(item, indent + 1, out);
                if i + 1 < items.len() {
                    out.push_str(", ");
                }
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

#[test]
fn reformatting_inputs_changes_no_output_byte() {
    let reference = render(two_role_repo().path());
    // The app as JSON with reversed keys and tabs; the cluster as flow-style YAML with comments,
    // different indentation and quoting.
    let app: Value = serde_saphyr::from_str(TWO_ROLE_APP).unwrap();
    let mut app_json = String::new();
    reversed_json(&app, 0, &mut app_json);
    let cluster = r#"# the same cluster, written differently
kind: 'KubeDirectorCluster'
apiVersion: "kubedirector.hpe.com/v1beta1"
spec:
    roles:
        -   resources: {limits: {memory: "1Gi", cpu: '1'}}   # coordinator
            id: coordinator
            storage: {size: "5Gi"}
        -   members: 2
            id: "worker"
            resources:
                limits: {memory: 2Gi, cpu: "2"}
    app: twotier
metadata: {name: demo}
"#;
    let reformatted = repo(&[("app.json", &app_json), ("cluster.yml", cluster)]);
    write_two_role_templates(reformatted.path(), "files");
    assert_eq!(reference, render(reformatted.path()));
}

#[test]
fn kubedirectors_tab_indented_json_renders_like_its_yaml_form() {
    let fixture = project_root().join("tests/fixtures/compat");
    let reference = render(&fixture);
    let converted = tempfile::tempdir().unwrap();
    copy_tree(&fixture, converted.path());
    let json_path = converted.path().join("apps/searchstack.json");
    let app: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    std::fs::remove_file(&json_path).unwrap();
    std::fs::write(
        converted.path().join("apps/searchstack.yaml"),
        serde_saphyr::to_string(&app).unwrap(),
    )
    .unwrap();
    assert_eq!(reference, render(converted.path()));
}

#[test]
fn many_clusters_render_in_parallel_as_each_would_alone() {
    // Enough clusters for the parallel path (8 and up), written so that the walk meets them in
    // the opposite of their output order (by name).
    const COUNT: usize = 24;
    let named = |i: usize| two_role_cluster_named(&format!("demo-{i:02}"));
    let all = repo(&[("app.yaml", TWO_ROLE_APP)]);
    write_two_role_templates(all.path(), "files");
    for i in 0..COUNT {
        write(
            all.path(),
            &format!("clusters/{:02}.yaml", COUNT - i),
            &named(i),
        );
    }
    let together = render(all.path());
    assert_eq!(together, render(all.path()), "two runs differ");

    let mut one_by_one = String::new();
    for i in 0..COUNT {
        let single = repo(&[("app.yaml", TWO_ROLE_APP), ("cluster.yaml", &named(i))]);
        write_two_role_templates(single.path(), "files");
        one_by_one.push_str(&render(single.path()));
    }
    assert_eq!(together, one_by_one);
}

#[test]
fn many_cluster_files_render_as_one_file_of_the_same_clusters() {
    // From a few hundred input files on, each cluster document is kept as a summary after
    // loading and parsed whole again where it is judged; the same clusters in one file of
    // many documents are parsed once. The output and the report must not tell them apart.
    const CLUSTERS: usize = 300;
    let clusters: Vec<String> = (0..CLUSTERS)
        .map(|i| two_role_cluster_named(&format!("demo-{i:03}")))
        .collect();
    let many = repo(&[("app.yaml", TWO_ROLE_APP)]);
    write_two_role_templates(many.path(), "files");
    for (i, cluster) in clusters.iter().enumerate() {
        write(many.path(), &format!("clusters/{i:03}.yaml"), cluster);
    }
    let one = repo(&[("app.yaml", TWO_ROLE_APP)]);
    write_two_role_templates(one.path(), "files");
    let documents: Vec<&str> = clusters
        .iter()
        .map(|c| c.trim_start_matches("---\n"))
        .collect();
    write(one.path(), "clusters.yaml", &documents.join("---\n"));

    let from_many = run(&["render", "."], many.path());
    let from_one = run(&["render", "."], one.path());
    assert_eq!(from_many.code, 0, "{}", from_many.stderr);
    assert_eq!(from_many.stdout, from_one.stdout);
    assert_eq!(
        from_many.stdout.matches("\nkind: StatefulSet\n").count(),
        2 * CLUSTERS
    );
    // A cluster judged from its summary is judged whole: a problem in one is reported at its
    // own file and line, as a file of one document reports it.
    let broken = clusters[7].replace("demo-007", "Demo_007");
    write(many.path(), "clusters/007.yaml", &broken);
    let refused = run(&["render", "."], many.path());
    assert_eq!(refused.code, 1);
    assert!(refused.stdout.is_empty());
    assert!(
        refused.stderr.contains("clusters/007.yaml:"),
        "{}",
        refused.stderr
    );
}
