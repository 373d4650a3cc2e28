//! kdrender: KubeDirector apps and clusters in, Kubernetes objects out, offline and byte-identical.
//!
//! The pipeline, one module per step (see ARCHITECTURE.md):
//!
//! ```text
//! PATH ─load─▶ Inputs ─validate─▶ Model ─resolve─▶ Topology ─render─▶ Objects ─hash─▶ ─emit─▶ YAML
//!       (files, spans)   (typed, defaulted)  (names, FQDNs)   (as data)   (rollout)  (sorted)
//! ```
//!
//! The library never prints: [`run`] returns what belongs on stdout and stderr and the exit code,
//! and `main` writes them.

#![forbid(unsafe_code)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod argocd;
pub mod cli;
pub mod diag;
pub mod diff;
pub mod document;
pub mod emit;
pub mod hash;
pub mod krm;
pub mod load;
pub mod model;
pub mod names;
pub mod output_dir;
mod parallel;
pub mod quantity;
pub mod raw;
pub mod render;
pub mod resolve;
pub mod source;
pub mod validate;
pub mod visible;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use cli::{ArgocdCommand, Command, Environment, InputOptions};
use diag::{Diagnostic, Diagnostics, Stage};
use load::{InputLimits, Inputs, Reader};
use model::Model;
use render::Object;
use source::SourceMap;
use validate::{SchemaKind, Scope};

/// Exit codes, as documented in the README.
pub mod exit {
    pub const SUCCESS: i32 = 0;
    /// The input is invalid (any error in the report).
    pub const INVALID_INPUT: i32 = 1;
    /// The command line is wrong (clap uses this code too).
    pub const USAGE: i32 = 2;
    /// `diff --exit-code`: the change does something.
    pub const CHANGES_FOUND: i32 = crate::diff::CHANGES_FOUND;
}

/// Text for stdout, kept in the pieces it was made in: a large render is never copied into one
/// string, which keeps peak memory near the size of the output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    pieces: Vec<String>,
}

impl Text {
    pub fn pieces(&self) -> &[String] {
        &self.pieces
    }

    pub fn len(&self) -> usize {
        self.pieces.iter().map(String::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.iter().all(String::is_empty)
    }

    pub fn push(&mut self, piece: String) {
        self.pieces.push(piece);
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text { pieces: vec![text] }
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.pieces.iter().try_for_each(|piece| f.write_str(piece))
    }
}

/// What a command produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: Text,
    pub stderr: String,
    pub code: i32,
}

/// A successful render: the objects in output order and the text of the diagnostics.
pub struct Rendered {
    pub objects: Vec<Object>,
    pub diagnostics: Diagnostics,
    pub sources: SourceMap,
}

/// A failed render.
pub struct Failure {
    pub diagnostics: Diagnostics,
    pub sources: SourceMap,
}

impl Failure {
    pub fn report(&self) -> String {
        self.diagnostics.render(&self.sources)
    }
}

/// Runs one command. `stdin` is read only by `fn`.
pub fn run(cli: cli::Cli, env: &Environment, stdin: &mut dyn std::io::Read) -> Outcome {
    match cli.command {
        Command::Fn => {
            let mut input = String::new();
            match krm::read_input(stdin, &mut input) {
                Ok(()) => krm::run(&input, env),
                Err(message) => Outcome {
                    stdout: Text::default(),
                    stderr: format!("error: {message}\n"),
                    code: exit::INVALID_INPUT,
                },
            }
        }
        Command::Render(args) => match args.input.options(env) {
            Ok(options) => match &args.output {
                Some(dir) => {
                    render_to_folder(&options, dir, args.allow_empty, args.max_output_bytes)
                }
                None => render_command(&options, args.allow_empty, args.max_output_bytes),
            },
            Err(diagnostic) => refused(diagnostic),
        },
        Command::Argocd {
            command: ArgocdCommand::Generate { path },
        } => match argocd::parse(env.argocd_app_parameters.as_deref(), &env.argocd_env) {
            Ok(parameters) => match InputOptions::for_argocd(&path, env, &parameters) {
                Ok(options) => {
                    render_command(&options, parameters.allow_empty, emit::MAX_OUTPUT_BYTES)
                }
                Err(diagnostic) => refused(diagnostic),
            },
            Err(message) => Outcome {
                stdout: Text::default(),
                stderr: format!("error: {message}\n"),
                code: exit::INVALID_INPUT,
            },
        },
        Command::Argocd {
            command: ArgocdCommand::Parameters,
        } => Outcome {
            stdout: Text::from(format!("{:#}\n", argocd::announcements())),
            stderr: String::new(),
            code: exit::SUCCESS,
        },
        Command::Validate(args) => match args.options(env) {
            Ok(options) => validate_command(&options),
            Err(diagnostic) => refused(diagnostic),
        },
        Command::Diff {
            path,
            base,
            namespace,
            format,
            color,
            exit_code,
        } => diff::run(
            &diff::DiffOptions {
                path: &path,
                base: &base,
                format,
                color,
                exit_code,
                namespace,
            },
            env,
        ),
        Command::Schema { kind } => match SchemaKind::from_name(&kind) {
            Some(kind) => Outcome {
                stdout: kind.text().to_string().into(),
                stderr: String::new(),
                code: exit::SUCCESS,
            },
            None => Outcome {
                stdout: Text::default(),
                stderr: format!(
                    "error: unknown schema \"{kind}\"; known: {}\n",
                    SchemaKind::ALL.map(SchemaKind::name).join(", ")
                ),
                code: exit::USAGE,
            },
        },
    }
}

