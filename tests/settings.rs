//! The renderer settings (kdrender.yaml), their precedence against the command line and Argo CD,
//! the app catalog folders, and the `schema` command.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

const SETTINGS: &str = r#"apiVersion: kdrender.dev/v1alpha1
kind: RenderSettings
spec:
  namespace: from-settings
  clusterDomain: corp.internal
  defaultServiceType: LoadBalancer
  defaultStorageClassName: standard-rwo
  labels:
    team: data
  annotations:
    example.com/contact: data-team
  podLabels:
    tier: backend
"#;

fn repo_with_settings(settings: &str) -> tempfile::TempDir {
    let repo = two_role_repo();
    write(repo.path(), "kdrender.yaml", settings);
    repo
}

/// Every namespaced object's namespace, and the FQDN domain in configmeta.
fn namespaces_and_domain(stream: &str) -> (Vec<String>, String) {
    let docs = documents(stream);
    let mut namespaces: Vec<String> = docs
        .iter()
        .map(|d| d["metadata"]["namespace"].as_str().unwrap().to_string())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    let meta: serde_json::Value = serde_json::from_str(
        object(&docs, "ConfigMap", "demo-configmeta")["data"]["configmeta.json"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let fqdn = meta["nodegroups"]["1"]["roles"]["worker"]["fqdns"][0]
        .as_str()
        .unwrap()
        .to_string();
    (namespaces, fqdn)
}

#[test]
fn settings_apply_to_every_object() {
    let repo = repo_with_settings(SETTINGS);
    let stream = render(repo.path());
    let docs = documents(&stream);
    for doc in &docs {
        assert_eq!(
            doc["metadata"]["labels"]["team"], "data",
            "{}",
            doc["metadata"]["name"]
        );
        assert_eq!(
            doc["metadata"]["annotations"]["example.com/contact"],
            "data-team"
        );
        assert!(
            doc["metadata"]["labels"]
                .get("app.kubernetes.io/instance")
                .is_none()
        );
    }
    assert!(!stream.contains("app.kubernetes.io/instance"));
    assert_eq!(
        object(&docs, "Service", "demo-worker-0")["spec"]["type"],
        "LoadBalancer"
    );
    let coordinator = object(&docs, "StatefulSet", "demo-coordinator");
    assert_eq!(
        coordinator["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"],
        "standard-rwo"
    );
    assert_eq!(
        coordinator["spec"]["template"]["metadata"]["labels"]["tier"],
        "backend"
    );
    assert_eq!(
        coordinator["spec"]["template"]["spec"]["dnsConfig"]["searches"][0],
        "demo.from-settings.svc.corp.internal"
    );
    let (namespaces, fqdn) = namespaces_and_domain(&stream);
    assert_eq!(namespaces, ["from-settings"]);
    assert_eq!(fqdn, "demo-worker-0.demo.from-settings.svc.corp.internal");
}

#[test]
fn namespace_precedence_is_cluster_then_flag_then_argo_then_settings_then_default() {
    let path = |repo: &tempfile::TempDir| repo.path().to_string_lossy().into_owned();
    let plain = two_role_repo();
    assert_eq!(namespaces_and_domain(&render(plain.path())).0, ["default"]);

    let with_settings = repo_with_settings(SETTINGS);
    assert_eq!(
        namespaces_and_domain(&render(with_settings.path())).0,
        ["from-settings"]
    );

    let argo = run_with(
        kdrender()
            .args(["render", &path(&with_settings)])
            .env("ARGOCD_APP_NAMESPACE", "from-argo"),
    )
    .ok();
    let (namespaces, fqdn) = namespaces_and_domain(&argo);
    assert_eq!(namespaces, ["from-argo"]);
    assert!(fqdn.contains(".from-argo.svc."), "{fqdn}");

    let flag = run_with(
        kdrender()
            .args(["render", &path(&with_settings), "--namespace", "from-flag"])
            .env("ARGOCD_APP_NAMESPACE", "from-argo"),
    )
    .ok();
    assert_eq!(namespaces_and_domain(&flag).0, ["from-flag"]);

    let own = repo_with_settings(SETTINGS);
    write(
        own.path(),
        "cluster.yaml",
        &TWO_ROLE_CLUSTER.replace("  name: demo\n", "  name: demo\n  namespace: its-own\n"),
    );
    let stream = run_with(kdrender().args(["render", &path(&own), "-n", "from-flag"])).ok();
    assert_eq!(namespaces_and_domain(&stream).0, ["its-own"]);
}

#[test]
fn an_invalid_namespace_is_refused() {
    let repo = two_role_repo();
    run(
        &["render", ".", "--namespace", "Not_A_Namespace"],
        repo.path(),
    )
    .refused("error: namespace from --namespace or the namespace parameter is not valid");
}

#[test]
fn apps_come_from_catalog_folders_inside_the_repository() {
    let repo = repo(&[
        ("catalog/twotier/app.yaml", TWO_ROLE_APP),
        (
            "catalog/twotier/files/roles/worker/etc/worker/worker.conf.j2",
            WORKER_CONFIG,
        ),
        ("envs/prod/cluster.yaml", TWO_ROLE_CLUSTER),
        (
            "envs/prod/kdrender.yaml",
            &settings_with_catalog("../../catalog"),
        ),
    ]);
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let prod = repo.path().join("envs/prod");
    let docs = documents(&run(&["render", "."], &prod).ok());
    assert!(
        object(&docs, "ConfigMap", "demo-worker-files")["data"]["etc_worker_worker.conf"]
            .is_string()
    );

    // `appCatalog: local` does not look in the catalog.
    write(
        &prod,
        "cluster.yaml",
        &TWO_ROLE_CLUSTER.replace("app: twotier", "app: twotier\n  appCatalog: local"),
    );
    let stderr = run(&["render", "."], &prod).invalid();
    assert!(
        stderr.contains("no app named \"twotier\" below the rendered folder (appCatalog: local)"),
        "{stderr}"
    );
}

#[test]
fn catalog_folders_outside_the_repository_are_refused() {
    let outside = repo(&[("twotier/app.yaml", TWO_ROLE_APP)]);
    let inside = repo(&[("cluster.yaml", TWO_ROLE_CLUSTER)]);
    let relative = format!(
        "../{}",
        outside.path().file_name().unwrap().to_string_lossy()
    );
    write(
        inside.path(),
        "kdrender.yaml",
        &format!(
            "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  catalog: [\"{relative}\"]\n"
        ),
    );
    std::fs::create_dir(inside.path().join(".git")).unwrap();
    let stderr = run(&["render", "."], inside.path()).refused("error: kdrender.yaml:4:13: ");
    assert!(
        stderr.contains("leads outside the repository root"),
        "{stderr}"
    );
}

#[test]
fn the_schema_command_prints_the_shipped_schemas() {
    for (kind, file) in [
        ("app", "app.schema.json"),
        ("cluster", "cluster.schema.json"),
        ("settings", "settings.schema.json"),
    ] {
        let printed = run(&["schema", kind], &project_root()).ok();
        let shipped = std::fs::read_to_string(project_root().join("schemas").join(file)).unwrap();
        let schema: serde_json::Value = serde_json::from_str(&printed).unwrap();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        // Printed standalone: the Kubernetes definitions the shipped file refers to are copied
        // in, and everything else is the shipped schema.
        assert!(!printed.contains("kubernetes.schema.json"), "{kind}");
        let expected: serde_json::Value = serde_json::from_str(
            &shipped.replace("kubernetes.schema.json#/definitions/", "#/definitions/"),
        )
        .unwrap();
        let mut own = schema.clone();
        if let Some(definitions) = own.get_mut("definitions").and_then(|d| d.as_object_mut()) {
            definitions.retain(|name, _| !name.starts_with("io.k8s."));
        }
        assert_eq!(own, expected, "{kind}");
    }
    let app: serde_json::Value =
        serde_json::from_str(&run(&["schema", "app"], &project_root()).ok()).unwrap();
    assert!(app["definitions"]["io.k8s.api.core.v1.Probe"].is_object());
}
