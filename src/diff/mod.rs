//! `kdrender diff`: what a change does to running systems, before it merges.
//!
//! The repository is rendered twice, at the same time: as it is in the working tree, and at a
//! base revision, whose whole tree is read into memory (or, with links in it, written into a
//! private temporary folder; [`git`]) and rendered from there with the same PATH relative to
//! the repository root (so catalogs outside PATH are found on both sides). The repository is
//! the one PATH lies in as written, found as `render` finds its root, never the one PATH's
//! symlinks lead into. The working tree and the index are never touched.
//! The two sets of objects are compared into a [`plan::Plan`] — objects added, removed and
//! changed, the StatefulSets that restart and why ([`reasons`]), what running members get in
//! place without a restart ([`inplace`]), scales, prunes, and warnings for changes Kubernetes
//! refuses in place or that lose data. Clusters that change alike are grouped ([`fleet`]) and
//! the plan's figures summed up ([`summary`]), so that one edit across a fleet reads once; the
//! whole is printed as text ([`text`]) or JSON ([`json`]) by the command
//! ([`crate::commands::diff`]). `--cluster` narrows both renders to the clusters named.

pub mod adoption;
pub mod clusters;
pub mod fleet;
pub mod git;
pub mod inplace;
pub mod json;
pub mod kept;
pub mod plan;
pub mod reasons;
pub mod summary;
pub mod text;

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::diag::Diagnostic;
use crate::emit;
use crate::exit;
use crate::load::Files;
use crate::options::{DiffOptions, Environment, Format, InputOptions, OptionsError};
use crate::pipeline::{self, Failure, Rendered};
use crate::render::Object;
use crate::validate::Scope;
use clusters::Compared;
use kept::{Kept, Side};

/// Where the comparison starts from, for the report's header.
pub struct Base<'a> {
    /// The revision as given (`HEAD`, `origin/main`).
    pub revision: &'a str,
    /// The commit it names; `None` in a repository without commits.
    pub commit: Option<&'a str>,
    /// PATH relative to the repository root, `/`-separated (`""` for the root).
    pub path: &'a str,
}

impl Base<'_> {
    /// PATH as shown: relative to the repository root, `.` for the root itself.
    pub fn shown_path(&self) -> &str {
        if self.path.is_empty() { "." } else { self.path }
    }
}

/// The two renders compared.
pub struct Comparison {
    pub plan: plan::Plan,
    /// The clusters that change alike, grouped ([`fleet`]).
    pub groups: Vec<fleet::Group>,
    /// The working tree's render, for its warnings.
    pub head: Rendered,
    /// The commit the base revision names; `None` in a repository without commits.
    pub commit: Option<String>,
    /// PATH relative to the repository root, `/`-separated (`""` for the root).
    pub prefix: String,
}

impl Comparison {
    /// The base of the comparison, for the report's header.
    pub fn base<'a>(&'a self, revision: &'a str) -> Base<'a> {
        Base {
            revision,
            commit: self.commit.as_deref(),
            path: &self.prefix,
        }
    }
}

/// Why there is nothing to compare.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{} is not a folder", .0.display())]
    NotAFolder(PathBuf),
    /// The repository around PATH cannot be told.
    #[error(transparent)]
    Root(#[from] OptionsError),
    #[error(transparent)]
    Git(#[from] git::GitError),
    #[error("cannot create a temporary folder for the base revision in {}: {source}", dir.display())]
    TemporaryFolder {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The working tree does not render.
    #[error("the working tree does not render")]
    Head(Box<Failure>),
    #[error(transparent)]
    Base(Box<BaseDoesNotRender>),
    /// `--cluster` names clusters that neither side renders.
    #[error("no cluster is named {}", .unknown.join(", "))]
    UnknownClusters {
        unknown: Vec<String>,
        /// Every cluster either side renders, for suggestions.
        present: Vec<String>,
    },
}

/// The base revision does not render: its report, and which revision it was.
#[derive(Debug, thiserror::Error)]
#[error(
    "the base revision \"{revision}\" ({}) does not render, so there is nothing sound to compare with",
    git::short(commit)
)]
pub struct BaseDoesNotRender {
    pub failure: Failure,
    pub revision: String,
    pub commit: String,
}

