//! The examples render as they are, validate without problems, and match their reviewed
//! snapshots in tests/snapshots/ (insta; a mismatch prints a diff). After an intended change,
//! review the new snapshots with `cargo insta review` (or write them with
//! `INSTA_UPDATE=always cargo test --test examples`) and check `git diff tests/snapshots`.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

#[test]
fn there_are_at_least_three_examples() {
    let names: Vec<String> = examples().iter().map(|e| file_name(e)).collect();
    assert!(names.len() >= 3, "{names:?}");
}

#[test]
fn examples_validate_without_errors_or_warnings() {
    for example in examples() {
        let result = run(&["validate", "."], &example);
        assert_eq!(result.code, 0, "{}: {}", file_name(&example), result.stderr);
        assert!(
            result.stderr.contains(": 0 error(s), 0 warning(s)"),
            "{}: {}",
            file_name(&example),
            result.stderr
        );
    }
}

#[test]
fn examples_match_their_snapshots() {
    let mut differing = Vec::new();
    for example in examples() {
        let name = file_name(&example);
        let rendered = run(&["render", "."], &example).ok();
        // insta compares text with trailing white space trimmed and CRLF read as LF. A stream
        // that ends in exactly one newline and holds no CRLF is the only text with its trimmed
        // form, so the comparison stays byte for byte.
        assert_eq!(
            rendered,
            format!("{}\n", rendered.trim_end()),
            "{name}: the stream ends in one newline"
        );
        assert!(!rendered.contains("\r\n"), "{name}: the stream has CRLF");
        let matched = std::panic::catch_unwind(|| insta::assert_snapshot!(name.as_str(), rendered));
        if matched.is_err() {
            differing.push(name);
        }
    }
    assert!(
        differing.is_empty(),
        "{differing:?} differ from their snapshots (diffs above); after an intended change, \
         `cargo insta review` (or `INSTA_UPDATE=always cargo test --test examples`), then review \
         `git diff tests/snapshots`"
    );
}

/// Renders a copy of an example after replacing `from` by `to` in one of its files.
fn render_changed(example: &str, file: &str, from: &str, to: &str) -> String {
    let copy = tempfile::tempdir().unwrap();
    copy_tree(&project_root().join("examples").join(example), copy.path());
    edit(copy.path(), file, from, to);
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
    // The app's configMeta: the brokers, whose server.properties reads it; ZooKeeper gets it
    // in configmeta.json without a restart.
    assert_eq!(
        rolled(
            "kafka",
            "apps/kafka/app.yaml",
            "default_partitions: \"6\"",
            "default_partitions: \"12\""
        ),
        ["kafka-broker"]
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
