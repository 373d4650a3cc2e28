//! Resolved options: what the command line and the process environment decide, in the form the
//! library takes. The command line (`cli.rs`) builds them; nothing here parses arguments. The
//! one decision taken here is where the repository begins ([`repository_root`]).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::argocd::Parameters;
use crate::diag::Diagnostic;
use crate::kube_version::KubeVersion;
use crate::load::{Files, normalize};
use crate::validate::Overrides;

/// The process environment variables kdrender reads, gathered by `main`.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    /// Argo CD's destination namespace for the Application.
    pub argocd_app_namespace: Option<String>,
    /// Argo CD's `spec.source.path`: the app folder relative to the repository root (kept when
    /// empty: the repository root itself).
    pub argocd_app_source_path: Option<String>,
    /// Argo CD's plugin parameters, as JSON.
    pub argocd_app_parameters: Option<String>,
    /// Argo CD's `plugin.env` entries, by name without the `ARGOCD_ENV_` prefix.
    pub argocd_env: BTreeMap<String, String>,
    /// Whether stdout is a terminal (for colour in `diff`).
    pub stdout_is_terminal: bool,
    /// `NO_COLOR` is set.
    pub no_color: bool,
    /// The process's current directory, as the kernel reports it (no symlinks); `None` reads it
    /// when needed.
    pub current_dir: Option<PathBuf>,
}

impl Environment {
    pub fn from_process() -> Environment {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Environment {
            argocd_app_namespace: var("ARGOCD_APP_NAMESPACE"),
            argocd_app_source_path: std::env::var("ARGOCD_APP_SOURCE_PATH").ok(),
            argocd_app_parameters: var("ARGOCD_APP_PARAMETERS"),
            argocd_env: std::env::vars()
                .filter_map(|(key, value)| {
                    key.strip_prefix("ARGOCD_ENV_")
                        .map(|name| (name.to_string(), value))
                })
                .collect(),
            stdout_is_terminal: std::io::IsTerminal::is_terminal(&std::io::stdout()),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            current_dir: std::env::current_dir().ok(),
        }
    }

    /// The current directory: where relative paths start, and where the user stands.
    pub fn working_directory(&self) -> Result<PathBuf, OptionsError> {
        match &self.current_dir {
            Some(dir) => Ok(dir.clone()),
            None => std::env::current_dir().map_err(OptionsError::CurrentDirectory),
        }
    }
}

/// What to read: the rendered folder, the repository root around it, what overrides the
/// settings, and the Kubernetes version the output is judged against.
#[derive(Clone, Debug)]
pub struct InputOptions {
    pub path: PathBuf,
    pub root: PathBuf,
    pub overrides: Overrides,
    /// `--kube-version`: warn about, or refuse, what this Kubernetes lacks.
    pub kube_version: Option<KubeVersion>,
    /// Where the files are: on disk, or (`diff`'s base) a commit held in memory.
    pub files: Files,
}

impl InputOptions {
    /// Options for Argo CD's `generate`: PATH, the repository root Argo CD unpacked, and the
    /// Application's parameters.
    pub fn for_argocd(
        path: &Path,
        env: &Environment,
        parameters: &Parameters,
    ) -> Result<InputOptions, OptionsError> {
        Ok(InputOptions {
            path: path.to_path_buf(),
            root: repository_root(path, None, env)?,
            overrides: Overrides {
                namespace: parameters.namespace.clone(),
                argocd_namespace: env.argocd_app_namespace.clone(),
                clusters: parameters.clusters.clone(),
                labels: parameters.labels.clone(),
            },
            kube_version: None,
            files: Files::Disk,
        })
    }
}

/// The format of `render`'s stream (`-o`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamFormat {
    /// A YAML stream, one document per object.
    #[default]
    Yaml,
    /// One JSON `v1` `List` holding every object, as `kubectl get -o json` prints several.
    Json,
}

/// The format of `validate`'s report (`--format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// For people: each problem with the lines around it, repetitions counted.
    #[default]
    Text,
    /// For programs: every problem, in a versioned document on stdout.
    Json,
    /// GitHub Actions workflow commands: an annotation on the line at fault.
    Github,
}

