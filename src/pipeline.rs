//! The pipeline: load → validate → resolve → render → hash → emit, for the commands to run.
//!
//! Clusters are independent after `resolve`: each is rendered on a worker ([`crate::parallel`])
//! and its finished objects are handed to a conversion at once (YAML text for the stream, files
//! written into the staging folder for `render --output-dir`, objects kept for `fn` and
//! `diff`), which also counts them against the output limit. Results are merged in output order
//! (namespace, cluster), whatever the scheduling, as soon as a cluster and those before it are
//! done: the stream goes into a [`Spool`] as it is made (flat memory), and no run but `fn`'s and
//! `diff`'s keeps object trees.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::diag::{Diagnostic, Diagnostics, Stage};
use crate::emit::{self, Identities, Identity};
use crate::kube_version::{self, KubeVersion};
use crate::load::{self, InputLimits, Inputs, Reader};
use crate::model::{AppSource, Model};
use crate::options::{InputOptions, StreamFormat};
use crate::parallel;
use crate::patch;
use crate::render::{self, Object, TemplateSet};
use crate::resolve::{self, Resolved, Topology};
use crate::source::SourceMap;
use crate::spool::Spool;
use crate::validate::{self, Scope};

/// A successful render: the objects in output order and the diagnostics (warnings).
#[derive(Debug)]
pub struct Rendered {
    pub objects: Vec<Object>,
    pub diagnostics: Diagnostics,
    pub sources: SourceMap,
    /// How many apps and clusters were read (for a report's closing count).
    pub apps: usize,
    pub clusters: usize,
}

/// A failed render: the diagnostics, at least one of them an error, and how many apps and
/// clusters were read (for the report's closing count).
#[derive(Debug)]
pub struct Failure {
    pub diagnostics: Diagnostics,
    pub sources: SourceMap,
    pub apps: usize,
    pub clusters: usize,
}

impl Failure {
    pub fn report(&self) -> String {
        self.diagnostics.render(&self.sources)
    }
}

/// A rendered stream, spooled: YAML documents, or one JSON List.
#[derive(Debug)]
pub struct Stream {
    pub text: Spool,
    pub objects: usize,
    pub diagnostics: Diagnostics,
    pub sources: SourceMap,
    /// How many apps and clusters were read (for a report's closing count).
    pub apps: usize,
    pub clusters: usize,
}

/// What `validate` learns: every problem, and how many apps and clusters were read.
#[derive(Debug)]
pub struct Checked {
    pub diagnostics: Diagnostics,
    pub sources: SourceMap,
    pub apps: usize,
    pub clusters: usize,
}

/// Loads, validates, resolves and renders everything below `options.path`, keeping every
/// object (for KRM functions and diffs). Objects are held in memory, so their size counts
/// against the same output limit as the stream's, and rendering stops once it is passed.
pub fn render_objects(
    options: &InputOptions,
    scope: Scope,
    max_bytes: usize,
) -> Result<Rendered, Failure> {
    let keep = |objects: Vec<Object>| -> Result<(Vec<Object>, usize), Diagnostic> {
        let size = objects.iter().map(|o| emit::json_size(&o.value)).sum();
        Ok((objects, size))
    };
    let (clusters, mut rendered) = render_converted(options, scope, max_bytes, &keep)?;
    rendered.objects = clusters.into_iter().flatten().collect();
    Ok(rendered)
}

