//! The command line, on top of everything: a plain clap image of the arguments, turned into
//! resolved options ([`crate::options`]) in one place per command, and the dispatch to the
//! commands ([`run`]). Nothing else in the crate imports this module.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::commands::{self, Outcome};
use crate::options::{
    DiffOptions, Environment, Format, InputOptions, OptionsError, repository_root,
};
use crate::validate::Overrides;

/// Parses the process's arguments; on a usage error, clap prints it and exits with code 2.
/// Invoked as `kdrender-fn` (a link, for kustomize's exec functions, which pass no arguments),
/// kdrender acts as `kdrender fn`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Cli {
    let mut args: Vec<OsString> = args.into_iter().collect();
    let invoked_as = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned());
    if invoked_as.as_deref() == Some("kdrender-fn") {
        args.insert(1, "fn".into());
    }
    Cli::parse_from(args)
}

/// Runs the command the arguments name. `stdin` is read only by `fn`.
pub fn run(cli: Cli, env: &Environment, stdin: &mut dyn Read) -> Outcome {
    match cli.command {
        Command::Render(args) => render(&args, env),
        Command::Validate(args) => match args.options(env) {
            Ok(options) => commands::validate::run(&options),
            Err(error) => Outcome::refused(error),
        },
        Command::Schema { kind } => commands::schema::run(&kind),
        Command::Diff(args) => commands::diff::run(&args.options(env), env),
        Command::Fn => commands::function::run(stdin, env),
        Command::Argocd { command } => match command {
            ArgocdCommand::Generate { path } => commands::argocd::generate(&path, env),
            ArgocdCommand::Parameters => commands::argocd::parameters(),
        },
    }
}

/// `render`, to stdout or into a folder.
fn render(args: &RenderArgs, env: &Environment) -> Outcome {
    let options = match args.input.options(env) {
        Ok(options) => options,
        Err(error) => return Outcome::refused(error),
    };
    let (allow_empty, max_bytes) = (args.allow_empty, args.max_output_bytes);
    match &args.output {
        Some(dir) => commands::render::to_folder(&options, dir, allow_empty, max_bytes),
        None => commands::render::stream(&options, allow_empty, max_bytes),
    }
}

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
    Diff(DiffArgs),
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
    /// Repository root: nothing outside it is read. Default, found from PATH as written and never
    /// through a symlink: the nearest folder above PATH that holds .git (under Argo CD: PATH
    /// without ARGOCD_APP_SOURCE_PATH at its end), else PATH itself.
    #[arg(long)]
    pub root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Folder to render, inside a Git working tree.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The revision to compare with: a branch, tag or commit (in CI, `origin/main`).
    #[arg(long, default_value = "HEAD")]
    pub base: String,
    /// Namespace for clusters that name none, on both sides.
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Text for reviewers, or JSON for bots (documented in the README, versioned).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Colour the text on a terminal (auto, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Exit with code 3 when anything changes (0 when nothing does).
    #[arg(long)]
    pub exit_code: bool,
    /// Counts only, like `git diff --stat`: the summary, then per group of clusters the lines
    /// each object gains and loses, without the unified diffs.
    #[arg(long)]
    pub stat: bool,
    /// Compare only the cluster with this name (repeat for more): a cluster new in the working
    /// tree or removed from it may be named too.
    #[arg(long = "cluster", value_name = "NAME")]
    pub clusters: Vec<String>,
}

/// When `diff` colours its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Succeed with no objects. Without it, rendering nothing is an error: a GitOps tool with
    /// pruning would delete everything it deployed before.
    #[arg(long)]
    pub allow_empty: bool,
    /// Refuse to print or write more than this many bytes (Argo CD's gRPC limit is 100 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = crate::emit::MAX_OUTPUT_BYTES)]
    pub max_output_bytes: usize,
    /// Write one file per object and a kustomization.yaml into DIR, replacing it as a whole,
    /// instead of printing a stream.
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

impl InputArgs {
    /// The input options these arguments and the environment decide.
    pub fn options(&self, env: &Environment) -> Result<InputOptions, OptionsError> {
        Ok(InputOptions {
            path: self.path.clone(),
            root: repository_root(&self.path, self.root.as_deref(), env)?,
            overrides: Overrides {
                namespace: self.namespace.clone(),
                argocd_namespace: env.argocd_app_namespace.clone(),
                ..Overrides::default()
            },
        })
    }
}

impl DiffArgs {
    /// The diff options these arguments and the environment decide.
    pub fn options(&self, env: &Environment) -> DiffOptions {
        DiffOptions {
            path: self.path.clone(),
            base: self.base.clone(),
            overrides: Overrides {
                namespace: self.namespace.clone(),
                argocd_namespace: env.argocd_app_namespace.clone(),
                ..Overrides::default()
            },
            format: self.format,
            color: match self.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => env.stdout_is_terminal && !env.no_color,
            },
            exit_code: self.exit_code,
            stat: self.stat,
            clusters: self.clusters.clone(),
        }
    }
}