/// How `diff` prints its plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// What `kdrender diff` compares, and how it reports.
#[derive(Clone, Debug)]
pub struct DiffOptions {
    /// The folder to render, as the user wrote it (its repository is found from it).
    pub path: PathBuf,
    /// The revision to compare with, as given (`HEAD`, `origin/main`).
    pub base: String,
    /// The same overrides on both sides.
    pub overrides: Overrides,
    /// `--kube-version`, judging the working tree's objects.
    pub kube_version: Option<KubeVersion>,
    pub format: Format,
    /// Whether the text is coloured.
    pub color: bool,
    /// Exit with [`crate::exit::CHANGES_FOUND`] when anything changes.
    pub exit_code: bool,
    /// Counts only: per object and in total, no unified diffs.
    pub stat: bool,
    /// Compare only the clusters with these names (every cluster when empty).
    pub clusters: Vec<String>,
}

/// Why the options cannot be resolved: where the repository begins cannot be told safely.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error("cannot tell the current directory: {0}")]
    CurrentDirectory(#[source] io::Error),
    #[error("ARGOCD_APP_SOURCE_PATH {0:?} is not a path inside the repository")]
    SourcePathOutside(String),
    #[error(
        "{} passes through the symlink {}, so kdrender cannot tell where the repository begins, and reads nothing",
        path.display(),
        link.display()
    )]
    ThroughSymlink { path: PathBuf, link: PathBuf },
}

impl OptionsError {
    pub fn exit_code(&self) -> i32 {
        crate::exit::INVALID_INPUT
    }
}

impl From<OptionsError> for Diagnostic {
    fn from(error: OptionsError) -> Diagnostic {
        let help = match &error {
            OptionsError::ThroughSymlink { .. } => {
                Some("run kdrender from inside the repository, or name it with --root")
            }
            OptionsError::CurrentDirectory(_) | OptionsError::SourcePathOutside(_) => None,
        };
        let diagnostic = Diagnostic::error(&error);
        match help {
            Some(help) => diagnostic.help(help),
            None => diagnostic,
        }
    }
}

/// Where confinement ends: `--root` (made absolute from the current directory; symlinks in it
/// are the user's choice); else, under Argo CD, PATH without `ARGOCD_APP_SOURCE_PATH` at its
/// end; else the nearest folder above PATH that holds `.git`; else PATH.
///
/// The root is decided from PATH as given, made absolute from the current directory and folded
/// lexically, never from where PATH's symlinks lead: a pull request that turns `envs/prod` into
/// a link to a folder above the checkout must not make that folder the root. A root found this
/// way must be reached from the current directory without a symlink (the kernel has resolved
/// the current directory itself; links below it belong to the repository). Whether PATH really
/// lies inside the root, links followed, is checked when reading starts ([`crate::load::Reader`]).
pub fn repository_root(
    path: &Path,
    explicit: Option<&Path>,
    env: &Environment,
) -> Result<PathBuf, OptionsError> {
    let cwd = env.working_directory()?;
    if let Some(root) = explicit {
        return Ok(cwd.join(root));
    }
    let path = normalize(&cwd.join(path));
    let root = match &env.argocd_app_source_path {
        Some(source_path) => argocd_root(&path, source_path)?,
        None => git_root(&path, &cwd).unwrap_or_else(|| path.clone()),
    };
    match first_link_below(&root, &cwd) {
        None => Ok(root),
        Some(link) => Err(OptionsError::ThroughSymlink { path, link }),
    }
}

/// Under Argo CD, cmp-server runs the plugin in `<sent root>/<app path>`. The sent root is the
/// repository root, or, when the repo-server sends only part of the repository
/// (`reposerver.plugin.use.manifest.generate.paths`), the nearest folder above every path the
/// Application names; either way the folder the plugin starts in ends in a tail of
/// `ARGOCD_APP_SOURCE_PATH`. The root is PATH without the longest such tail: the whole source
/// path for a whole repository, a part of it (or nothing) for a part. The folders above the sent
/// root have names Argo CD makes up, which no repository chooses.
fn argocd_root(path: &Path, source_path: &str) -> Result<PathBuf, OptionsError> {
    let source = Path::new(source_path);
    let folded = normalize(source);
    if source.is_absolute() || folded.starts_with("..") {
        return Err(OptionsError::SourcePathOutside(source_path.to_string()));
    }
    let mut root = path.to_path_buf();
    for component in folded.components().rev() {
        if root.file_name() != Some(component.as_os_str()) {
            break;
        }
        root.pop();
    }
    Ok(root)
}