/// Loads, validates, resolves and renders everything below `options.path`, hands each
/// cluster's finished objects to `convert` on the worker that rendered it, and keeps only what
/// it returns (with its size, counted against `max_bytes`), in output order: the objects
/// themselves ([`render_objects`]), the files written ([`render_files`]), or for `diff` a
/// compact form of each object. The [`Rendered`] returned holds no objects.
pub fn render_converted<T: Send>(
    options: &InputOptions,
    scope: Scope,
    max_bytes: usize,
    convert: &(dyn Fn(Vec<Object>) -> Result<(T, usize), Diagnostic> + Sync),
) -> Result<(Vec<T>, Rendered), Failure> {
    let written = AtomicUsize::new(0);
    let counted = |objects: Vec<Object>| -> Result<T, Diagnostic> {
        let (item, size) = convert(objects)?;
        count_output(&written, size, max_bytes)?;
        Ok(item)
    };
    let mut items = Vec::new();
    let run = run(options, scope, &counted, &mut |item| items.push(item)).succeeded()?;
    let rendered = Rendered {
        objects: Vec::new(),
        diagnostics: run.diagnostics,
        sources: run.sources,
        apps: run.apps,
        clusters: run.clusters,
    };
    Ok((items, rendered))
}

/// Renders everything below `options.path` as one stream in `format`, into a [`Spool`] that
/// moves to a temporary file past `spool_threshold` bytes. Clusters are rendered in parallel and
/// turned into text as soon as each is done, and the text goes into the spool in output order
/// as soon as it and the text before it exist, so neither the objects nor the text of all
/// clusters are held at once; the text is the same as serialising [`render_objects`]' output in
/// order.
pub fn render_stream(
    options: &InputOptions,
    format: StreamFormat,
    max_bytes: usize,
    spool_threshold: usize,
) -> Result<Stream, Failure> {
    let written = AtomicUsize::new(0);
    let to_text = |objects: Vec<Object>| -> Result<(String, usize), Diagnostic> {
        let text = cluster_text(&objects, format)?;
        count_output(&written, text.len(), max_bytes)?;
        Ok((text, objects.len()))
    };
    let mut stream = StreamWriter {
        text: Spool::new(spool_threshold),
        format,
        objects: 0,
    };
    let run = run(options, Scope::UsedApps, &to_text, &mut |(text, count)| {
        stream.push(text, count);
    })
    .succeeded()?;
    let objects = stream.objects;
    Ok(Stream {
        text: stream.finish(),
        objects,
        diagnostics: run.diagnostics,
        sources: run.sources,
        apps: run.apps,
        clusters: run.clusters,
    })
}

/// One cluster's objects as text: YAML documents, or JSON List items each preceded by `,\n`
/// (the [`StreamWriter`] drops the stream's first).
fn cluster_text(objects: &[Object], format: StreamFormat) -> Result<String, Diagnostic> {
    thread_local! {
        /// The length of the last cluster's text on this thread: clusters of one run are much
        /// alike, so the next text is sized from it rather than grown by doubling.
        static LAST_LENGTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }
    let mut text = String::with_capacity(LAST_LENGTH.get());
    for object in objects {
        match format {
            StreamFormat::Yaml => {
                text.push_str("---\n");
                emit::write_yaml(&mut text, &object.value).map_err(Diagnostic::error)?;
            }
            StreamFormat::Json => {
                text.push_str(",\n");
                text.push_str(&emit::to_json_item(&object.value).map_err(Diagnostic::error)?);
            }
        }
    }
    LAST_LENGTH.set(text.len());
    Ok(text)
}

/// The stream as it is written: clusters' text in output order, with a JSON List's opening and
/// end around the items.
struct StreamWriter {
    text: Spool,
    format: StreamFormat,
    objects: usize,
}

impl StreamWriter {
    fn push(&mut self, mut text: String, objects: usize) {
        if text.is_empty() {
            return;
        }
        if self.format == StreamFormat::Json {
            if self.objects == 0 {
                self.text.push(emit::JSON_LIST_START.to_string());
                text.drain(..2);
            }
            text.shrink_to_fit();
        }
        self.objects = self.objects.saturating_add(objects);
        self.text.push(text);
    }

    fn finish(mut self) -> Spool {
        if self.format == StreamFormat::Json {
            self.text.push(if self.objects == 0 {
                emit::json_list(Vec::new()).concat()
            } else {
                emit::json_list_close()
            });
        }
        self.text
    }
}