/// A run refused before anything is read (the repository root cannot be decided safely).
fn refused(diagnostic: Diagnostic) -> Outcome {
    let mut diagnostics = Diagnostics::default();
    diagnostics.push(diagnostic);
    Outcome {
        stdout: Text::default(),
        stderr: diagnostics.render(&SourceMap::default()),
        code: exit::INVALID_INPUT,
    }
}

/// The error for a render that produced nothing, unless that was asked for.
fn nothing_rendered() -> Diagnostic {
    Diagnostic::error("no objects rendered: no KubeDirectorCluster was found below the rendered folder")
        .help("pass --allow-empty if an empty result is intended (with pruning, a GitOps tool would delete everything it deployed before)")
}

/// `render` to stdout, as a YAML stream.
fn render_command(options: &InputOptions, allow_empty: bool, max_output_bytes: usize) -> Outcome {
    match render_stream(options, max_output_bytes) {
        Ok(stream) if stream.objects == 0 && !allow_empty => {
            let mut diagnostics = stream.diagnostics;
            diagnostics.push(nothing_rendered());
            Outcome {
                stdout: Text::default(),
                stderr: diagnostics.render(&stream.sources),
                code: exit::INVALID_INPUT,
            }
        }
        Ok(stream) => {
            let mut diagnostics = stream.diagnostics;
            let size = stream.yaml.len();
            if size > emit::WARN_OUTPUT_BYTES {
                diagnostics.push(Diagnostic::warning(format!(
                    "the output is {size} bytes; Argo CD keeps every render in memory and in Redis, so consider splitting this folder into several Applications"
                )));
            }
            Outcome {
                stdout: stream.yaml,
                stderr: diagnostics.render(&stream.sources),
                code: exit::SUCCESS,
            }
        }
        Err(failure) => Outcome {
            stdout: Text::default(),
            stderr: failure.report(),
            code: exit::INVALID_INPUT,
        },
    }
}

/// `render -o DIR`: replace DIR with one file per object, or leave it untouched on any error.
fn render_to_folder(
    options: &InputOptions,
    dir: &std::path::Path,
    allow_empty: bool,
    max_output_bytes: usize,
) -> Outcome {
    let rendered = match render_objects(options, Scope::UsedApps, max_output_bytes) {
        Ok(rendered) => rendered,
        Err(failure) => {
            return Outcome {
                stdout: Text::default(),
                stderr: failure.report(),
                code: exit::INVALID_INPUT,
            };
        }
    };
    let mut diagnostics = rendered.diagnostics;
    if rendered.objects.is_empty() && !allow_empty {
        diagnostics.push(nothing_rendered());
    } else {
        let written = output_dir::contents(&rendered.objects)
            .and_then(|files| output_dir::replace(dir, &files).map(|()| files.len()));
        match written {
            Ok(files) => {
                let mut stderr = diagnostics.render(&rendered.sources);
                stderr.push_str(&format!(
                    "wrote {} object(s) and kustomization.yaml to {} ({files} files)\n",
                    rendered.objects.len(),
                    dir.display()
                ));
                return Outcome {
                    stdout: Text::default(),
                    stderr,
                    code: exit::SUCCESS,
                };
            }
            Err(message) => diagnostics.push(Diagnostic::error(message)),
        }
    }
    Outcome {
        stdout: Text::default(),
        stderr: diagnostics.render(&rendered.sources),
        code: exit::INVALID_INPUT,
    }
}

