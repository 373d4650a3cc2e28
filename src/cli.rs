//! The command line, on top of everything: a plain clap image of the arguments, turned into
//! resolved options ([`crate::options`]) in one place per command, and the dispatch to the
//! commands ([`run`]). Nothing else in the crate imports this module.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::commands::{self, Outcome};
use crate::kube_version::KubeVersion;
use crate::load::Files;
use crate::options::{
    DiffOptions, Environment, Format, InputOptions, OptionsError, ReportFormat, StreamFormat,
    repository_root,
};
use crate::validate::Overrides;

/// What `--version` prints after the name: the version, and the commit it was built from
/// (recorded by build.rs). It reaches `--version` and the man page, never rendered output.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("KDRENDER_BUILD"), ")");

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
    match Cli::try_parse_from(args).and_then(Cli::checked) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    }
}

/// Runs the command the arguments name. `stdin` is read only by `fn` and `adopt -`.
pub fn run(cli: Cli, env: &Environment, stdin: &mut dyn Read) -> Outcome {
    match cli.command {
        Command::Render(args) => render(&args, env),
        Command::Validate(args) => {
            let options = args.input.options(&args.target, env);
            commands::validate::run(options, args.format, env)
        }
        Command::Schema { kind } => commands::schema::run(&kind),
        Command::Diff(args) => commands::diff::run(&args.options(env), env),
        Command::Fn => commands::function::run(stdin, env),
        Command::Adopt { export } => commands::adopt::run(&export, stdin),
        Command::Argocd { command } => match command {
            ArgocdCommand::Generate { path } => commands::argocd::generate(&path, env),
            ArgocdCommand::Parameters => commands::argocd::parameters(),
        },
        Command::Completions { shell } => commands::completions::run(shell, Cli::command()),
        Command::Man { command } => commands::man::run(Cli::command(), command.as_deref()),
    }
}

