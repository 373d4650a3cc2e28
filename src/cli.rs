//! The command line: a plain clap image of the arguments, turned into resolved options in one
//! place ([`InputArgs::options`]).

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::validate::Overrides;

#[derive(Debug, Parser)]
#[command(
    name = "kdrender",
    version,
    about = "Render KubeDirector apps and clusters into Kubernetes objects, offline and byte-identical",
    long_about = None,
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every object the clusters below PATH need, as a YAML stream on stdout.
    Render(RenderArgs),
    /// Check every app and cluster below PATH and report all problems; prints no objects.
    Validate(InputArgs),
    /// Print the JSON Schema of an input format: app, cluster or settings.
    Schema {
        /// app, cluster or settings
        kind: String,
    },
    /// Show what a change does: objects added, removed and changed, the rollout plan (which
    /// StatefulSets restart and why), and warnings; compares a base revision with the working tree.
    Diff {
        /// Folder to render, inside a Git working tree.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The revision to compare with: a branch, tag or commit (in CI, `origin/main`).
        #[arg(long, default_value = "HEAD")]
        base: String,
        /// Namespace for clusters that name none, on both sides.
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// Text for reviewers, or JSON for bots (documented in the README, versioned).
        #[arg(long, value_enum, default_value_t = crate::diff::Format::Text)]
        format: crate::diff::Format,
        /// Colour the text on a terminal (auto, unless NO_COLOR is set), always or never.
        #[arg(long, value_enum, default_value_t = crate::diff::Color::Auto)]
        color: crate::diff::Color,
        /// Exit with code 3 when anything changes (0 when nothing does).
        #[arg(long)]
        exit_code: bool,
    },
    /// Run as a KRM function: read a ResourceList on stdin, write it back with the rendered
    /// objects added (for kustomize and kpt). Also what `kdrender-fn` (a link to kdrender) does.
    Fn,
    /// Argo CD config-management plugin commands (see plugin.yaml).
    Argocd {
        #[command(subcommand)]
        command: ArgocdCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ArgocdCommand {
    /// Argo CD's `generate`: render PATH with the Application's plugin parameters
    /// (ARGOCD_APP_PARAMETERS) and destination namespace (ARGOCD_APP_NAMESPACE).
    Generate {
        #[arg(default_value = ".")]
        path: PathBuf,
    },
    /// Print the plugin's parameter announcements as JSON, with their defaults.
    Parameters,
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Folder to render: every .yaml, .yml and .json file below it is an input.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Namespace for clusters that name none (overrides ARGOCD_APP_NAMESPACE and kdrender.yaml).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Repository root: nothing outside it is read. Default: the nearest folder above PATH that
    /// holds .git (under Argo CD: derived from ARGOCD_APP_SOURCE_PATH), else PATH itself.
    #[arg(long)]
    pub root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Succeed with no objects. Without it, rendering nothing is an error: a GitOps tool with
    /// pruning would delete everything it deployed before.
    #[arg(long)]
    pub allow_empty: bool,
    /// Refuse to print more than this many bytes (Argo CD's gRPC limit is 100 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = crate::emit::MAX_OUTPUT_BYTES)]
    pub max_output_bytes: usize,
    /// Write one file per object and a kustomization.yaml into DIR, replacing it as a whole,
    /// instead of printing a stream.
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

/// The process environment variables kdrender reads, gathered by `main`.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    /// Argo CD's destination namespace for the Application.
    pub argocd_app_namespace: Option<String>,
    /// Argo CD's `spec.source.path`: the app folder relative to the repository root.
    pub argocd_app_source_path: Option<String>,
    /// Argo CD's plugin parameters, as JSON.
    pub argocd_app_parameters: Option<String>,
    /// Argo CD's `plugin.env` entries, by name without the `ARGOCD_ENV_` prefix.
    pub argocd_env: std::collections::BTreeMap<String, String>,
    /// Whether stdout is a terminal (for colour in `diff`).
    pub stdout_is_terminal: bool,
    /// `NO_COLOR` is set.
    pub no_color: bool,
}

impl Environment {
    pub fn from_process() -> Environment {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Environment {
            argocd_app_namespace: var("ARGOCD_APP_NAMESPACE"),
            argocd_app_source_path: var("ARGOCD_APP_SOURCE_PATH"),
            argocd_app_parameters: var("ARGOCD_APP_PARAMETERS"),
            argocd_env: std::env::vars()
                .filter_map(|(key, value)| {
                    key.strip_prefix("ARGOCD_ENV_")
                        .map(|name| (name.to_string(), value))
                })
                .collect(),
            stdout_is_terminal: std::io::IsTerminal::is_terminal(&std::io::stdout()),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }
}

/// Resolved input options.
#[derive(Clone, Debug)]
pub struct InputOptions {
    pub path: PathBuf,
    pub root: PathBuf,
    pub overrides: Overrides,
}

impl InputArgs {
    pub fn options(&self, env: &Environment) -> InputOptions {
        InputOptions {
            path: self.path.clone(),
            root: repository_root(&self.path, self.root.as_deref(), env),
            overrides: Overrides {
                namespace: self.namespace.clone(),
                argocd_namespace: env.argocd_app_namespace.clone(),
                ..Overrides::default()
            },
        }
    }
}

impl InputOptions {
    /// Options for Argo CD's `generate`: PATH, the repository root Argo CD unpacked, and the
    /// Application's parameters.
    pub fn for_argocd(
        path: &Path,
        env: &Environment,
        parameters: &crate::argocd::Parameters,
    ) -> InputOptions {
        InputOptions {
            path: path.to_path_buf(),
            root: repository_root(path, None, env),
            overrides: Overrides {
                namespace: parameters.namespace.clone(),
                argocd_namespace: env.argocd_app_namespace.clone(),
                clusters: parameters.clusters.clone(),
                labels: parameters.labels.clone(),
            },
        }
    }
}

/// Where confinement ends: `--root`; else, under Argo CD, the folder that `ARGOCD_APP_SOURCE_PATH`
/// is relative to; else the nearest folder above PATH holding `.git`; else PATH.
fn repository_root(path: &Path, explicit: Option<&Path>, env: &Environment) -> PathBuf {
    if let Some(root) = explicit {
        return root.to_path_buf();
    }
    let Ok(base) = std::fs::canonicalize(path) else {
        return path.to_path_buf();
    };
    if let Some(source_path) = &env.argocd_app_source_path {
        let relative: Vec<_> = Path::new(source_path)
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .collect();
        let mut root = base.clone();
        let mut matched = true;
        for component in relative.iter().rev() {
            if root.file_name() == Some(component.as_os_str()) {
                root.pop();
            } else {
                matched = false;
                break;
            }
        }
        if matched {
            return root;
        }
    }
    base.ancestors()
        .find(|dir| dir.join(".git").exists())
        .map_or(base.clone(), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argo_source_path_gives_the_root_above_the_app_folder() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("envs/prod");
        std::fs::create_dir_all(&app).unwrap();
        let env = Environment {
            argocd_app_source_path: Some("envs/prod".into()),
            ..Environment::default()
        };
        let root = repository_root(&app, None, &env);
        assert_eq!(root, std::fs::canonicalize(dir.path()).unwrap());
        // A path that does not end in the source path falls back to PATH.
        let other = repository_root(dir.path(), None, &env);
        assert_eq!(other, std::fs::canonicalize(dir.path()).unwrap());
    }
}