impl DiffError {
    pub fn exit_code(&self) -> i32 {
        match self {
            DiffError::Git(error) => error.exit_code(),
            DiffError::TemporaryFolder { .. } => exit::IO_ERROR,
            DiffError::NotAFolder(_)
            | DiffError::Root(_)
            | DiffError::Head(_)
            | DiffError::Base(_)
            | DiffError::UnknownClusters { .. } => exit::INVALID_INPUT,
        }
    }
}

/// Renders PATH at the base revision and in the working tree, and compares the two.
pub fn compare(options: &DiffOptions, env: &Environment) -> Result<Comparison, DiffError> {
    let repository = repository(&options.path, env)?;
    let commit = git::resolve(&repository, &options.base)?;
    let head_options = InputOptions {
        path: options.path.clone(),
        root: repository.root.clone(),
        overrides: options.overrides.clone(),
        kube_version: options.kube_version,
        files: Files::Disk,
    };

    // The base is read and rendered, kept compact, on its own thread while the working tree
    // is loaded and rendered here; each cluster of the working tree waits for the whole base,
    // then is compared with it as soon as it is rendered. PATH absent at the base, or no
    // commit yet: the base renders nothing.
    let names = &options.clusters;
    let shown = match options.format {
        Format::Json => fleet::Shown::every(),
        Format::Text => fleet::Shown::firsts(),
    };
    // `None` once the base has failed: the working tree's clusters are then left uncompared.
    let base: OnceLock<Option<Side>> = OnceLock::new();
    let compare = |objects: Vec<Object>| match base.wait() {
        Some(base) => Ok(clusters::compare(objects, base, names, &shown)),
        None => Ok(((Compared::Left, None), 0)),
    };
    let (rendered_base, head) = std::thread::scope(|scope| {
        let rendering_base = scope.spawn(|| {
            // Set even if rendering panics, so that no cluster waits for it forever.
            let _released = Release(&base);
            let side = match &commit {
                Some(commit) => render_base(options, &repository, commit)?,
                None => Side::default(),
            };
            let _ = base.set(Some(side));
            Ok(())
        });
        let head = render(&head_options, &compare);
        let rendered_base: Result<(), DiffError> = match rendering_base.join() {
            Ok(rendered) => rendered,
            // A panic is a bug: let it surface as one.
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (rendered_base, head)
    });
    // The working tree's problems come first: they are the ones the author is fixing.
    let (compared, head) = head.map_err(|f| DiffError::Head(Box::new(f)))?;
    rendered_base?;
    let base = base.into_inner().flatten().unwrap_or_default();

    let mut present = base.names.clone();
    let (mut parts, mut held, mut done) = (Vec::new(), Vec::new(), BTreeSet::new());
    for (compared, name) in compared {
        present.extend(name);
        match compared {
            Compared::Left => {}
            Compared::Done(cluster, part) => {
                parts.extend(part.map(|part| *part));
                done.insert(cluster);
            }
            Compared::Held(kept) => held.extend(kept),
        }
    }
    check_clusters(names, present)?;
    parts.extend(clusters::settle(held, &base, &done));
    // Every kept object of the base is freed aside, while the plan is gathered and printed.
    crate::parallel::drop_aside(base);
    parts.sort_by(|a, b| a.cluster.cmp(&b.cluster));
    let (plan, groups) = fleet::gather(parts);
    Ok(Comparison {
        plan,
        groups,
        head,
        commit,
        prefix: repository.prefix,
    })
}

/// Releases the working tree's clusters waiting for the base when it is dropped, whether the
/// base rendered (they find it set) or not (they find `None`).
struct Release<'a>(&'a OnceLock<Option<Side>>);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let _ = self.0.set(None);
    }
}

/// `--cluster`: each cluster named must be rendered on one side at least (a cluster new in the
/// working tree, or removed from it, is named on one); `present` are those either side renders.
fn check_clusters(names: &[String], present: BTreeSet<String>) -> Result<(), DiffError> {
    let unknown: Vec<String> = names
        .iter()
        .filter(|name| !present.contains(*name))
        .cloned()
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(DiffError::UnknownClusters {
        unknown,
        present: present.into_iter().collect(),
    })
}

/// Renders with each cluster's objects converted as they are finished, on the worker that
/// rendered them.
fn render<T: Send>(
    options: &InputOptions,
    convert: &(dyn Fn(Vec<Object>) -> Result<(T, usize), Diagnostic> + Sync),
) -> Result<(Vec<T>, Rendered), Failure> {
    pipeline::render_converted(options, Scope::UsedApps, emit::MAX_OUTPUT_BYTES, convert)
}

