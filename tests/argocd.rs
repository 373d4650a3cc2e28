//! The Argo CD plugin, run the way Argo CD's cmp-server runs it: `plugin.yaml`'s generate command
//! executed without a shell, in the Application's path inside a repository unpacked under
//! `<tmp>/_cmp_server/<random>/`, read-only and without `.git`, as an unprivileged user with no
//! home directory and no network, with Argo CD's request environment.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// The generate command from plugin.yaml.
fn generate_command() -> Vec<String> {
    let plugin: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(project_root().join("plugin.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    assert_eq!(plugin["metadata"]["name"], "kdrender");
    assert!(
        plugin["spec"].get("version").is_none(),
        "a version would rename the plugin"
    );
    assert_eq!(plugin["spec"]["preserveFileMode"], false);
    assert_eq!(plugin["spec"]["provideGitCreds"], false);
    assert!(plugin["spec"].get("init").is_none());
    let mut argv: Vec<String> = plugin["spec"]["generate"]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    if let Some(args) = plugin["spec"]["generate"]["args"].as_array() {
        argv.extend(args.iter().map(|v| v.as_str().unwrap().to_string()));
    }
    argv
}

/// A monorepo: one catalog at the root, an environment folder as the Application's path.
fn monorepo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    copy_tree(
        &project_root().join("examples/kafka/apps"),
        &repo.path().join("catalog"),
    );
    copy_tree(
        &project_root().join("examples/kafka/clusters"),
        &repo.path().join("envs/prod/clusters"),
    );
    write(
        repo.path(),
        "envs/prod/kdrender.yaml",
        &settings_with_catalog("../../catalog"),
    );
    repo
}

/// Unpacks `repo` as cmp-server does: a fresh random folder, files 0444 and folders 0555 here
/// (Argo CD uses 0644/0755; read-only proves kdrender writes nothing), no `.git`.
fn unpack(repo: &Path, random: &str) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("_cmp_server").join(random);
    copy_tree(repo, &root);
    set_modes(&root, true);
    (work, root)
}

fn set_modes(dir: &Path, read_only: bool) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            set_modes(&path, read_only);
        } else {
            let mode = if read_only { 0o444 } else { 0o644 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
    let mode = if read_only { 0o555 } else { 0o755 };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A folder holding only `kdrender` (no git, no shell needed).
fn sidecar_path() -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kdrender"), bin.path().join("kdrender"))
        .unwrap();
    std::fs::set_permissions(bin.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

struct Request<'a> {
    app_path: &'a str,
    revision: &'a str,
    parameters: Option<&'a str>,
    extra_env: &'a [(&'a str, &'a str)],
}

/// Runs the generate command the way cmp-server does (Go's exec: argv, no shell), as uid 999
/// without network when the machine allows it.
fn generate(root: &Path, request: &Request<'_>) -> Run {
    let argv = generate_command();
    let bin = sidecar_path();
    // Let uid 999 reach the binary and the unpacked tree.
    let mut ancestor = root.parent();
    while let Some(dir) = ancestor {
        if dir == Path::new("/") {
            break;
        }
        let mode = std::fs::metadata(dir).unwrap().permissions().mode();
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o055));
        ancestor = dir.parent();
    }
    let mut command = if unprivileged_runner_works() {
        let mut c = as_uid_999_without_network();
        c.args(&argv);
        c
    } else {
        let mut c = Command::new(bin.path().join(&argv[0]));
        c.args(&argv[1..]);
        c
    };
    command
        .current_dir(root.join(request.app_path))
        .env_clear()
        // Only kdrender is on PATH: no git, no shell, no other tool.
        .env("PATH", bin.path())
        .env("ARGOCD_APP_NAME", "data_kafka-prod")
        .env("ARGOCD_APP_NAMESPACE", "kafka-prod")
        .env("ARGOCD_APP_PROJECT_NAME", "data")
        .env("ARGOCD_APP_REVISION", request.revision)
        .env("ARGOCD_APP_REVISION_SHORT", &request.revision[..7])
        .env("ARGOCD_APP_SOURCE_PATH", request.app_path)
        .env(
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example.com/platform/deploy.git",
        )
        .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
        .env("KUBE_VERSION", "1.30.2")
        .env("KUBE_API_VERSIONS", "v1,apps/v1,policy/v1");
    if let Some(parameters) = request.parameters {
        command.env("ARGOCD_APP_PARAMETERS", parameters);
    }
    for (key, value) in request.extra_env {
        command.env(key, value);
    }
    Run::from(command.output().unwrap())
}