fn validate_command(options: &InputOptions) -> Outcome {
    // Rendering everything also checks the templates; the objects are not kept.
    let (result, counts) = match pipeline(options, Scope::Everything, &|_| Ok(())) {
        Ok((batches, counts)) => (Ok(batches), counts),
        Err((failure, counts)) => (Err(failure), counts),
    };
    let (mut stderr, errors) = match &result {
        Ok(rendered) => (rendered.diagnostics.render(&rendered.sources), 0),
        Err(failure) => (failure.report(), failure.diagnostics.error_count()),
    };
    let warnings = match &result {
        Ok(rendered) => rendered.diagnostics.warning_count(),
        Err(failure) => failure.diagnostics.warning_count(),
    };
    stderr.push_str(&format!(
        "checked {} app(s) and {} cluster(s): {errors} error(s), {warnings} warning(s)\n",
        counts.0, counts.1
    ));
    Outcome {
        stdout: Text::default(),
        stderr,
        code: if errors > 0 {
            exit::INVALID_INPUT
        } else {
            exit::SUCCESS
        },
    }
}

/// Loads, validates, resolves and renders everything below `options.path`, keeping every
/// object (for folder output, KRM functions and diffs). Objects are held in memory, so their
/// size counts against the same output limit as the stream's, and rendering stops once it is
/// passed.
pub fn render_objects(
    options: &InputOptions,
    scope: Scope,
    max_bytes: usize,
) -> Result<Rendered, Failure> {
    let written = AtomicUsize::new(0);
    let within_limit = |objects: Vec<Object>| -> Result<Vec<Object>, Diagnostic> {
        let size = objects.iter().map(|o| emit::json_size(&o.value)).sum();
        count_output(&written, size, max_bytes)?;
        Ok(objects)
    };
    let (batches, _) = pipeline(options, scope, &within_limit).map_err(|(failure, _)| failure)?;
    Ok(Rendered {
        objects: batches.items.into_iter().flatten().collect(),
        diagnostics: batches.diagnostics,
        sources: batches.sources,
    })
}

/// Adds one cluster's output to what the run has written so far; an error once the run's output
/// would pass `max_bytes`.
fn count_output(written: &AtomicUsize, size: usize, max_bytes: usize) -> Result<(), Diagnostic> {
    let total = written
        .fetch_add(size, Ordering::Relaxed)
        .saturating_add(size);
    if total > max_bytes {
        return Err(Diagnostic::error(format!(
            "the output would be more than {max_bytes} bytes, the limit; Argo CD and Flux cannot take that much from one render"
        ))
        .help("split the repository into several Applications or folders (render --max-output-bytes raises the limit)"));
    }
    Ok(())
}

/// A rendered YAML stream.
pub struct Stream {
    pub yaml: Text,
    pub objects: usize,
    pub diagnostics: Diagnostics,
    pub sources: SourceMap,
}

/// Renders everything below `options.path` as one YAML stream. Clusters are rendered in
/// parallel and turned into text as soon as each is done, so the objects of all clusters are
/// never held at once; the text is the same as serialising [`render_objects`]' output in order.
pub fn render_stream(options: &InputOptions, max_bytes: usize) -> Result<Stream, Failure> {
    let written = AtomicUsize::new(0);
    let to_yaml = |objects: Vec<Object>| -> Result<(String, usize), Diagnostic> {
        let mut text = String::new();
        for object in &objects {
            text.push_str("---\n");
            text.push_str(
                &emit::to_yaml(&object.value).map_err(|e| Diagnostic::error(e.to_string()))?,
            );
        }
        text.shrink_to_fit();
        count_output(&written, text.len(), max_bytes)?;
        Ok((text, objects.len()))
    };
    let (batches, _) =
        pipeline(options, Scope::UsedApps, &to_yaml).map_err(|(failure, _)| failure)?;
    let mut yaml = Text::default();
    let mut objects = 0;
    for (text, count) in batches.items {
        yaml.push(text);
        objects += count;
    }
    Ok(Stream {
        yaml,
        objects,
        diagnostics: batches.diagnostics,
        sources: batches.sources,
    })
}

