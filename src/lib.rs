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

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod cli;
pub mod diag;
pub mod document;
pub mod emit;
pub mod hash;
pub mod load;
pub mod model;
pub mod names;
pub mod quantity;
pub mod raw;
pub mod render;
pub mod resolve;
pub mod source;
pub mod validate;

use std::collections::BTreeMap;

use cli::{Command, Environment, InputOptions};
use diag::{Diagnostic, Diagnostics};
use load::{InputLimits, Inputs, Reader};
use model::{AppSource, Model};
use render::{Object, TemplateSet};
use source::SourceMap;
use validate::{SchemaKind, Scope};

/// Exit codes, as documented in the README.
pub mod exit {
    pub const SUCCESS: i32 = 0;
    /// The input is invalid (any error in the report).
    pub const INVALID_INPUT: i32 = 1;
    /// The command line is wrong (clap uses this code too).
    pub const USAGE: i32 = 2;
}

/// What a command produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: String,
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

/// Runs one command.
pub fn run(cli: cli::Cli, env: &Environment) -> Outcome {
    match cli.command {
        Command::Render(args) => {
            let options = args.input.options(env);
            match render_objects(&options, Scope::UsedApps) {
                Ok(rendered) => {
                    if rendered.objects.is_empty() && !args.allow_empty {
                        return failed(
                            Diagnostic::error(
                                "no objects rendered: no KubeDirectorCluster was found below the rendered folder",
                            )
                            .help("pass --allow-empty if an empty result is intended (with pruning, a GitOps tool would delete everything it deployed before)"),
                            rendered,
                        );
                    }
                    match emit::yaml_stream(&rendered.objects, emit::MAX_OUTPUT_BYTES) {
                        Ok(stdout) => Outcome {
                            stdout,
                            stderr: rendered.diagnostics.render(&rendered.sources),
                            code: exit::SUCCESS,
                        },
                        Err(message) => failed(Diagnostic::error(message), rendered),
                    }
                }
                Err(failure) => Outcome {
                    stdout: String::new(),
                    stderr: failure.report(),
                    code: exit::INVALID_INPUT,
                },
            }
        }
        Command::Validate(args) => validate_command(&args.options(env)),
        Command::Schema { kind } => match SchemaKind::from_name(&kind) {
            Some(kind) => Outcome {
                stdout: kind.text().to_string(),
                stderr: String::new(),
                code: exit::SUCCESS,
            },
            None => Outcome {
                stdout: String::new(),
                stderr: format!(
                    "error: unknown schema \"{kind}\"; known: {}\n",
                    SchemaKind::ALL.map(SchemaKind::name).join(", ")
                ),
                code: exit::USAGE,
            },
        },
    }
}

fn failed(diagnostic: Diagnostic, rendered: Rendered) -> Outcome {
    let mut diagnostics = rendered.diagnostics;
    diagnostics.push(diagnostic);
    Outcome {
        stdout: String::new(),
        stderr: diagnostics.render(&rendered.sources),
        code: exit::INVALID_INPUT,
    }
}

fn validate_command(options: &InputOptions) -> Outcome {
    let (result, counts) = match pipeline(options, Scope::Everything) {
        Ok((rendered, inputs_summary)) => (Ok(rendered), inputs_summary),
        Err((failure, inputs_summary)) => (Err(failure), inputs_summary),
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
        stdout: String::new(),
        stderr,
        code: if errors > 0 {
            exit::INVALID_INPUT
        } else {
            exit::SUCCESS
        },
    }
}

/// Loads, validates, resolves and renders everything below `options.path`.
pub fn render_objects(options: &InputOptions, scope: Scope) -> Result<Rendered, Failure> {
    pipeline(options, scope).map(|(r, _)| r).map_err(|(f, _)| f)
}

type Counts = (usize, usize);

fn pipeline(options: &InputOptions, scope: Scope) -> Result<(Rendered, Counts), (Failure, Counts)> {
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
    let model: Model = validate::validate(&inputs, &options.overrides, scope, &mut diagnostics);
    let topologies = resolve::resolve(&model, &inputs.sources, &mut diagnostics);

    let mut templates: BTreeMap<(AppSource, String), TemplateSet> = BTreeMap::new();
    for (key, app) in &model.apps {
        if let Some(set) =
            render::files::load(app, &mut reader, &mut inputs.sources, &mut diagnostics)
        {
            templates.insert(key.clone(), set);
        }
    }
    let mut objects = Vec::new();
    if !diagnostics.has_errors() {
        for topology in &topologies {
            objects.extend(render::render_cluster(
                topology,
                &topologies,
                templates.get(&topology.cluster.app_key),
                &model.settings,
                &inputs.sources,
                &mut diagnostics,
            ));
        }
        objects = emit::finish(objects, &inputs.sources, &mut diagnostics);
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
        Rendered {
            objects,
            diagnostics,
            sources: inputs.sources,
        },
        counts,
    ))
}