/// A command that runs the program given as its next arguments as uid 999, in a network
/// namespace of its own.
fn as_uid_999_without_network() -> Command {
    let mut command = Command::new("/usr/bin/unshare");
    command.args(["--net", "/usr/bin/setpriv", "--reuid=999", "--regid=999"]);
    command.args(["--clear-groups", "--"]);
    command
}

/// Root can drop to uid 999 and a private network namespace; elsewhere the test runs as the
/// current user (and says so).
fn unprivileged_runner_works() -> bool {
    let works = as_uid_999_without_network()
        .arg("/bin/true")
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        eprintln!(
            "note: cannot run as uid 999 in a network namespace here; running as the current user"
        );
    }
    works
}

const REQUEST: Request<'static> = Request {
    app_path: "envs/prod",
    revision: "4f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49",
    parameters: None,
    extra_env: &[],
};

#[test]
fn generate_renders_valid_objects_only_on_stdout() {
    let repo = monorepo();
    let (_work, root) = unpack(repo.path(), "18b809d2-5a77-4f5c-9a3e-2f5e0d9c7b11");
    let result = generate(&root, &REQUEST);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let docs = documents(&result.stdout);
    assert!(docs.len() >= 10);
    for doc in &docs {
        assert!(
            doc["apiVersion"].is_string()
                && doc["kind"].is_string()
                && doc["metadata"]["name"].is_string(),
            "{doc}"
        );
        // The destination namespace is the default namespace.
        assert_eq!(doc["metadata"]["namespace"], "kafka-prod");
        let labels = doc["metadata"]["labels"].as_object().unwrap();
        assert!(!labels.contains_key("app.kubernetes.io/instance"));
    }
    assert!(!result.stdout.contains("_cmp_server"));
    assert!(
        !result.stdout.contains(REQUEST.revision)
            && !result.stdout.contains(&REQUEST.revision[..7])
    );
    // Nothing was written into the repository.
    set_modes(&root, false);
    assert_eq!(read_tree(repo.path()), read_tree(&root));
}

#[test]
#[ignore = "needs KDRENDER_KUBERNETES_VALIDATE: kubernetes-validate (PyPI); run .ci/run"]
fn generate_renders_objects_that_pass_the_kubernetes_schemas() {
    let repo = monorepo();
    let (_work, root) = unpack(repo.path(), "18b809d2-5a77-4f5c-9a3e-2f5e0d9c7b11");
    let result = generate(&root, &REQUEST);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_valid(&[("argocd".to_string(), result.stdout)]);
}

#[test]
fn output_does_not_vary_between_replicas_or_revisions() {
    let repo = monorepo();
    let (_a, first_root) = unpack(repo.path(), "0b7c1a57-1111-4a2b-8c3d-000000000001");
    let (_b, second_root) = unpack(repo.path(), "f00dcafe-2222-4e5f-9a8b-000000000002");
    let first = generate(&first_root, &REQUEST).ok();
    let second = generate(
        &second_root,
        &Request {
            revision: "0123456789abcdef0123456789abcdef01234567",
            extra_env: &[
                ("KUBE_VERSION", "1.37.0"),
                ("ARGOCD_APP_NAME", "other"),
                ("HOME", "/nonexistent"),
            ],
            ..REQUEST
        },
    )
    .ok();
    assert_eq!(first, second);
}

/// Runs the generate command with these plugin parameters.
fn with_parameters(root: &Path, parameters: &str) -> Run {
    let request = Request {
        parameters: Some(parameters),
        ..REQUEST
    };
    generate(root, &request)
}

