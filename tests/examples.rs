//! The examples render as they are, validate without problems, and match their reviewed
//! snapshots in tests/snapshots/. After an intended change, refresh the snapshots with
//! `KDRENDER_UPDATE_SNAPSHOTS=1 cargo test --test examples` and review the diff.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn examples() -> Vec<PathBuf> {
    let mut examples: Vec<PathBuf> = std::fs::read_dir(project_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("kdrender.yaml").exists())
        .collect();
    examples.sort();
    examples
}

fn name(example: &Path) -> String {
    example.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn there_are_at_least_three_examples() {
    let names: Vec<String> = examples().iter().map(|e| name(e)).collect();
    assert!(names.len() >= 3, "{names:?}");
}

#[test]
fn examples_validate_without_errors_or_warnings() {
    for example in examples() {
        let result = run(&["validate", "."], &example);
        assert_eq!(result.code, 0, "{}: {}", name(&example), result.stderr);
        assert!(
            result.stderr.contains(": 0 error(s), 0 warning(s)"),
            "{}: {}",
            name(&example),
            result.stderr
        );
    }
}

#[test]
fn examples_match_their_snapshots() {
    let update = std::env::var_os("KDRENDER_UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for example in examples() {
        let rendered = run(&["render", "."], &example).ok();
        let snapshot = project_root()
            .join("tests/snapshots")
            .join(format!("{}.yaml", name(&example)));
        if update {
            std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
            std::fs::write(&snapshot, &rendered).unwrap();
            continue;
        }
        match std::fs::read_to_string(&snapshot) {
            Ok(expected) if expected == rendered => {}
            Ok(expected) => {
                let line = expected
                    .lines()
                    .zip(rendered.lines())
                    .position(|(a, b)| a != b)
                    .map_or(
                        expected.lines().count().min(rendered.lines().count()) + 1,
                        |i| i + 1,
                    );
                stale.push(format!(
                    "{} differs from its snapshot first at line {line}",
                    name(&example)
                ));
            }
            Err(_) => stale.push(format!("{} has no snapshot", name(&example))),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nrefresh with KDRENDER_UPDATE_SNAPSHOTS=1 cargo test --test examples, then review the diff",
        stale.join("\n")
    );
}

/// Renders a copy of an example after replacing `from` by `to` in one of its files.
fn render_changed(example: &str, file: &str, from: &str, to: &str) -> String {
    let copy = tempfile::tempdir().unwrap();
    copy_tree(&project_root().join("examples").join(example), copy.path());
    let path = copy.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} lacks {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    run(&["render", "."], copy.path()).ok()
}

fn rolled(example: &str, file: &str, from: &str, to: &str) -> Vec<String> {
    let before = rollout_hashes(&render(&project_root().join("examples").join(example)));
    let after = rollout_hashes(&render_changed(example, file, from, to));
    before
        .keys()
        .filter(|k| before[*k] != after[*k])
        .cloned()
        .collect()
}

fn files_of(stream: &str, configmap: &str) -> serde_json::Map<String, serde_json::Value> {
    object(&documents(stream), "ConfigMap", configmap)["data"]
        .as_object()
        .unwrap()
        .clone()
}

#[test]
fn kafka_gives_each_member_its_own_identity() {
    let stream = render(&project_root().join("examples/kafka"));
    let zookeeper = files_of(&stream, "kafka-zookeeper-files");
    for ordinal in 0..3 {
        assert_eq!(
            zookeeper[&format!("kafka-zookeeper-{ordinal}.data_myid")],
            format!("{}\n", ordinal + 1)
        );
    }
    let zoo_cfg = zookeeper["conf_zoo.cfg"].as_str().unwrap();
    assert!(
        zoo_cfg.contains(
            "server.3=kafka-zookeeper-2.kafka.streaming.svc.cluster.local:2888:3888;2181"
        ),
        "{zoo_cfg}"
    );
    let brokers = files_of(&stream, "kafka-broker-files");
    for ordinal in 0..3 {
        let properties = brokers[&format!("kafka-broker-{ordinal}.etc_kafka_server.properties")]
            .as_str()
            .unwrap();
        assert!(
            properties.contains(&format!("broker.id={ordinal}\n")),
            "{properties}"
        );
        assert!(properties.contains(&format!(
            "advertised.listeners=PLAINTEXT://kafka-broker-{ordinal}.kafka.streaming.svc.cluster.local:9092\n"
        )));
        assert!(properties.contains(
            "zookeeper.connect=kafka-zookeeper-0.kafka.streaming.svc.cluster.local:2181,"
        ));
    }
}

#[test]
fn kafka_rolls_what_its_readme_says() {
    // A fourth broker keeps the replication settings: nobody restarts.
    assert!(
        rolled(
            "kafka",
            "clusters/kafka.yaml",
            "    members: 3\n    resources:\n      requests:\n        cpu: \"1\"",
            "    members: 4\n    resources:\n      requests:\n        cpu: \"1\""
        )
        .is_empty()
    );
    // Broker resources: brokers only.
    assert_eq!(
        rolled(
            "kafka",
            "clusters/kafka.yaml",
            "cpu: \"2\"\n        memory: 2Gi",
            "cpu: \"3\"\n        memory: 2Gi"
        ),
        ["kafka-broker"]
    );
    // The app's configMeta: every role.
    assert_eq!(
        rolled(
            "kafka",
            "apps/kafka/app.yaml",
            "default_partitions: \"6\"",
            "default_partitions: \"12\""
        ),
        ["kafka-broker", "kafka-zookeeper"]
    );
}

#[test]
fn hdfs_keeps_hadoop_variables_away_from_flux() {
    let docs = documents(&render(&project_root().join("examples/hdfs")));
    for role in ["namenode", "datanode"] {
        let configmap = object(&docs, "ConfigMap", &format!("hdfs-{role}-files"));
        assert!(
            configmap["data"]["opt_hadoop_etc_hadoop_hdfs-site.xml"]
                .as_str()
                .unwrap()
                .contains("file://${hadoop.tmp.dir}/dfs/name")
        );
        assert_eq!(
            configmap["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/substitute"],
            "disabled"
        );
    }
    let core_site = object(&docs, "ConfigMap", "hdfs-datanode-files")["data"]["opt_hadoop_etc_hadoop_core-site.xml"].as_str().unwrap().to_string();
    assert!(
        core_site
            .contains("<value>hdfs://hdfs-namenode-0.hdfs.storage.svc.cluster.local:8020</value>"),
        "{core_site}"
    );
    // The NameNode's start script is executable.
    let pod = &object(&docs, "StatefulSet", "hdfs-namenode")["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "config-files-755")
        .unwrap();
    assert_eq!(volume["configMap"]["defaultMode"], 0o755);
    assert_eq!(
        pod["containers"][0]["command"][0],
        "/usr/local/bin/kdrender-start-namenode"
    );
    // Adding DataNodes restarts nobody.
    assert!(rolled("hdfs", "clusters/hdfs.yaml", "members: 3", "members: 5").is_empty());
}

#[test]
fn cassandra_lists_the_seeds_in_every_node() {
    let stream = render(&project_root().join("examples/cassandra"));
    let workers = files_of(&stream, "ring-worker-files");
    let yaml = workers["ring-worker-1.etc_cassandra_cassandra.yaml"]
        .as_str()
        .unwrap();
    let parsed: serde_json::Value = serde_saphyr::from_str(yaml).unwrap();
    assert_eq!(
        parsed["listen_address"],
        "ring-worker-1.ring.databases.svc.cluster.local"
    );
    assert_eq!(
        parsed["seed_provider"][0]["parameters"][0]["seeds"],
        "ring-seed-0.ring.databases.svc.cluster.local,ring-seed-1.ring.databases.svc.cluster.local"
    );
    // More workers: nobody restarts; another seed: every node does.
    let workers_block = "  - id: worker\n    members: 2";
    assert!(
        rolled(
            "cassandra",
            "clusters/ring.yaml",
            workers_block,
            "  - id: worker\n    members: 3"
        )
        .is_empty()
    );
    assert_eq!(
        rolled(
            "cassandra",
            "clusters/ring.yaml",
            "  - id: seed\n    members: 2",
            "  - id: seed\n    members: 3"
        ),
        ["ring-seed", "ring-worker"]
    );
}

#[test]
fn spark_workers_find_their_master() {
    let stream = render(&project_root().join("examples/spark"));
    let script = files_of(&stream, "spark-worker-files")["usr_local_bin_kdrender-spark-worker"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        script
            .trim_end()
            .ends_with("spark://spark-master-0.spark.analytics.svc.cluster.local:7077"),
        "{script}"
    );
    assert!(rolled("spark", "clusters/spark.yaml", "members: 4", "members: 8").is_empty());
}
