//! KubeDirector's own configcli (bluek8s/configcli v0.8, unmodified, from `$KDRENDER_CONFIGCLI`:
//! `../shared/kubedirector-configcli` in .ci/run, a checkout pinned by commit on GitHub) reads
//! the `configmeta.json` of every member of every example, compatibility fixture and catalog
//! cluster as a setup script would: namespace keys, the `bdvlibrefkey` indirections behind
//! `distros.<distro>.1` and `cluster.config_metadata.1`, and the node and nodegroup macros all
//! resolve, and agree with each other. Ignored without the variable.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::{Value, json};

/// Runs configcli instructions as its command line does (`ConfigCli(shell=False).onecmd`, then
/// `process_result`), against one configmeta.json after another: reads
/// `[{"file", "logs", "ask": [instruction]}]` on stdin, writes the answers (or `ERROR …`) as
/// JSON. configcli reads `/etc/guestconfig/configmeta.json` and logs to `/var/log/guestconfig`;
/// the two paths are set where its `config` module keeps them.
const DRIVER: &str = r#"
import contextlib, io, json, sys
sys.path.insert(0, sys.argv[1])
import configcli.config as config
from configcli.configcli import ConfigCli
answers = []
for item in json.load(sys.stdin):
    config.PUBLIC_CONFIG_METADATA_FILE = item["file"]
    config.DEFAULT_LOG_DIR = item["logs"]
    said = []
    for instruction in item["ask"]:
        noise = io.StringIO()
        try:
            with contextlib.redirect_stdout(noise), contextlib.redirect_stderr(noise):
                ccli = ConfigCli(shell=False)
                said.append(ccli.process_result(ccli.onecmd(instruction)))
        except BaseException as e:
            said.append("ERROR %s: %s %s" % (type(e).__name__, e, noise.getvalue()))
    answers.append(said)
json.dump(answers, sys.stdout)
"#;

/// Every member's `configmeta.json` in a render, as the init step assembles it: the cluster's
/// document with the member's node section, by pod name.
fn member_documents(stream: &str) -> Vec<(String, Value)> {
    let mut members = Vec::new();
    for configmap in documents(stream)
        .iter()
        .filter(|d| d["kind"] == "ConfigMap" && d["data"].get("configmeta.json").is_some())
    {
        let data = configmap["data"].as_object().unwrap();
        let shared: Value =
            serde_json::from_str(data["configmeta.json"].as_str().unwrap()).unwrap();
        for (key, node) in data {
            let Some(pod) = key
                .strip_prefix("node-")
                .and_then(|k| k.strip_suffix(".json"))
            else {
                continue;
            };
            let mut document = shared.clone();
            document["node"] = serde_json::from_str(node.as_str().unwrap()).unwrap();
            members.push((pod.to_string(), document));
        }
    }
    members
}

/// What a member asks: its own node, its role and every role through the distro's
/// indirection, the app's configuration both ways, and the macros.
fn questions(document: &Value) -> Vec<String> {
    let node = &document["node"];
    let (distro, role) = (
        node["distro_id"].as_str().unwrap(),
        node["role_id"].as_str().unwrap(),
    );
    let fqdn = node["fqdn"].as_str().unwrap();
    let mut ask: Vec<String> = [
        "namespace node role_id".to_string(),
        "namespace node fqdn".into(),
        "namespace node id".into(),
        "namespace cluster name".into(),
        format!("namespace distros {distro}.1.roles.{role}.fqdns"),
        format!("namespace distros {distro}.1.roles.{role}.node_ids"),
        "macro node --get_self_id".into(),
        "macro node --get_self_index".into(),
        format!("macro node --get_id {fqdn}"),
        format!("macro node --get_index {fqdn}"),
        "macro nodegroup --get_all_fqdns".into(),
        "macro nodegroup --get_local_group_fqdns".into(),
        "namespace cluster config_metadata.1".into(),
        format!("namespace distros {distro}.1.config_metadata"),
        format!("namespace distros {distro}.1.roles"),
    ]
    .into();
    for other in roles(document) {
        ask.push(format!("namespace distros {distro}.1.roles.{other}.fqdns"));
        ask.push(format!(
            "namespace distros {distro}.1.roles.{other}.node_ids"
        ));
    }
    ask
}