/// A successful `render --output-dir`: the files written (relative paths, in output order).
#[derive(Debug)]
pub struct Files {
    pub paths: Vec<String>,
    pub objects: usize,
    pub diagnostics: Diagnostics,
    pub sources: SourceMap,
    pub apps: usize,
    pub clusters: usize,
}

/// Writes one cluster's objects as files: their paths, and their size in bytes.
pub type WriteFiles<'a> = dyn Fn(&[Object]) -> Result<(Vec<String>, usize), Diagnostic> + Sync + 'a;

/// Renders everything below `options.path` and hands each cluster's finished objects to
/// `write` on its worker, which writes them as files and returns their paths and size in bytes
/// (counted against `max_bytes`). No object tree outlives its cluster.
pub fn render_files(
    options: &InputOptions,
    max_bytes: usize,
    write: &WriteFiles<'_>,
) -> Result<Files, Failure> {
    let to_files = |objects: Vec<Object>| write(&objects);
    let (clusters, rendered) = render_converted(options, Scope::UsedApps, max_bytes, &to_files)?;
    let paths: Vec<String> = clusters.into_iter().flatten().collect();
    Ok(Files {
        objects: paths.len(),
        paths,
        diagnostics: rendered.diagnostics,
        sources: rendered.sources,
        apps: rendered.apps,
        clusters: rendered.clusters,
    })
}

/// Checks every app and cluster below `options.path`, templates included (by rendering them;
/// the objects are not kept).
pub fn check_everything(options: &InputOptions) -> Checked {
    let run = run(options, Scope::Everything, &|_| Ok(()), &mut |()| {});
    Checked {
        diagnostics: run.diagnostics,
        sources: run.sources,
        apps: run.apps,
        clusters: run.clusters,
    }
}

/// Adds one cluster's output to what the run has written so far; an error once the run's output
/// would pass `max_bytes`.
fn count_output(written: &AtomicUsize, size: usize, max_bytes: usize) -> Result<(), Diagnostic> {
    let total = written
        .fetch_add(size, Ordering::Relaxed)
        .saturating_add(size);
    if total > max_bytes {
        return Err(output_too_large(max_bytes));
    }
    Ok(())
}

fn output_too_large(max_bytes: usize) -> Diagnostic {
    Diagnostic::error(format!(
        "the output would be more than {max_bytes} bytes, the limit; Argo CD and Flux cannot take that much from one render"
    ))
    .help("split the repository into several Applications or folders (render --max-output-bytes raises the limit)")
}

/// Everything a run reported (its converted clusters went to its sink).
struct Run {
    diagnostics: Diagnostics,
    sources: SourceMap,
    /// Apps and clusters read.
    apps: usize,
    clusters: usize,
}

impl Run {
    /// A run that stopped before reading anything.
    fn refused(diagnostic: Diagnostic) -> Run {
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(diagnostic);
        Run {
            diagnostics,
            sources: SourceMap::default(),
            apps: 0,
            clusters: 0,
        }
    }

    /// The run, unless it found an error.
    fn succeeded(self) -> Result<Run, Failure> {
        if self.diagnostics.has_errors() {
            return Err(Failure {
                diagnostics: self.diagnostics,
                sources: self.sources,
                apps: self.apps,
                clusters: self.clusters,
            });
        }
        Ok(self)
    }
}

/// A conversion of one cluster's finished objects, on its worker.
type Convert<'a, T> = dyn Fn(Vec<Object>) -> Result<T, Diagnostic> + Sync + 'a;

/// Where converted clusters go, one at a time and in output order, while the run goes on; none
/// once the run has found an error.
type Sink<'a, T> = dyn FnMut(T) + Send + 'a;