/// The nearest folder at or above `path` that holds `.git`, among those reached from the current
/// directory without a symlink.
fn git_root(path: &Path, cwd: &Path) -> Option<PathBuf> {
    path.ancestors()
        .filter(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok())
        .find(|dir| first_link_below(dir, cwd).is_none())
        .map(Path::to_path_buf)
}

/// The first component of `path` below the folder it shares with `cwd` that is a symlink.
/// The shared folder and those above it are real: the kernel reports the current directory
/// with every link resolved.
fn first_link_below(path: &Path, cwd: &Path) -> Option<PathBuf> {
    let shared = path
        .components()
        .zip(cwd.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut prefix = PathBuf::new();
    for (index, component) in path.components().enumerate() {
        prefix.push(component);
        if index >= shared
            && std::fs::symlink_metadata(&prefix).is_ok_and(|m| m.file_type().is_symlink())
        {
            return Some(prefix);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_at(cwd: &Path, source_path: Option<&str>) -> Environment {
        Environment {
            argocd_app_source_path: source_path.map(str::to_string),
            current_dir: Some(std::fs::canonicalize(cwd).unwrap()),
            ..Environment::default()
        }
    }

    fn real(path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap()
    }

    #[test]
    fn under_argo_cd_the_root_is_the_folder_without_the_source_path() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("envs/prod");
        std::fs::create_dir_all(&app).unwrap();
        for source in [
            "envs/prod",
            "./envs/prod/",
            "envs//prod",
            "envs/staging/../prod",
        ] {
            let root = repository_root(Path::new("."), None, &env_at(&app, Some(source)));
            assert_eq!(root.unwrap(), real(dir.path()), "{source}");
        }
        // The repository root itself is the Application's path.
        let root = repository_root(Path::new("."), None, &env_at(dir.path(), Some("")));
        assert_eq!(root.unwrap(), real(dir.path()));
    }

    #[test]
    fn under_argo_cd_a_partial_tree_is_rooted_where_the_repo_server_sent_it() {
        // With manifest-generate-paths, the repo-server sends the nearest folder above the paths
        // the Application names: the plugin starts in a tail of the source path, or at the top.
        let sent = tempfile::tempdir().unwrap();
        let app = sent.path().join("prod");
        std::fs::create_dir_all(&app).unwrap();
        let root = repository_root(Path::new("."), None, &env_at(&app, Some("envs/prod")));
        assert_eq!(root.unwrap(), real(sent.path()));
        let root = repository_root(
            Path::new("."),
            None,
            &env_at(sent.path(), Some("envs/prod")),
        );
        assert_eq!(root.unwrap(), real(sent.path()));
        let other = sent.path().join("envs/staging");
        std::fs::create_dir_all(&other).unwrap();
        for source in ["../envs/prod", "/envs/prod"] {
            let refused = repository_root(Path::new("."), None, &env_at(&other, Some(source)))
                .unwrap_err()
                .to_string();
            assert!(
                refused.contains("is not a path inside the repository"),
                "{refused}"
            );
        }
    }

    #[test]
    fn the_nearest_git_folder_reached_without_a_link_is_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let foreign = dir.path().join("foreign");
        for folder in [repo.join(".git"), repo.join("envs"), foreign.join(".git")] {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::create_dir_all(repo.join("envs/staging")).unwrap();
        // A pull request turns envs/prod into a link to another checkout.
        std::os::unix::fs::symlink("../../foreign", repo.join("envs/prod")).unwrap();
        let env = env_at(dir.path(), None);
        let root = repository_root(Path::new("repo/envs/prod"), None, &env).unwrap();
        assert_eq!(root, real(&repo));
        let root = repository_root(Path::new("repo/envs/prod/../staging"), None, &env).unwrap();
        assert_eq!(root, real(&repo));

        // Without a repository around it, a PATH through a link has no root kdrender can tell.
        std::fs::remove_dir(repo.join(".git")).unwrap();
        let refused = repository_root(Path::new("repo/envs/prod"), None, &env).unwrap_err();
        let diagnostic = Diagnostic::from(refused);
        assert!(
            diagnostic.message.contains("passes through the symlink"),
            "{}",
            diagnostic.message
        );
        assert_eq!(
            diagnostic.help.as_deref(),
            Some("run kdrender from inside the repository, or name it with --root")
        );
        // Unless the user names the root: --root may be a link, the user chose it.
        let root = repository_root(Path::new("repo/envs/prod"), Some(Path::new("repo")), &env);
        assert_eq!(root.unwrap(), real(dir.path()).join("repo"));
    }
}