/// The roles the document lists, in its order (sorted keys).
fn roles(document: &Value) -> Vec<String> {
    document["nodegroups"]["1"]["roles"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn list(answer: &str) -> Vec<&str> {
    answer.split(',').filter(|s| !s.is_empty()).collect()
}

/// The answers agree with each other and with what the member is.
fn check(what: &str, member: &str, document: &Value, answers: &[String]) {
    let pod = &format!("{what}: {member}");
    for answer in answers {
        assert!(!answer.starts_with("ERROR"), "{pod}: {answer}");
    }
    let [
        role,
        fqdn,
        id,
        cluster,
        role_fqdns,
        role_ids,
        self_id,
        self_index,
        id_of_fqdn,
        index_of_fqdn,
        all,
        local,
        config,
        config_by_distro,
        role_list,
        per_role @ ..,
    ] = answers
    else {
        panic!("{pod}: {answers:?}");
    };
    assert_eq!(role, document["node"]["role_id"].as_str().unwrap(), "{pod}");
    assert!(fqdn.starts_with(&format!("{member}.")), "{pod}: {fqdn}");
    assert_eq!(
        cluster,
        document["cluster"]["name"].as_str().unwrap(),
        "{pod}"
    );
    // The member is in its role's lists, its id at its FQDN's place.
    let position = list(role_fqdns).iter().position(|f| f == fqdn);
    let position = position.unwrap_or_else(|| panic!("{pod}: {fqdn} not in {role_fqdns}"));
    assert_eq!(list(role_ids)[position], id, "{pod}");
    assert_eq!((self_id, id_of_fqdn), (id, id), "{pod}");
    // The index macro counts the member among every node id of the cluster, in numeric order.
    let mut ids: Vec<u64> = per_role
        .iter()
        .skip(1)
        .step_by(2)
        .flat_map(|ids| list(ids).into_iter().map(|i| i.parse::<u64>().unwrap()))
        .collect();
    ids.sort_unstable();
    let index = ids.iter().position(|i| i.to_string() == *id).unwrap();
    assert_eq!(
        (self_index, index_of_fqdn),
        (&index.to_string(), &index.to_string()),
        "{pod}"
    );
    // Every FQDN of every role, once: what the nodegroup macros list.
    let every: BTreeSet<&str> = per_role.iter().step_by(2).flat_map(|f| list(f)).collect();
    assert_eq!(
        list(all).into_iter().collect::<BTreeSet<_>>(),
        every,
        "{pod}"
    );
    assert_eq!(all.split(',').count(), every.len(), "{pod}: {all}");
    assert_eq!(local, all, "{pod}");
    assert_eq!(config, config_by_distro, "{pod}");
    assert_eq!(list(role_list), roles(document), "{pod}");
}

/// Asks configcli about every member of a render; returns how many members it checked.
fn check_render(configcli: &Path, stream: &str, what: &str) -> usize {
    let members = member_documents(stream);
    let dir = tempfile::tempdir().unwrap();
    let mut input = Vec::new();
    for (pod, document) in &members {
        let file = dir.path().join(format!("{pod}.json"));
        std::fs::write(&file, serde_json::to_vec(document).unwrap()).unwrap();
        input.push(json!({
            "file": file, "logs": dir.path().join("logs"), "ask": questions(document),
        }));
    }
    let stdout = tool_output_with_stdin(
        Command::new("python3")
            .args(["-c", DRIVER])
            .arg(configcli)
            .current_dir(dir.path()),
        &serde_json::to_string(&input).unwrap(),
    );
    let answers: Vec<Vec<String>> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answers.len(), members.len(), "{what}");
    for ((pod, document), answers) in members.iter().zip(&answers) {
        check(what, pod, document, answers);
    }
    members.len()
}

fn configcli() -> std::path::PathBuf {
    let path = external(
        "KDRENDER_CONFIGCLI",
        "KubeDirector's configcli v0.8 (bluek8s/configcli)",
    );
    assert!(
        path.join("configcli/configcli.py").is_file(),
        "KDRENDER_CONFIGCLI names {}, which holds no configcli/configcli.py: it must be a checkout of bluek8s/configcli v0.8",
        path.display()
    );
    path
}

#[test]
#[ignore = "needs KDRENDER_CONFIGCLI: KubeDirector's configcli v0.8; run .ci/run"]
fn configcli_reads_every_members_configmeta_of_the_examples() {
    let configcli = configcli();
    let mut checked = 0;
    for example in examples()
        .into_iter()
        .chain([project_root().join("tests/fixtures/compat")])
    {
        checked += check_render(&configcli, &render(&example), &file_name(&example));
    }
    assert!(checked > 20, "only {checked} members");
}

#[test]
#[ignore = "needs KDRENDER_CONFIGCLI and KDRENDER_KUBEDIRECTOR_CATALOG: configcli v0.8 and KubeDirector's example catalog; run .ci/run"]
fn configcli_reads_every_members_configmeta_of_the_catalog() {
    let configcli = configcli();
    let mut checked = 0;
    for cluster in CATALOG_CLUSTERS {
        let repo = catalog_repo(&[cluster]);
        checked += check_render(&configcli, &render(repo.path()), cluster);
    }
    assert!(checked > 10, "only {checked} members");
}