#[test]
fn parameters_reach_the_render() {
    let repo = monorepo();
    write(
        repo.path(),
        "envs/prod/clusters/second.yaml",
        &std::fs::read_to_string(project_root().join("examples/kafka/clusters/kafka.yaml"))
            .unwrap()
            .replace("name: kafka\n", "name: other\n"),
    );
    let (_work, root) = unpack(repo.path(), "7e57e57e-3333-4abc-8def-000000000003");
    let parameters = r#"[{"name":"clusters","array":["other"]},{"name":"labels","map":{"tenant":"data"}},{"name":"namespace","string":"from-parameter"}]"#;
    let stdout = with_parameters(&root, parameters).ok();
    let docs = documents(&stdout);
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["labels"]["kubedirector.hpe.com/kdcluster"] == "other")
    );
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["labels"]["tenant"] == "data")
    );
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["namespace"] == "from-parameter")
    );

    // `null` and `[]` mean no parameters.
    for none in ["null", "[]"] {
        let stdout = with_parameters(&root, none).ok();
        assert!(
            documents(&stdout)
                .iter()
                .any(|d| d["metadata"]["labels"]["kubedirector.hpe.com/kdcluster"] == "kafka")
        );
    }

    // Unknown names and wrong shapes are errors, with nothing on stdout.
    for (parameters, error) in [
        (
            r#"[{"name":"cluster","array":["x"]}]"#,
            "error: unknown plugin parameter \"cluster\"",
        ),
        (
            r#"[{"name":"labels","string":"x"}]"#,
            "error: plugin parameter \"labels\" takes a map value, not string",
        ),
    ] {
        let stderr = with_parameters(&root, parameters).invalid();
        assert!(stderr.starts_with(error), "{stderr}");
    }

    // plugin.env arrives prefixed; an unprefixed variable of the same name is not read.
    let stdout = generate(
        &root,
        &Request {
            extra_env: &[
                ("ARGOCD_ENV_KDRENDER_NAMESPACE", "from-env"),
                ("KDRENDER_NAMESPACE", "ignored"),
            ],
            ..REQUEST
        },
    )
    .ok();
    assert!(
        documents(&stdout)
            .iter()
            .all(|d| d["metadata"]["namespace"] == "from-env")
    );
}

#[test]
fn failures_exit_non_zero_with_a_one_line_reason_and_no_output() {
    let repo = monorepo();
    let cluster = repo.path().join("envs/prod/clusters/kafka.yaml");
    let text = std::fs::read_to_string(&cluster)
        .unwrap()
        .replace("id: broker", "id: brokr");
    std::fs::write(&cluster, text).unwrap();
    let (_work, root) = unpack(repo.path(), "badc0de0-4444-4aaa-8bbb-000000000004");
    let stderr = generate(&root, &REQUEST).invalid();
    assert_eq!(
        stderr.lines().next().unwrap(),
        "error: clusters/kafka.yaml:21:9: role \"brokr\" is not a role of app \"kafka\""
    );

    // An empty folder is an error, unless the Application allows it.
    let empty = repo_with_only_settings();
    let (_work, root) = unpack(empty.path(), "e3e3e3e3-5555-4ccc-8ddd-000000000005");
    let stderr = generate(&root, &REQUEST).invalid();
    assert!(stderr.contains("no objects rendered"), "{stderr}");
    let allowed = generate(
        &root,
        &Request {
            parameters: Some(r#"[{"name":"allow-empty","string":"true"}]"#),
            ..REQUEST
        },
    );
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert!(allowed.stdout.is_empty());
}

fn repo_with_only_settings() -> tempfile::TempDir {
    repo(&[(
        "envs/prod/kdrender.yaml",
        "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec: {}\n",
    )])
}

#[test]
fn the_catalog_may_not_leave_the_repository() {
    let repo = monorepo();
    write(
        repo.path(),
        "envs/prod/kdrender.yaml",
        &settings_with_catalog("../../../outside"),
    );
    let (_work, root) = unpack(repo.path(), "0c0c0c0c-6666-4eee-8fff-000000000006");
    std::fs::create_dir_all(root.parent().unwrap().join("outside")).unwrap();
    generate(&root, &REQUEST)
        .refused("error: kdrender.yaml:4:13: ../../../outside leads outside the repository root");
}

#[test]
fn the_installable_configmap_carries_the_same_plugin() {
    let configmap: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(project_root().join("examples/argocd/plugin-configmap.yaml"))
            .unwrap(),
    )
    .unwrap();
    let embedded: serde_json::Value =
        serde_saphyr::from_str(configmap["data"]["plugin.yaml"].as_str().unwrap()).unwrap();
    let root: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(project_root().join("plugin.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(embedded, root);
}

#[test]
fn announced_parameters_match_what_generate_applies() {
    let plugin: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(project_root().join("plugin.yaml")).unwrap(),
    )
    .unwrap();
    let printed: serde_json::Value =
        serde_json::from_str(&run(&["argocd", "parameters"], &project_root()).ok()).unwrap();
    assert_eq!(plugin["spec"]["parameters"]["static"], printed);
}

#[test]
fn sigterm_ends_a_render_with_nothing_on_stdout() {
    // Argo CD sends SIGTERM to a render that runs over its timeout (and kills the process group
    // 5 s later). A render killed part-way must not leave half a stream on stdout for cmp-server.
    let repo = repo(&[("app.yaml", TWO_ROLE_APP)]);
    write_two_role_templates(repo.path(), "files");
    // Large enough that the render is still running when the signal comes.
    for i in 0..3000 {
        let cluster = two_role_cluster_named(&format!("demo-{i:04}"));
        write(repo.path(), &format!("clusters/{i:04}.yaml"), &cluster);
    }
    let child = kdrender()
        .args(["argocd", "generate", "."])
        .current_dir(repo.path())
        .env("ARGOCD_APP_NAMESPACE", "data")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        output.status.signal(),
        Some(15),
        "the render should have been running, and end by the signal: {:?}",
        output.status
    );
    assert!(
        output.stdout.is_empty(),
        "{} bytes on stdout",
        output.stdout.len()
    );
}

