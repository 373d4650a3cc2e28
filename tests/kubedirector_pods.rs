//! Inside the pods, as KubeDirector built them: the smaller differences of the fidelity research
//! (GPU visibility, systemd's cgroup mounts, in-memory `/tmp` `/run` `/run/lock`, the DNS search
//! list, KubeDirector's labels, and the volumes of roles scaled to zero), each checked against
//! what KubeDirector's controller does.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use serde_json::Value;

/// The two-role repository with the worker's `resources` replaced by `resources` (YAML indented
/// by six spaces).
fn worker_with_resources(resources: &str) -> tempfile::TempDir {
    let repo = two_role_repo();
    edit(
        repo.path(),
        "cluster.yaml",
        "    resources:\n      limits:\n        cpu: \"2\"\n        memory: 2Gi\n",
        &format!("    resources:\n{resources}"),
    );
    repo
}

/// The app container of a role's StatefulSet.
fn app_container<'a>(docs: &'a [Value], statefulset: &str) -> &'a Value {
    &object(docs, "StatefulSet", statefulset)["spec"]["template"]["spec"]["containers"][0]
}

fn env_value(container: &Value, name: &str) -> Option<String> {
    container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .map(|e| e["value"].as_str().unwrap().to_string())
}

#[test]
fn gpus_are_hidden_unless_some_nvidia_request_is_above_zero() {
    let base = "        cpu: \"2\"\n        memory: 2Gi\n";
    // (case, resources, GPUs hidden)
    let cases = [
        ("no GPU at all", format!("      limits:\n{base}"), true),
        (
            "a GPU requested",
            format!(
                "      limits:\n{base}        nvidia.com/gpu: \"1\"\n      requests:\n        nvidia.com/gpu: \"1\"\n"
            ),
            false,
        ),
        (
            "a zero request (KubeDirector's mlflow example)",
            format!(
                "      limits:\n{base}        nvidia.com/gpu: \"0\"\n      requests:\n        nvidia.com/gpu: \"0\"\n"
            ),
            true,
        ),
        (
            "a zero limit, no request",
            format!("      limits:\n{base}        nvidia.com/gpu: \"0\"\n"),
            true,
        ),
        (
            "a limit without a request: Kubernetes requests the limit",
            format!("      limits:\n{base}        nvidia.com/gpu: \"1\"\n"),
            false,
        ),
        (
            "one zero and one non-zero NVIDIA resource",
            format!(
                "      limits:\n{base}        nvidia.com/gpu: \"0\"\n        nvidia.com/mig-1g.5gb: \"1\"\n      requests:\n        nvidia.com/gpu: \"0\"\n        nvidia.com/mig-1g.5gb: \"1\"\n"
            ),
            false,
        ),
        (
            "another vendor's GPU",
            format!("      limits:\n{base}        amd.com/gpu: \"1\"\n"),
            true,
        ),
    ];
    let mut failures = Vec::new();
    for (case, resources, hidden) in cases {
        let repo = worker_with_resources(&resources);
        let docs = documents(&render(repo.path()));
        let visible = env_value(
            app_container(&docs, "demo-worker"),
            "NVIDIA_VISIBLE_DEVICES",
        );
        let expected = hidden.then(|| "void".to_string());
        if visible != expected {
            failures.push(format!("{case}: {visible:?}, expected {expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The two-role repository with a systemd app, and the settings given.
fn systemd_repo(settings: &str) -> tempfile::TempDir {
    let repo = two_role_repo();
    write(
        repo.path(),
        "app.yaml",
        &format!("{TWO_ROLE_APP}  systemdRequired: true\n"),
    );
    if !settings.is_empty() {
        write(
            repo.path(),
            "kdrender.yaml",
            &format!("apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n{settings}"),
        );
    }
    repo
}

/// A pod's volume named `name`.
fn volume<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
}

/// The app container's mounts, as `(mount path, volume, read-only)`.
fn mounts(container: &Value) -> Vec<(String, String, bool)> {
    container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["mountPath"].as_str().unwrap().to_string(),
                m["name"].as_str().unwrap().to_string(),
                m["readOnly"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[test]
fn systemd_apps_get_the_hosts_cgroups_read_only_and_systemds_own_read_write() {
    let repo = systemd_repo("");
    let docs = documents(&render(repo.path()));
    for statefulset in ["demo-coordinator", "demo-worker"] {
        let pod = &object(&docs, "StatefulSet", statefulset)["spec"]["template"]["spec"];
        let cgroup: Vec<_> = mounts(&pod["containers"][0])
            .into_iter()
            .filter(|(path, _, _)| path.starts_with("/sys/fs/cgroup"))
            .collect();
        // KubeDirector's statefulset.go: /sys/fs/cgroup read-only, /sys/fs/cgroup/systemd not.
        assert_eq!(
            cgroup,
            [
                ("/sys/fs/cgroup".into(), "cgroup".into(), true),
                (
                    "/sys/fs/cgroup/systemd".into(),
                    "cgroup-systemd".into(),
                    false
                ),
            ],
            "{statefulset}"
        );
        for (name, path) in [
            ("cgroup", "/sys/fs/cgroup"),
            ("cgroup-systemd", "/sys/fs/cgroup/systemd"),
        ] {
            assert_eq!(volume(pod, name).unwrap()["hostPath"]["path"], path);
        }
    }
    // With native systemd support, the host's cgroups are not mounted at all.
    let repo = systemd_repo("  nativeSystemdSupport: true\n");
    let docs = documents(&render(repo.path()));
    let pod = &object(&docs, "StatefulSet", "demo-worker")["spec"]["template"]["spec"];
    assert!(
        !mounts(&pod["containers"][0])
            .iter()
            .any(|(path, _, _)| path.starts_with("/sys")),
        "{pod}"
    );
    assert!(volume(pod, "cgroup").is_none() && volume(pod, "cgroup-systemd").is_none());
}

fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object["metadata"]["labels"][key].as_str()
}

#[test]
fn kubedirectors_app_catalog_and_headless_labels_are_where_it_puts_them() {
    let docs = documents(&render(two_role_repo().path()));
    // KubeDirector's labelsForCluster: appCatalog on every object it creates, Services included.
    for (kind, name) in [
        ("Service", "demo"),
        ("Service", "demo-worker-0"),
        ("StatefulSet", "demo-worker"),
        ("ConfigMap", "demo-configmeta"),
    ] {
        let object = object(&docs, kind, name);
        assert_eq!(
            label(object, "kubedirector.hpe.com/appCatalog"),
            Some("local"),
            "{kind} {name}"
        );
        // labelsForStatefulSet and labelsForPod only: the cluster's name.
        let headless = (kind == "StatefulSet").then_some("demo");
        assert_eq!(
            label(object, "kubedirector.hpe.com/headless"),
            headless,
            "{kind} {name}"
        );
    }
    let template = &object(&docs, "StatefulSet", "demo-worker")["spec"]["template"];
    assert_eq!(
        label(template, "kubedirector.hpe.com/appCatalog"),
        Some("local")
    );
    assert_eq!(
        label(template, "kubedirector.hpe.com/headless"),
        Some("demo")
    );

    // An app from a catalog folder is KubeDirector's "system" catalog.
    let repo = repo(&[
        ("catalog/app.yaml", TWO_ROLE_APP),
        ("envs/prod/cluster.yaml", TWO_ROLE_CLUSTER),
        (
            "envs/prod/kdrender.yaml",
            &settings_with_catalog("../../catalog"),
        ),
    ]);
    write_two_role_templates(repo.path(), "catalog/files");
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let docs = documents(&run(&["render", "."], &repo.path().join("envs/prod")).ok());
    for (kind, name) in [("Service", "demo"), ("StatefulSet", "demo-coordinator")] {
        assert_eq!(
            label(object(&docs, kind, name), "kubedirector.hpe.com/appCatalog"),
            Some("system"),
            "{kind} {name}"
        );
    }
}

/// The in-memory folders a pod's app container mounts: `(path, volume)` for each `emptyDir` of
/// medium `Memory` limited to 20Gi.
fn memory_folders(pod: &Value) -> Vec<(String, String)> {
    mounts(&pod["containers"][0])
        .into_iter()
        .filter(|(_, name, _)| {
            volume(pod, name).is_some_and(|v| {
                v["emptyDir"] == serde_json::json!({"medium": "Memory", "sizeLimit": "20Gi"})
            })
        })
        .map(|(path, name, _)| (path, name))
        .collect()
}

#[test]
fn every_pod_has_tmp_run_and_run_lock_in_memory_as_in_kubedirector() {
    let all = [
        ("/tmp".to_string(), "tmp".to_string()),
        ("/run".to_string(), "run".to_string()),
        ("/run/lock".to_string(), "run-lock".to_string()),
    ];
    // Not only systemd apps: every member, with storage (coordinator) or without (worker).
    let docs = documents(&render(two_role_repo().path()));
    for statefulset in ["demo-coordinator", "demo-worker"] {
        let pod = &object(&docs, "StatefulSet", statefulset)["spec"]["template"]["spec"];
        assert_eq!(memory_folders(pod), all, "{statefulset}");
        // The init step keeps the image's own folders.
        assert!(
            !mounts(&pod["initContainers"][0])
                .iter()
                .any(|(path, _, _)| path == "/tmp" || path.starts_with("/run")),
            "{statefulset}"
        );
    }
    // A systemd app gets them once.
    let docs = documents(&render(systemd_repo("").path()));
    let pod = &object(&docs, "StatefulSet", "demo-worker")["spec"]["template"]["spec"];
    assert_eq!(memory_folders(pod), all);
    let volumes = pod["volumes"].as_array().unwrap();
    let names: std::collections::BTreeSet<_> =
        volumes.iter().map(|v| v["name"].to_string()).collect();
    assert_eq!(names.len(), volumes.len(), "{volumes:#?}");
}

#[test]
fn a_persisted_run_keeps_its_volume_and_run_lock_stays_in_memory_on_top() {
    let repo = two_role_repo();
    write(
        repo.path(),
        "app.yaml",
        &TWO_ROLE_APP.replace(
            "    cardinality: \"3\"\n",
            "    cardinality: \"3\"\n    persistDirs: [/run, /tmp/cache]\n",
        ),
    );
    let docs = documents(&render(repo.path()));
    let pod = &object(&docs, "StatefulSet", "demo-coordinator")["spec"]["template"]["spec"];
    let mounted = mounts(&pod["containers"][0]);
    let at = |path: &str| -> Vec<&str> {
        mounted
            .iter()
            .filter(|(p, _, _)| p == path)
            .map(|(_, name, _)| name.as_str())
            .collect()
    };
    // One mount per path (the API server refuses two): the member's volume wins at /run.
    assert_eq!(at("/run"), ["p"]);
    assert_eq!(at("/run/lock"), ["run-lock"]);
    assert_eq!(at("/tmp"), ["tmp"]);
    assert_eq!(at("/tmp/cache"), ["p"]);
    assert!(volume(pod, "run").is_none());
}

/// Runs `script` with the pod's resolv.conf at `file` instead of /etc/resolv.conf.
fn run_on_resolv_conf(script: &str, file: &std::path::Path) {
    let script = script.replace("/etc/resolv.conf", &file.display().to_string());
    let status = std::process::Command::new("sh")
        .args(["-c", &script])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn short_member_names_resolve_to_pods_first_with_kubedirectors_search_list() {
    let docs = documents(&render(two_role_repo().path()));
    let pod = &object(&docs, "StatefulSet", "demo-worker")["spec"]["template"]["spec"];
    let domain = "demo.default.svc.cluster.local";
    // The pod asks for the cluster's domain (kubelet appends it to its defaults) ...
    assert_eq!(pod["dnsConfig"]["searches"], serde_json::json!([domain]));
    // ... and an init step, as the app's user, puts it first.
    let step = pod["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|step| step["name"] == "kdrender-dns")
        .unwrap();
    assert_eq!(step["image"], pod["containers"][0]["image"]);
    assert!(step["securityContext"].get("runAsUser").is_none());
    let script = step["command"][2].as_str().unwrap();

    // What kubelet writes: the defaults (the namespace's, the cluster's, the node's), the
    // cluster's domain after them.
    let defaults = "search default.svc.cluster.local svc.cluster.local cluster.local corp.example\n\
                    nameserver 10.96.0.10\noptions ndots:5\n";
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours");
    std::fs::write(
        &ours,
        defaults.replace("corp.example\n", &format!("corp.example {domain}\n")),
    )
    .unwrap();
    run_on_resolv_conf(script, &ours);
    // KubeDirector's postStart hook (statefulset.go, getStartupScript) on the defaults alone.
    let theirs = dir.path().join("theirs");
    std::fs::write(&theirs, defaults).unwrap();
    let kubedirector = std::process::Command::new("sed")
        .arg("s/^search \\([^ ]\\+\\)/search demo.\\1 \\1/")
        .arg(&theirs)
        .output()
        .unwrap();
    assert!(kubedirector.status.success());
    let expected = String::from_utf8(kubedirector.stdout).unwrap();
    assert!(
        expected.starts_with(&format!("search {domain} default.svc")),
        "{expected}"
    );
    assert_eq!(std::fs::read_to_string(&ours).unwrap(), expected);
}

/// The two-role repository with optional workers, `members` of them, with storage or not.
fn optional_workers(storage: bool, members: u32) -> tempfile::TempDir {
    let repo = two_role_repo();
    if storage {
        optional_workers_with_storage(repo.path());
    } else {
        edit(
            repo.path(),
            "app.yaml",
            "cardinality: \"1+\"",
            "cardinality: \"0+\"",
        );
    }
    edit(
        repo.path(),
        "cluster.yaml",
        "members: 2",
        &format!("members: {members}"),
    );
    repo
}

#[test]
fn a_role_scaled_to_zero_keeps_a_statefulset_whose_scale_down_deletes_the_volumes() {
    let docs = documents(&render(optional_workers(true, 0).path()));
    let workers = object(&docs, "StatefulSet", "demo-worker");
    assert_eq!(workers["spec"]["replicas"], 0);
    // Kubernetes deletes the claims of the members a scale-down removes, as KubeDirector
    // deleted each removed member's PVC; the template is the one a scale-up starts from.
    assert_eq!(
        workers["spec"]["persistentVolumeClaimRetentionPolicy"],
        serde_json::json!({"whenScaled": "Delete", "whenDeleted": "Retain"})
    );
    assert_eq!(
        workers["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
        "p"
    );
    assert_eq!(
        workers["spec"]["volumeClaimTemplates"],
        object(
            &documents(&render(optional_workers(true, 2).path())),
            "StatefulSet",
            "demo-worker"
        )["spec"]["volumeClaimTemplates"]
    );
    // Nothing else of a role without members: no files, Services, budget or node sections.
    let role_objects: Vec<String> = docs
        .iter()
        .filter(|d| d["metadata"]["labels"]["kubedirector.hpe.com/role"] == "worker")
        .map(|d| {
            format!(
                "{} {}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(role_objects, ["StatefulSet demo-worker"]);
    let configmeta = object(&docs, "ConfigMap", "demo-configmeta")["data"]
        .as_object()
        .unwrap();
    assert!(!configmeta.keys().any(|k| k.starts_with("node-demo-worker")));

    // A role without volumes has nothing to delete: no StatefulSet without members.
    let docs = documents(&render(optional_workers(false, 0).path()));
    assert!(!docs.iter().any(|d| d["metadata"]["name"] == "demo-worker"));
}