/// One cluster's objects of the base, kept compact (none for a cluster `--cluster` leaves
/// out), its name, and their size as compact JSON.
fn keep(objects: Vec<Object>, names: &[String]) -> ((Vec<Kept>, Option<String>), usize) {
    let name = objects.first().map(|object| object.cluster.clone());
    let kept: Vec<Kept> = objects.into_iter().map(Kept::keep).collect();
    let size = kept.iter().map(Kept::size).sum();
    let left_out = name
        .as_ref()
        .is_some_and(|name| !names.is_empty() && !names.contains(name));
    let kept = if left_out { Vec::new() } else { kept };
    ((kept, name), size)
}

/// The base commit's files are held in memory up to this size; a larger tree is written to disk.
const MAX_BASE_IN_MEMORY: u64 = 64 << 20;

/// The objects PATH renders at the base commit, kept compact. The commit's tree is read into
/// memory ([`crate::load::commit`]), unless it holds symbolic links (which only a file system
/// resolves) or passes [`MAX_BASE_IN_MEMORY`]: then it is written into a private folder (mode
/// 0700 on Unix, removed when dropped). Neither root's name reaches the output: the base is
/// rendered with it as the repository root, and every file is named relative to that root.
fn render_base(
    options: &DiffOptions,
    repository: &git::Repository,
    commit: &str,
) -> Result<Side, DiffError> {
    let listing = git::list(repository, commit)?;
    let in_memory = if listing.has_links() {
        None
    } else {
        let root = Path::new("/").join(commit);
        git::read(repository, &listing, root, MAX_BASE_IN_MEMORY)?
    };
    let (root, files, _export) = match in_memory {
        Some(commit) => (
            commit.root().to_path_buf(),
            Files::Commit(Arc::new(commit)),
            None,
        ),
        None => {
            let export = tempfile::Builder::new()
                .prefix("kdrender-diff-")
                .tempdir()
                .map_err(|source| DiffError::TemporaryFolder {
                    dir: std::env::temp_dir(),
                    source,
                })?;
            git::export(repository, &listing, export.path())?;
            (export.path().to_path_buf(), Files::Disk, Some(export))
        }
    };
    let base_path = root.join(&repository.prefix);
    if !files.is_folder(&base_path) {
        return Ok(Side::default());
    }
    let base_options = InputOptions {
        path: base_path,
        root,
        overrides: options.overrides.clone(),
        // The working tree is what will be applied; the base is only compared with.
        kube_version: None,
        files,
    };
    let names = &options.clusters;
    let keep = |objects: Vec<Object>| Ok(keep(objects, names));
    let rendered = render(&base_options, &keep);
    // The commit's files are freed aside: the working tree's clusters wait for the base.
    crate::parallel::drop_aside(base_options);
    match rendered {
        Ok((clusters, _)) => {
            let mut rendered = BTreeSet::new();
            let mut objects = Vec::new();
            for (kept, name) in clusters {
                rendered.extend(name);
                objects.extend(kept);
            }
            Ok(Side::new(objects, rendered))
        }
        Err(failure) => Err(DiffError::Base(Box::new(BaseDoesNotRender {
            failure,
            revision: options.base.clone(),
            commit: commit.to_string(),
        }))),
    }
}

/// The repository that holds PATH, found from PATH as given (never from where its symlinks
/// lead), and PATH's place in it.
fn repository(path: &Path, env: &Environment) -> Result<git::Repository, DiffError> {
    if !path.is_dir() {
        return Err(DiffError::NotAFolder(path.to_path_buf()));
    }
    // Argo CD's variables do not apply: diff runs in a checkout, never in cmp-server.
    let checkout = Environment {
        argocd_app_source_path: None,
        ..env.clone()
    };
    let root = crate::options::repository_root(path, None, &checkout)?;
    let cwd = env.working_directory()?;
    let absolute = crate::load::normalize(&cwd.join(path));
    let prefix = match absolute.strip_prefix(&root) {
        Ok(inside) => crate::load::relative_path(Path::new(""), inside),
        Err(_) => String::new(),
    };
    let prefix = if prefix == "." { String::new() } else { prefix };
    Ok(git::open(&root, prefix, path)?)
}