type Counts = (usize, usize);

/// One converted value per cluster, in output order.
struct Batches<T> {
    items: Vec<T>,
    diagnostics: Diagnostics,
    sources: SourceMap,
}

/// What each cluster's rendering hands back to the merge: the identities of its objects (for
/// the duplicate check across clusters), its converted objects, and its diagnostics.
type ClusterResult<T> = (
    Vec<emit::Identity>,
    Option<Result<T, Diagnostic>>,
    Diagnostics,
);

/// Load, validate, resolve, then render each cluster (in parallel) and convert its finished
/// objects with `convert`. Errors anywhere fail the whole run.
fn pipeline<T: Send>(
    options: &InputOptions,
    scope: Scope,
    convert: &(dyn Fn(Vec<Object>) -> Result<T, Diagnostic> + Sync),
) -> Result<(Batches<T>, Counts), (Failure, Counts)> {
    let mut diagnostics = Diagnostics::default();
    let mut reader = match Reader::new(&options.path, &options.root, InputLimits::default()) {
        Ok(reader) => reader,
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            return Err((
                Failure {
                    diagnostics,
                    sources: SourceMap::default(),
                },
                (0, 0),
            ));
        }
    };
    let mut inputs: Inputs = load::load(&mut reader, &mut diagnostics);
    let counts = (inputs.apps.len(), inputs.clusters.len());
    if scope == Scope::Everything {
        for (origin, what) in &inputs.others {
            diagnostics.push(Diagnostic::note(what.clone()).at(*origin));
        }
    }
    diagnostics.enter(Stage::Validate);
    let model: Model = validate::validate(&inputs, &options.overrides, scope, &mut diagnostics);
    diagnostics.enter(Stage::Resolve);
    let topologies = resolve::resolve(&model, &inputs.sources, &mut diagnostics);
    diagnostics.enter(Stage::Render);

    let folders = load::templates::read(
        &model.apps,
        &mut reader,
        &mut inputs.sources,
        &mut diagnostics,
    );
    let templates =
        render::files::compile(&model.apps, &folders, &inputs.sources, &mut diagnostics);
    let mut items = Vec::new();
    if !diagnostics.has_errors() {
        // Output order: by namespace and cluster name, then kind and name within a cluster.
        let mut order: Vec<usize> = (0..topologies.len()).collect();
        order.sort_by(|&a, &b| {
            let key = |t: &resolve::Topology<'_>| (t.namespace.clone(), t.cluster.name.clone());
            key(&topologies[a]).cmp(&key(&topologies[b]))
        });
        let sources = &inputs.sources;
        // Once a cluster's conversion fails (the output limit), the clusters not yet rendered
        // are not: the run fails anyway, and must not first spend the time and memory.
        let stopped = AtomicBool::new(false);
        let results: Vec<ClusterResult<T>> = parallel::map(&order, |&index| {
            let topology = &topologies[index];
            let mut local = Diagnostics::default();
            local.enter(Stage::Render);
            if stopped.load(Ordering::Relaxed) {
                return (Vec::new(), None, local);
            }
            let objects = render::render_cluster(
                topology,
                &topologies,
                templates.get(&topology.cluster.app_key),
                &model.settings,
                sources,
                &mut local,
            );
            let objects = emit::finish_cluster(objects);
            let identities = objects.iter().map(emit::Identity::of).collect();
            let converted = (!local.has_errors()).then(|| convert(objects));
            if matches!(converted, Some(Err(_))) {
                stopped.store(true, Ordering::Relaxed);
            }
            (identities, converted, local)
        });
        let mut seen = emit::Identities::default();
        for (identities, converted, local) in results {
            diagnostics.extend(local);
            for identity in identities {
                seen.insert(identity, sources, &mut diagnostics);
            }
            match converted {
                Some(Ok(item)) => items.push(item),
                Some(Err(diagnostic)) => diagnostics.push(diagnostic),
                None => {}
            }
        }
    }
    if diagnostics.has_errors() {
        return Err((
            Failure {
                diagnostics,
                sources: inputs.sources,
            },
            counts,
        ));
    }
    Ok((
        Batches {
            items,
            diagnostics,
            sources: inputs.sources,
        },
        counts,
    ))
}