/// The two-role app with `syncWave` for its workers.
fn app_with_worker_wave(wave: &str) -> String {
    two_role_app_with_roles(&format!("      worker:\n        syncWave: {wave}\n"))
}

#[test]
fn a_roles_sync_wave_marks_its_objects_and_restarts_nothing() {
    let repo = two_role_repo();
    let without = render(repo.path());
    write(repo.path(), "app.yaml", &app_with_worker_wave("1"));
    let with = render(repo.path());

    let waves: Vec<(String, String, Option<String>)> = documents(&with)
        .iter()
        .map(|doc| {
            (
                doc["kind"].as_str().unwrap().to_string(),
                doc["metadata"]["name"].as_str().unwrap().to_string(),
                doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
                    .as_str()
                    .map(String::from),
            )
        })
        .collect();
    for (kind, name, wave) in &waves {
        let is_worker = name.starts_with("demo-worker");
        assert_eq!(
            wave.as_deref(),
            is_worker.then_some("1"),
            "{kind} {name}: the wave belongs on the worker role's objects only, as a string"
        );
    }
    let worker_kinds: std::collections::BTreeSet<&str> = waves
        .iter()
        .filter(|(_, _, wave)| wave.is_some())
        .map(|(kind, _, _)| kind.as_str())
        .collect();
    assert_eq!(
        worker_kinds,
        ["ConfigMap", "PodDisruptionBudget", "Service", "StatefulSet"]
            .into_iter()
            .collect()
    );
    // The pods do not carry it: giving a role a wave restarts nothing.
    assert_eq!(rollout_hashes(&without), rollout_hashes(&with));
    assert!(!documents(&with).iter().any(|doc| {
        doc["spec"]["template"]["metadata"]["annotations"]
            .get("argocd.argoproj.io/sync-wave")
            .is_some()
    }));

    write(repo.path(), "app.yaml", &app_with_worker_wave("\"1\""));
    let refused = run(&["render", "."], repo.path());
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stdout.is_empty());
    let first_line = refused.stderr.lines().next().unwrap_or_default();
    assert!(
        first_line.contains("app.yaml:") && refused.stderr.contains("syncWave"),
        "{}",
        refused.stderr
    );
}