/// Load, validate, resolve, then render each cluster (in parallel), convert its finished
/// objects with `convert` and hand the result to `sink`. Errors anywhere fail the whole run;
/// when a stage before rendering found one, no cluster is rendered.
fn run<T: Send>(
    options: &InputOptions,
    scope: Scope,
    convert: &Convert<'_, T>,
    sink: &mut Sink<'_, T>,
) -> Run {
    let mut reader = match Reader::new(
        &options.path,
        &options.root,
        options.files.clone(),
        InputLimits::default(),
    ) {
        Ok(reader) => reader,
        Err(diagnostic) => return Run::refused(diagnostic),
    };
    let mut diagnostics = Diagnostics::default();
    let mut inputs: Inputs = load::load(&mut reader, &mut diagnostics);
    if scope == Scope::Everything {
        note_other_documents(&inputs, &mut diagnostics);
    }
    let (apps, clusters) = (inputs.apps.len(), inputs.clusters.len());
    diagnostics.enter(Stage::Validate);
    let model = validate::validate(&mut inputs, &options.overrides, scope, &mut diagnostics);
    // From here on the documents are read only through the model: only their text stays, for
    // messages. Their trees would otherwise live through the whole render.
    let mut sources = inputs.into_sources();
    let partial = options.overrides.clusters.is_some();
    // Clusters refused by validation are missing from the model: judge placement without them
    // only once they are fixed.
    if !diagnostics.has_errors() {
        let placement = &model.settings.placement;
        patch::placement::check_targets(placement, &model.clusters, partial, &mut diagnostics);
    }
    diagnostics.enter(Stage::Resolve);
    let resolved = resolve::resolve(&model, &sources, &mut diagnostics);
    diagnostics.enter(Stage::Render);
    let templates = load_templates(&model, &mut reader, &mut sources, &mut diagnostics);
    let mut seen = Identities::default();
    if !diagnostics.has_errors() {
        let clusters = Clusters {
            resolved: &resolved,
            templates: &templates,
            model: &model,
            sources: &sources,
            kube_version: options.kube_version,
            partial,
        };
        seen = clusters.render(convert, sink, &mut diagnostics);
    }
    // What a large run leaves is freed aside, while the caller writes its output.
    drop(resolved);
    let leftovers = (model, templates, seen);
    if clusters >= LEFT_ASIDE {
        parallel::drop_aside(leftovers);
    }
    Run {
        diagnostics,
        apps,
        clusters,
        sources,
    }
}

/// From this many clusters on, a run's model and indexes are freed on a thread of their own
/// ([`parallel::drop_aside`]); below, starting the thread costs more than freeing them.
const LEFT_ASIDE: usize = 64;

/// `validate` lists the documents below PATH that are not inputs.
fn note_other_documents(inputs: &Inputs, diagnostics: &mut Diagnostics) {
    for (origin, what) in &inputs.others {
        diagnostics.push(Diagnostic::note(what).at(*origin));
    }
}

/// Each app's templates, read and compiled; every rendering of the run charges one budget.
fn load_templates(
    model: &Model,
    reader: &mut Reader,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<(AppSource, String), TemplateSet> {
    let folders = load::templates::read(&model.apps, reader, sources, diagnostics);
    render::files::compile(&model.apps, &folders, sources, diagnostics)
}

/// What rendering the clusters needs, shared by the workers.
struct Clusters<'a> {
    resolved: &'a [Resolved<'a>],
    templates: &'a BTreeMap<(AppSource, String), TemplateSet>,
    model: &'a Model,
    sources: &'a SourceMap,
    /// `--kube-version`: what each cluster's objects are judged against.
    kube_version: Option<KubeVersion>,
    /// Only some clusters are rendered (`--cluster`): a patch may target the others.
    partial: bool,
}

/// What each cluster's rendering hands back to the merge: the identities of its objects (for
/// the duplicate check across clusters), its converted objects (none once the run has
/// stopped, or when the cluster has errors), and its diagnostics.
struct Cluster<T> {
    identities: Vec<Identity>,
    /// The settings' patches applied to its objects.
    patched: BTreeSet<usize>,
    converted: Option<Result<T, Diagnostic>>,
    diagnostics: Diagnostics,
}