/// `render`, to stdout or into a folder.
fn render(args: &RenderArgs, env: &Environment) -> Outcome {
    let options = match args.input.options(&args.target, env) {
        Ok(options) => options,
        Err(error) => return Outcome::refused(error),
    };
    let (allow_empty, max_bytes) = (args.allow_empty, args.max_output_bytes);
    match &args.output_dir {
        Some(dir) => commands::render::to_folder(&options, dir, allow_empty, max_bytes),
        None => {
            let limits = (max_bytes, args.spool_threshold);
            commands::render::stream(&options, args.output, allow_empty, limits)
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "kdrender",
    version = VERSION,
    about = "Render KubeDirector apps and clusters into Kubernetes objects, offline and byte-identical",
    long_about = None,
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// What clap cannot check one value at a time: a label key given twice.
    fn checked(self) -> Result<Cli, clap::Error> {
        let target = match &self.command {
            Command::Render(args) => &args.target,
            Command::Validate(args) => &args.target,
            Command::Diff(args) => &args.target,
            _ => return Ok(self),
        };
        let mut seen = BTreeMap::new();
        for (key, value) in &target.labels {
            if let Some(first) = seen.insert(key, value) {
                let message = format!(
                    "--label {key} is given twice ({key}={first} and {key}={value}); give each label once"
                );
                return Err(Cli::command().error(ErrorKind::ArgumentConflict, message));
            }
        }
        Ok(self)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every object the clusters below PATH need, as a YAML stream (or a JSON List) on
    /// stdout, or write them into a folder.
    Render(RenderArgs),
    /// Check every app and cluster below PATH and report all problems; prints no objects.
    Validate(ValidateArgs),
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
    /// Print an Adoption for each cluster of a live KubeDirector's export (`kubectl get
    /// kubedirectorcluster NAME -o yaml`): the names and node ids to keep when moving it over.
    Adopt {
        /// The export: a file, or - for stdin.
        export: PathBuf,
    },
    /// Argo CD config-management plugin commands (see plugin.yaml).
    Argocd {
        #[command(subcommand)]
        command: ArgocdCommand,
    },
    /// Print a completion script for a shell. Bash: `source <(kdrender completions bash)`;
    /// zsh: `kdrender completions zsh > "${fpath[1]}/_kdrender"`; fish:
    /// `kdrender completions fish > ~/.config/fish/completions/kdrender.fish`.
    Completions {
        /// bash, zsh, fish, powershell or elvish
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of kdrender, or of one of its commands:
    /// `kdrender man | man -l -`, or `kdrender man > kdrender.1`.
    Man {
        /// A command, for its own page (kdrender-render(1) and so on).
        command: Option<String>,
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

/// What the Argo CD plugin's parameters choose, for local runs that reproduce its output, and
/// the Kubernetes version the output is for.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Render only this KubeDirectorCluster (repeatable): the plugin's `clusters` parameter.
    #[arg(long = "cluster", value_name = "NAME")]
    pub clusters: Vec<String>,
    /// Add this label to every object (repeatable): the plugin's `labels` parameter.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
    /// The Kubernetes version the output is for (1.27, v1.27.3): a field that version lacks is
    /// an error, one behind a feature gate it has off by default a warning.
    #[arg(long, value_name = "X.Y", value_parser = parse_kube_version)]
    pub kube_version: Option<KubeVersion>,
}

impl TargetArgs {
    /// The overrides these arguments make, on top of `namespace` and Argo CD's namespace.
    fn overrides(&self, namespace: Option<&String>, env: &Environment) -> Overrides {
        Overrides {
            namespace: namespace.cloned(),
            argocd_namespace: env.argocd_app_namespace.clone(),
            // As the plugin's parameter: an empty list means every cluster.
            clusters: (!self.clusters.is_empty()).then(|| self.clusters.clone()),
            labels: self.labels.iter().cloned().collect(),
        }
    }
}

/// `--label KEY=VALUE`: split at the first `=`; the key and value are judged like the plugin's
/// (in the settings' validation, with the same messages).
fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) => Ok((key.to_string(), value.to_string())),
        None => Err(format!(
            "a label is KEY=VALUE, as in team=data; \"{text}\" has no ="
        )),
    }
}

fn parse_kube_version(text: &str) -> Result<KubeVersion, String> {
    KubeVersion::parse(text).map_err(|error| error.to_string())
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// text for people (stderr); json, every problem in a versioned document, or github,
    /// annotations for GitHub Actions (stdout)
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
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
    #[command(flatten)]
    pub target: TargetArgs,
    /// Text for reviewers, or JSON for bots (documented in docs/diff.md, versioned).
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
    #[command(flatten)]
    pub target: TargetArgs,
    /// Succeed with no objects. Without it, rendering nothing is an error: a GitOps tool with
    /// pruning would delete everything it deployed before.
    #[arg(long)]
    pub allow_empty: bool,
    /// Refuse to print or write more than this many bytes (Argo CD's gRPC limit is 100 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = crate::emit::MAX_OUTPUT_BYTES)]
    pub max_output_bytes: usize,
    /// The stream's format: yaml, or json (one v1 List, as `kubectl get -o json` prints).
    #[arg(short = 'o', long, value_name = "FORMAT", default_value = "yaml", value_parser = StreamFormatParser)]
    pub output: StreamFormat,
    /// Write one file per object and a kustomization.yaml into DIR, replacing it as a whole,
    /// instead of printing a stream.
    #[arg(long, value_name = "DIR", conflicts_with = "output", value_parser = parse_output_dir)]
    pub output_dir: Option<PathBuf>,
    /// For tests: how many bytes of the stream are held in memory before it moves to a
    /// temporary file (see src/spool.rs). Hidden: not a setting for users.
    #[arg(long, hide = true, value_name = "BYTES", default_value_t = crate::spool::DEFAULT_THRESHOLD)]
    pub spool_threshold: usize,
}

/// `-o yaml|json`, with a usage error that points a folder at `--output-dir` (`-o DIR` wrote a
/// folder before).
#[derive(Clone, Debug)]
struct StreamFormatParser;

impl TypedValueParser for StreamFormatParser {
    type Value = StreamFormat;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<StreamFormat, clap::Error> {
        let text = value.to_string_lossy();
        StreamFormat::from_str(&text, false).map_err(|_| {
            let message = format!(
                "-o/--output takes the stream's format, yaml or json, not \"{text}\"; to write one file per object into a folder, use --output-dir {text}"
            );
            cmd.clone().error(ErrorKind::InvalidValue, message)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            StreamFormat::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

/// `--output-dir DIR`, never `-`, `json` or `yaml`: those are what `-o` takes, and a folder of
/// that name is surely a slip (`./json` writes one on purpose).
fn parse_output_dir(text: &str) -> Result<PathBuf, String> {
    match text {
        "-" => Err("\"-\" is not a folder; without --output-dir, the stream goes to stdout".into()),
        "json" | "yaml" | "yml" => Err(format!(
            "\"{text}\" is a format, not a folder: -o {} prints the stream as {text}; a folder of that name is --output-dir ./{text}",
            if text == "json" { "json" } else { "yaml" }
        )),
        _ => Ok(PathBuf::from(text)),
    }
}

impl InputArgs {
    /// The input options these arguments and the environment decide.
    pub fn options(
        &self,
        target: &TargetArgs,
        env: &Environment,
    ) -> Result<InputOptions, OptionsError> {
        Ok(InputOptions {
            path: self.path.clone(),
            root: repository_root(&self.path, self.root.as_deref(), env)?,
            overrides: target.overrides(self.namespace.as_ref(), env),
            kube_version: target.kube_version,
            files: Files::Disk,
        })
    }
}

impl DiffArgs {
    /// The diff options these arguments and the environment decide.
    pub fn options(&self, env: &Environment) -> DiffOptions {
        DiffOptions {
            path: self.path.clone(),
            base: self.base.clone(),
            // Both sides render every cluster, and the comparison keeps those named: a cluster
            // new in the working tree, or removed from it, may be named too.
            overrides: Overrides {
                clusters: None,
                ..self.target.overrides(self.namespace.as_ref(), env)
            },
            kube_version: self.target.kube_version,
            format: self.format,
            color: match self.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => env.stdout_is_terminal && !env.no_color,
            },
            exit_code: self.exit_code,
            stat: self.stat,
            clusters: self.target.clusters.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(args).and_then(Cli::checked)
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_folder_given_to_o_is_a_usage_error_that_names_output_dir() {
        let error = parsed(&["kdrender", "render", "-o", "out"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidValue);
        assert!(
            error.to_string().contains("use --output-dir out"),
            "{error}"
        );
        for name in ["-", "json", "yaml"] {
            let error = parsed(&["kdrender", "render", "--output-dir", name]).unwrap_err();
            assert_eq!(error.exit_code(), crate::exit::USAGE, "{error}");
        }
        let error = parsed(&["kdrender", "render", "-o", "json", "--output-dir", "x"]);
        assert_eq!(error.unwrap_err().kind(), ErrorKind::ArgumentConflict);
    }

    #[test]
    fn labels_are_key_value_pairs_given_once() {
        let cli = parsed(&["kdrender", "validate", "--label", "a=b=c", "--label", "t="]).unwrap();
        let Command::Validate(args) = cli.command else {
            panic!("not validate")
        };
        let overrides = args.target.overrides(None, &Environment::default());
        assert_eq!(overrides.labels["a"], "b=c");
        assert_eq!(overrides.labels["t"], "");
        assert_eq!(overrides.clusters, None);
        let error = parsed(&["kdrender", "render", "--label", "team"]).unwrap_err();
        assert!(error.to_string().contains("has no ="), "{error}");
        let error = parsed(&["kdrender", "diff", "--label", "t=a", "--label", "t=b"]).unwrap_err();
        assert!(
            error.to_string().contains("--label t is given twice"),
            "{error}"
        );
        assert_eq!(error.exit_code(), crate::exit::USAGE);
    }
}