impl Clusters<'_> {
    /// Renders and converts every cluster, in output order: by namespace and cluster name,
    /// then kind and name within a cluster. Returns the identities of every object rendered.
    fn render<T: Send>(
        &self,
        convert: &Convert<'_, T>,
        sink: &mut Sink<'_, T>,
        diagnostics: &mut Diagnostics,
    ) -> Identities {
        let mut order: Vec<&Resolved<'_>> = self.resolved.iter().collect();
        order.sort_by(|a, b| (&a.namespace, &a.cluster.name).cmp(&(&b.namespace, &b.cluster.name)));
        // Once a cluster's conversion fails (the output limit), the clusters not yet rendered
        // are not: the run fails anyway, and must not first spend the time and memory.
        let stopped = AtomicBool::new(false);
        let mut merge = Merge {
            seen: Identities::default(),
            patched: BTreeSet::new(),
            sources: self.sources,
            diagnostics,
            sink,
        };
        let render = |resolved: &&Resolved<'_>| {
            let cluster = self.render_one(resolved, convert, &stopped);
            if matches!(cluster.converted, Some(Err(_))) {
                stopped.store(true, Ordering::Relaxed);
            }
            cluster
        };
        parallel::for_each_in_order(&order, render, |cluster| merge.take(cluster));
        let Merge {
            seen,
            patched,
            diagnostics,
            ..
        } = merge;
        // A patch that failed on its objects is reported already.
        if !diagnostics.has_errors() {
            let patches = &self.model.settings.patches;
            for diagnostic in patch::unmatched(patches, &patched, self.partial) {
                diagnostics.push(diagnostic);
            }
        }
        seen
    }

    /// Renders one cluster from its topology, built here and dropped with its objects.
    fn render_one<T>(
        &self,
        resolved: &Resolved<'_>,
        convert: &Convert<'_, T>,
        stopped: &AtomicBool,
    ) -> Cluster<T> {
        let mut local = Diagnostics::default();
        local.enter(Stage::Render);
        if stopped.load(Ordering::Relaxed) {
            return Cluster {
                identities: Vec::new(),
                patched: BTreeSet::new(),
                converted: None,
                diagnostics: local,
            };
        }
        let topology = resolved.topology(self.model);
        let connected: Vec<Topology<'_>> = (resolved.connections.iter())
            .filter_map(|&i| self.resolved.get(i))
            .map(|other| other.topology(self.model))
            .collect();
        let objects = render::render_cluster(
            &topology,
            &connected,
            self.templates.get(&resolved.cluster.app_key),
            &self.model.settings,
            self.sources,
            &mut local,
        );
        let objects = emit::finish_cluster(objects);
        if let Some(version) = self.kube_version {
            kube_version::check(&objects, version, &mut local);
        }
        Cluster {
            identities: objects.iter().map(Identity::of).collect(),
            patched: objects
                .iter()
                .flat_map(|o| o.patches.iter().copied())
                .collect(),
            converted: (!local.has_errors()).then(|| convert(objects)),
            diagnostics: local,
        }
    }
}

/// The clusters' results, taken in output order: their diagnostics gathered, objects of the same
/// identity in two clusters refused, the patches applied noted, and converted clusters handed
/// to the sink until the run has an error.
struct Merge<'a, 's, T> {
    seen: Identities,
    patched: BTreeSet<usize>,
    sources: &'a SourceMap,
    diagnostics: &'a mut Diagnostics,
    sink: &'a mut Sink<'s, T>,
}

impl<T> Merge<'_, '_, T> {
    fn take(&mut self, cluster: Cluster<T>) {
        self.diagnostics.extend(cluster.diagnostics);
        self.patched.extend(cluster.patched);
        for identity in cluster.identities {
            self.seen.insert(identity, self.sources, self.diagnostics);
        }
        match cluster.converted {
            Some(Ok(item)) if !self.diagnostics.has_errors() => (self.sink)(item),
            Some(Err(diagnostic)) => self.diagnostics.push(diagnostic),
            Some(Ok(_)) | None => {}
        }
    }
}
