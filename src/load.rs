//! Load: find the input files, read them (confined and bounded) and parse them into documents.
//!
//! Every `.yaml`, `.yml` and `.json` file below the rendered folder is an input, except inside
//! folders whose names begin with a dot. A file that does not parse is an error, never skipped:
//! a cluster whose file silently dropped out would be pruned from the live system. Documents are
//! sorted into apps, clusters, adoptions and the settings file by their `kind`; other documents
//! are noted and left alone. Catalog folders named by the settings contribute apps only.
//!
//! Nothing outside the repository root is read, nor anything inside a dot-folder (`.git`): a
//! symlink that leads there is an error, wherever it is met ([`Reader`] judges every path).
//! Each folder is walked once: a template folder inside the rendered folder is listed from the
//! walk that found the inputs, so its problems are reported once.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::beneath::{self, Access, Opened};
use crate::diag::{Diagnostic, Diagnostics};
use crate::document::{self, Limits, Node, Syntax, Value};
use crate::source::{FileId, Origin, SourceMap, Span};

pub mod commit;
pub mod templates;

use commit::CommitFiles;

/// The settings file, looked for at the root of the rendered folder only.
pub const SETTINGS_FILE: &str = "kdrender.yaml";
pub const APP_KIND: &str = "KubeDirectorApp";
pub const CLUSTER_KIND: &str = "KubeDirectorCluster";
pub const SETTINGS_KIND: &str = "RenderSettings";
/// kdrender's record of a cluster adopted from a live KubeDirector (`kdrender adopt`).
pub const ADOPTION_KIND: &str = "Adoption";

/// Bounds on what one run reads, sized together so that the worst input they let through stays
/// well under 1 GiB of memory (docs/refusals.md).
#[derive(Clone, Copy, Debug)]
pub struct InputLimits {
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
    /// Files read in one run (inputs and templates): a file costs memory beyond its bytes.
    pub max_files: usize,
    /// Parsing bounds; the value and alias budgets count all files of the run together.
    pub document: Limits,
    /// From this many input files on, each cluster document is cut down to what validation
    /// reads before it judges the cluster ([`summarize_cluster`]) on the worker that parsed it,
    /// and parsed again where it is judged: a parsed tree costs many times its text (about 5
    /// KB for a 300-byte cluster), and every one of them would otherwise be held at once.
    /// Below, the second parse costs more time than the memory is worth.
    pub summarize_from: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_file_bytes: 8 << 20,
            max_total_bytes: 64 << 20,
            max_files: 20_000,
            document: Limits::default(),
            summarize_from: SUMMARIZE_FROM,
        }
    }
}

/// [`InputLimits::summarize_from`]. Below, the trees of one cluster per file come to about a
/// megabyte at most, and the repositories most renders read (a few clusters each) pay no
/// second parse. It counts files, not documents: a few files of many clusters each keep their
/// trees, as every run did before. From there on a run's every size pays the same share, so
/// its time still grows in proportion to its clusters.
pub const SUMMARIZE_FROM: usize = 256;

/// One parsed document and the file it came from.
#[derive(Debug)]
pub struct Document {
    pub file: FileId,
    /// The document's tree; a summarized cluster's holds only what is read before it is
    /// judged ([`summarize_cluster`]) until [`Document::parse_whole`] reads it again.
    pub root: Node,
    /// Whether `root` is a cluster's summary rather than its whole tree.
    pub summarized: bool,
    /// The folder holding the file (absolute), which relative paths in it start from.
    pub folder: PathBuf,
    /// Whether it was found in a catalog folder rather than below the rendered folder.
    pub from_catalog: bool,
    /// Which document of its file it is (0 for the first).
    pub position: usize,
    /// How its file is parsed.
    pub syntax: Syntax,
}

impl Document {
    /// Where a JSON pointer into this document was written.
    pub fn origin(&self, pointer: &str) -> Origin {
        Origin {
            file: self.file,
            span: self.root.locate(pointer, false),
        }
    }

    /// Where the key of the member a JSON pointer names was written.
    pub fn key_origin(&self, pointer: &str) -> Origin {
        Origin {
            file: self.file,
            span: self.root.locate(pointer, true),
        }
    }

    pub fn kind(&self) -> Option<&str> {
        self.root.get("kind").and_then(Node::as_str)
    }

    /// The whole documents of the file `summaries` (documents of one file, in order) come
    /// from, parsed again from its text with the run's limits and a budget of their own (the
    /// file has passed the run's once): each summary with its whole tree, or the error should
    /// the text not parse as it did.
    pub fn parse_whole(
        summaries: Vec<Document>,
        sources: &SourceMap,
        limits: Limits,
    ) -> Vec<Result<Document, Diagnostic>> {
        let Some(first) = summaries.first() else {
            return Vec::new();
        };
        if !summaries.iter().any(|document| document.summarized) {
            return summaries.into_iter().map(Ok).collect();
        }
        let text = &sources.get(first.file).text;
        let mut roots: Vec<Option<Node>> = match document::parse_again(text, first.syntax, limits) {
            Ok(roots) => roots.into_iter().map(Some).collect(),
            Err(_) => Vec::new(),
        };
        summaries
            .into_iter()
            .map(
                |summary| match roots.get_mut(summary.position).and_then(Option::take) {
                    Some(root) => Ok(Document {
                        root,
                        summarized: false,
                        ..summary
                    }),
                    None => Err(Diagnostic::error(
                        "this document did not parse again as it parsed when it was loaded",
                    )
                    .at(summary.start())),
                },
            )
            .collect()
    }

    /// Where the document begins (an empty span), for problems with it as a whole.
    fn start(&self) -> Origin {
        Origin {
            file: self.file,
            span: Span::new(self.root.span.start, self.root.span.start),
        }
    }
}

/// Everything read from disk.
#[derive(Debug, Default)]
pub struct Inputs {
    pub sources: SourceMap,
    pub apps: Vec<Document>,
    pub clusters: Vec<Document>,
    pub settings: Option<Document>,
    /// `Adoption` documents: names and node ids pinned to a live KubeDirector's.
    pub adoptions: Vec<Document>,
    /// Documents that are not inputs, with a note on what they are.
    pub others: Vec<(Origin, String)>,
    /// The parsing limits the files were read with, to read a cluster's document whole again.
    pub limits: Limits,
}

impl Inputs {
    /// The files' text, the documents dropped.
    pub fn into_sources(self) -> SourceMap {
        self.sources
    }
}

/// Where the inputs' files are read from.
#[derive(Clone, Debug, Default)]
pub enum Files {
    /// The file system.
    #[default]
    Disk,
    /// A commit's tree held in memory (`diff`'s base revision), which holds no symbolic links.
    Commit(Arc<CommitFiles>),
}

impl Files {
    /// Where `path` really leads (symlinks resolved), if anything is there.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        match self {
            Files::Disk => fs::canonicalize(path),
            Files::Commit(commit) => commit.canonicalize(path),
        }
    }

    /// Whether `path` leads to a folder.
    pub fn is_folder(&self, path: &Path) -> bool {
        match self {
            Files::Disk => path.is_dir(),
            Files::Commit(commit) => commit.is_folder(path),
        }
    }
}

/// Reads files below the repository root, and nowhere else.
///
/// Every read goes through here, and every path is judged by where it really leads (symlinks
/// resolved): it must lie inside the root, and no component of it below the root may begin with
/// a dot (`.git`, `.github`, `.env`). A walk from the root never enters dot-folders, and a link
/// may not reach what the walk would not. Only regular files are opened: a FIFO, socket or
/// device is an error that names it, and is never opened. The files are on disk, or, for
/// `diff`'s base revision, a commit held in memory ([`Files`]), judged by the same rules.
pub struct Reader {
    /// The rendered folder (absolute, canonical).
    pub base: PathBuf,
    /// The repository root (absolute, canonical); `base` is inside it.
    pub root: PathBuf,
    pub limits: InputLimits,
    /// Where the files are.
    tree: Files,
    total_bytes: u64,
    files: usize,
    /// What the files parsed so far have used of the run's document limits.
    budget: document::Budget,
    /// The folders walked on disk so far, with the files found below each: a folder below one
    /// of them is listed from there, not walked (nor its problems reported) again.
    walked: Vec<(PathBuf, Vec<PathBuf>)>,
    /// The root, open, for files opened below it without following links (on disk, on Linux).
    root_folder: Option<fs::File>,
}

/// Why a path may not be read: where it really leads.
#[derive(Debug, PartialEq, Eq)]
pub enum Escape {
    /// Outside the repository root.
    Outside,
    /// Into a folder whose name begins with a dot (`.git`), or to a dot-file.
    Hidden { name: String, is_folder: bool },
}

impl std::fmt::Display for Escape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Escape::Outside => f.write_str("leads outside the repository root"),
            Escape::Hidden {
                name,
                is_folder: true,
            } => write!(f, "leads into {name}"),
            Escape::Hidden {
                name,
                is_folder: false,
            } => write!(f, "leads to {name}"),
        }
    }
}

/// Why a file cannot be read. Paths are as shown in messages: relative to the rendered folder.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{shown} {escape}, which kdrender never reads")]
    Escapes { shown: String, escape: Escape },
    #[error("cannot read {shown}: {source}")]
    Io {
        shown: String,
        #[source]
        source: io::Error,
    },
    #[error("{shown} is {kind}, not a regular file; kdrender reads only regular files")]
    NotRegular { shown: String, kind: &'static str },
    #[error("more than {limit} files to read in one run (reached at {shown})")]
    TooManyFiles { limit: usize, shown: String },
    #[error("{shown} is {size} bytes, more than the limit of {limit} bytes per file")]
    TooLarge {
        shown: String,
        size: u64,
        limit: u64,
    },
    #[error("the inputs exceed {limit} bytes in all (reached at {shown})")]
    TooMuchInAll { limit: u64, shown: String },
    #[error("{shown} is not valid UTF-8 (at byte {at})")]
    NotUtf8 { shown: String, at: usize },
}

impl ReadError {
    pub fn exit_code(&self) -> i32 {
        crate::exit::INVALID_INPUT
    }
}

impl Reader {
    pub fn new(
        base: &Path,
        root: &Path,
        files: Files,
        limits: InputLimits,
    ) -> Result<Reader, Diagnostic> {
        let shown = base.display().to_string();
        let base = files.canonicalize(base).map_err(|e| {
            Diagnostic::error(format!("cannot read the folder {}: {e}", base.display()))
        })?;
        if !files.is_folder(&base) {
            return Err(Diagnostic::error(format!(
                "{} is not a folder",
                base.display()
            )));
        }
        let root = files.canonicalize(root).map_err(|e| {
            Diagnostic::error(format!(
                "cannot read the repository root {}: {e}",
                root.display()
            ))
        })?;
        let root_folder = open_root_folder(&files, &root);
        let reader = Reader {
            base,
            root,
            limits,
            tree: files,
            total_bytes: 0,
            files: 0,
            budget: document::Budget::default(),
            walked: Vec::new(),
            root_folder,
        };
        match reader.admit(&reader.base) {
            Ok(()) => Ok(reader),
            Err(Escape::Outside) => Err(Diagnostic::error(format!(
                "the rendered folder {shown} {}, which kdrender never reads",
                Escape::Outside
            ))
            .help("the root is decided from the path as given; symlinks in it are followed to read the folder, never to widen the root")),
            Err(escape) => Err(Diagnostic::error(format!(
                "the rendered folder {shown} {escape}, which kdrender never reads"
            ))),
        }
    }

    /// Whether a canonical path may be read: inside the root, and through no dot-folder below it.
    pub fn admit(&self, real: &Path) -> Result<(), Escape> {
        let inside = real.strip_prefix(&self.root).map_err(|_| Escape::Outside)?;
        let count = inside.components().count();
        for (index, component) in inside.components().enumerate() {
            let Component::Normal(name) = component else {
                return Err(Escape::Outside);
            };
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                return Err(Escape::Hidden {
                    name: name.into_owned(),
                    is_folder: index + 1 < count || self.tree.is_folder(real),
                });
            }
        }
        Ok(())
    }

    /// Whether a canonical path is a folder.
    pub fn is_folder(&self, path: &Path) -> bool {
        self.tree.is_folder(path)
    }

    /// The path as shown in messages: relative to the rendered folder, `/`-separated.
    pub fn display_path(&self, path: &Path) -> String {
        relative_path(&self.base, path)
    }

    /// Resolves `relative` (from the folder `from`) to a canonical path inside the root.
    pub fn confine(&self, from: &Path, relative: &str) -> Result<PathBuf, ReadError> {
        let joined = from.join(relative);
        let refused = |escape: Escape| ReadError::Escapes {
            shown: relative.to_string(),
            escape,
        };
        // Judged by the path as written first, so that a folder outside the repository is
        // refused whether or not it exists; then by where symlinks really lead.
        if !normalize(&joined).starts_with(&self.root) {
            return Err(refused(Escape::Outside));
        }
        let resolved = self
            .tree
            .canonicalize(&joined)
            .map_err(|source| ReadError::Io {
                shown: self.display_path(&normalize(&joined)),
                source,
            })?;
        self.admit(&resolved).map_err(refused)?;
        Ok(resolved)
    }

    /// Lists the files below `dir` in a deterministic order, skipping dot-folders and dot-files,
    /// and refusing symlinks that lead out of the repository or into a dot-folder. Files that
    /// are not regular (FIFOs, sockets, devices) are listed too: [`Reader::read`] refuses them
    /// by name, so that none is skipped silently.
    pub fn walk(&mut self, dir: &Path, diagnostics: &mut Diagnostics) -> Vec<PathBuf> {
        if let Files::Commit(commit) = &self.tree {
            return commit.walk(dir);
        }
        if let Some(files) = self.listed_below(dir) {
            return files;
        }
        let files = self.walk_disk(dir, diagnostics);
        self.walked.push((dir.to_path_buf(), files.clone()));
        files
    }

    /// The files below `dir` as an earlier walk of a folder above it found them, in the same
    /// order a walk of `dir` gives (walkdir's sorted pre-order lists a folder's files together).
    /// `None` when no walk covered it: none went through `dir`, or it is, or is below, a
    /// dot-folder that walk skipped.
    fn listed_below(&self, dir: &Path) -> Option<Vec<PathBuf>> {
        let (_, files) = self.walked.iter().find(|(folder, _)| {
            dir.strip_prefix(folder).is_ok_and(|below| {
                below.components().all(|part| match part {
                    Component::Normal(name) => !name.as_encoded_bytes().starts_with(b"."),
                    _ => false,
                })
            })
        })?;
        Some(
            files
                .iter()
                .filter(|file| file.starts_with(dir))
                .cloned()
                .collect(),
        )
    }

    /// Walks `dir` on disk (see [`Reader::walk`]).
    fn walk_disk(&self, dir: &Path, diagnostics: &mut Diagnostics) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let walker = walkdir::WalkDir::new(dir)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let path = e.path().map(|p| self.display_path(p)).unwrap_or_default();
                    diagnostics.push(Diagnostic::error(format!("cannot read {path}: {e}")));
                    continue;
                }
            };
            let path = entry.path();
            if entry.path_is_symlink() {
                if let Some(file) = self.symlinked_file(path, diagnostics) {
                    files.push(file);
                }
            } else if !entry.file_type().is_dir() {
                files.push(path.to_path_buf());
            }
        }
        files
    }

    /// A symlink met by the walk: the link itself when it leads to a file inside the root.
    fn symlinked_file(&self, path: &Path, diagnostics: &mut Diagnostics) -> Option<PathBuf> {
        let shown = self.display_path(path);
        let target = match fs::canonicalize(path) {
            Ok(target) => target,
            Err(e) => {
                diagnostics.push(Diagnostic::error(format!(
                    "{shown} is a broken symlink: {e}"
                )));
                return None;
            }
        };
        if let Err(escape) = self.admit(&target) {
            diagnostics.push(Diagnostic::error(format!(
                "{shown} is a symlink that {escape}, which kdrender never reads"
            )));
            return None;
        }
        if target.is_dir() {
            diagnostics.push(Diagnostic::warning(format!(
                "{shown} is a symlink to a folder; symlinked folders are not followed"
            )));
            return None;
        }
        Some(path.to_path_buf())
    }

    /// Reads one file as UTF-8 text within the size limits: a regular file inside the root,
    /// wherever the path's symlinks lead.
    pub fn read(&mut self, path: &Path) -> Result<String, ReadError> {
        let shown = self.display_path(path);
        let bytes = match self.read_without_links(path, &shown)? {
            Some(bytes) => bytes,
            None => self.read_resolved(path, &shown)?,
        };
        let size = bytes.len() as u64;
        self.check_size(&shown, size)?;
        self.total_bytes = self.total_bytes.saturating_add(size);
        if self.total_bytes > self.limits.max_total_bytes {
            return Err(ReadError::TooMuchInAll {
                limit: self.limits.max_total_bytes,
                shown,
            });
        }
        String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
            shown,
            at: e.utf8_error().valid_up_to(),
        })
    }

    /// Reads `path` opened below the root without following a link anywhere on the way, when it
    /// is inside the root through no dot-folder: it is then its own canonical path, judged as it
    /// opens with no race against the file system ([`crate::beneath`]). What is not a regular
    /// file is refused without being opened. `None` in every other case, for
    /// [`Reader::read_resolved`] to judge.
    fn read_without_links(
        &mut self,
        path: &Path,
        shown: &str,
    ) -> Result<Option<Vec<u8>>, ReadError> {
        if self.root_folder.is_none() || self.admit(path).is_err() {
            return Ok(None);
        }
        let Ok(relative) = path.strip_prefix(&self.root) else {
            return Ok(None);
        };
        let Some(Ok(looked)) = self
            .open_below(relative, Access::Look)
            .map(|f| f.metadata())
        else {
            return Ok(None);
        };
        if let Some(kind) = not_regular(&looked.file_type()) {
            let shown = shown.to_string();
            return Err(ReadError::NotRegular { shown, kind });
        }
        let Some(file) = self.open_below(relative, Access::Read) else {
            return Ok(None);
        };
        let io = |source| ReadError::Io {
            shown: shown.to_string(),
            source,
        };
        let metadata = file.metadata().map_err(io)?;
        self.admit_file(shown, &metadata)?;
        read_to_limit(file, metadata.len(), self.limits.max_file_bytes)
            .map(Some)
            .map_err(io)
    }

    /// `relative`, opened below the root as `access` says ([`beneath::open`]); `None` when it
    /// cannot be reached without a link, and from then on when the system cannot do it at all.
    fn open_below(&mut self, relative: &Path, access: Access) -> Option<fs::File> {
        match beneath::open(self.root_folder.as_ref()?, relative, access) {
            Opened::File(file) => Some(file),
            Opened::NotWithoutLinks => None,
            Opened::Unsupported => {
                self.root_folder = None;
                None
            }
        }
    }

    /// A file about to be read, as `metadata` describes it: refused by name unless it is a
    /// regular file, then counted and held to the size limit.
    fn admit_file(&mut self, shown: &str, metadata: &fs::Metadata) -> Result<(), ReadError> {
        if let Some(kind) = not_regular(&metadata.file_type()) {
            let shown = shown.to_string();
            return Err(ReadError::NotRegular { shown, kind });
        }
        self.count_file(shown)?;
        self.check_size(shown, metadata.len())
    }

    /// Reads `path` where its links lead: resolved to a canonical path, judged, then read.
    fn read_resolved(&mut self, path: &Path, shown: &str) -> Result<Vec<u8>, ReadError> {
        let shown = shown.to_string();
        let io = |source| ReadError::Io {
            shown: shown.clone(),
            source,
        };
        let real = self.tree.canonicalize(path).map_err(io)?;
        self.admit(&real).map_err(|escape| ReadError::Escapes {
            shown: shown.clone(),
            escape,
        })?;
        let bytes = match self.tree.clone() {
            Files::Disk => {
                let metadata = fs::metadata(&real).map_err(io)?;
                self.admit_file(&shown, &metadata)?;
                read_regular_file(&real, metadata.len(), self.limits.max_file_bytes)
                    .map_err(io)?
                    .map_err(|kind| ReadError::NotRegular {
                        shown: shown.clone(),
                        kind,
                    })?
            }
            Files::Commit(commit) => {
                let Some(content) = commit.file(&real) else {
                    let kind = "a folder";
                    return Err(ReadError::NotRegular { shown, kind });
                };
                self.count_file(&shown)?;
                self.check_size(&shown, content.len() as u64)?;
                content.to_vec()
            }
        };
        Ok(bytes)
    }
    /// Counts one more file read in the run.
    fn count_file(&mut self, shown: &str) -> Result<(), ReadError> {
        self.files = self.files.saturating_add(1);
        if self.files > self.limits.max_files {
            return Err(ReadError::TooManyFiles {
                limit: self.limits.max_files,
                shown: shown.to_string(),
            });
        }
        Ok(())
    }

    fn check_size(&self, shown: &str, size: u64) -> Result<(), ReadError> {
        if size > self.limits.max_file_bytes {
            return Err(ReadError::TooLarge {
                shown: shown.to_string(),
                size,
                limit: self.limits.max_file_bytes,
            });
        }
        Ok(())
    }
}

/// What a file is when it is not a regular file, in words for messages.
fn not_regular(file_type: &fs::FileType) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return Some("a device");
        }
    }
    if file_type.is_dir() {
        Some("a folder")
    } else if file_type.is_file() {
        None
    } else {
        Some("not a regular file")
    }
}

/// Reads at most `limit + 1` bytes of a file known to be regular (of `size` bytes when it was
/// looked at, which sizes the buffer). It is opened without
/// following a final symlink and without blocking (a FIFO swapped in since it was looked at
/// would otherwise block forever), and checked again once open: the inner error names what it
/// is instead.
fn read_regular_file(
    path: &Path,
    size: u64,
    limit: u64,
) -> std::io::Result<Result<Vec<u8>, &'static str>> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NONBLOCK | libc::O_NOFOLLOW,
    );
    let file = options.open(path)?;
    if let Some(kind) = not_regular(&file.metadata()?.file_type()) {
        return Ok(Err(kind));
    }
    read_to_limit(file, size, limit).map(Ok)
}

/// Reads at most `limit + 1` bytes of an open file (of `size` bytes when it was looked at, which
/// sizes the buffer).
fn read_to_limit(file: fs::File, size: u64, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(usize::try_from(size.min(limit)).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The root, open to find files below it (on disk); `None` for a commit's files or if it
/// cannot be opened, and every file is then resolved before it is read.
fn open_root_folder(tree: &Files, root: &Path) -> Option<fs::File> {
    if !matches!(tree, Files::Disk) {
        return None;
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_DIRECTORY);
    options.open(root).ok()
}

fn is_input_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Reads and parses every input below the rendered folder, then the apps of the catalog folders
/// the settings name.
pub fn load(reader: &mut Reader, diagnostics: &mut Diagnostics) -> Inputs {
    let mut inputs = Inputs {
        limits: reader.limits.document,
        ..Inputs::default()
    };
    let base = reader.base.clone();
    let settings_path = base.join(SETTINGS_FILE);
    let paths = input_files(reader, &base, diagnostics);
    for (path, documents) in read_documents(reader, paths, false, &mut inputs.sources, diagnostics)
    {
        let is_settings = path == settings_path;
        for document in documents {
            classify(&mut inputs, document, is_settings, diagnostics);
        }
    }
    for folder in catalog_folders(reader, &inputs, diagnostics) {
        let paths = input_files(reader, &folder, diagnostics);
        for (_, documents) in read_documents(reader, paths, true, &mut inputs.sources, diagnostics)
        {
            for document in documents {
                classify(&mut inputs, document, false, diagnostics);
            }
        }
    }
    inputs
}

/// The input files below `folder`, in walk order.
fn input_files(reader: &mut Reader, folder: &Path, diagnostics: &mut Diagnostics) -> Vec<PathBuf> {
    reader
        .walk(folder, diagnostics)
        .into_iter()
        .filter(|path| is_input_file(path))
        .collect()
}

/// The catalog folders to read: confined, real folders, and neither below the rendered folder
/// (read already) nor below another catalog folder.
fn catalog_folders(
    reader: &Reader,
    inputs: &Inputs,
    diagnostics: &mut Diagnostics,
) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = Vec::new();
    for (relative, origin) in catalogs_named(inputs).unwrap_or_default() {
        let folder = match reader.confine(&reader.base, &relative) {
            Ok(folder) if reader.is_folder(&folder) => folder,
            Ok(_) => {
                diagnostics.push(
                    Diagnostic::error(format!("catalog folder {relative} is not a folder"))
                        .at(origin),
                );
                continue;
            }
            Err(error) => {
                diagnostics.push(Diagnostic::error(error).at(origin));
                continue;
            }
        };
        if !folder.starts_with(&reader.base) && !folders.iter().any(|s| folder.starts_with(s)) {
            folders.push(folder);
        }
    }
    folders
}

/// The catalog folders the settings document names, with where each was written.
fn catalogs_named(inputs: &Inputs) -> Option<Vec<(String, Origin)>> {
    let settings = inputs.settings.as_ref()?;
    let node = settings.root.get("spec")?.get("catalog")?;
    let document::Value::Seq(items) = &node.value else {
        return None;
    };
    Some(
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let origin = settings.origin(&format!("/spec/catalog/{i}"));
                item.as_str().map(|s| (s.to_string(), origin))
            })
            .collect(),
    )
}

/// Reads the files (one after the other) and parses them (on every core), keeping their order.
fn read_documents(
    reader: &mut Reader,
    paths: Vec<PathBuf>,
    from_catalog: bool,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Vec<(PathBuf, Vec<Document>)> {
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        match reader.read(&path) {
            Ok(text) => {
                let syntax = syntax_of(&path);
                files.push((sources.add(reader.display_path(&path), text), path, syntax));
            }
            Err(message) => diagnostics.push(Diagnostic::error(message)),
        }
    }
    let texts: Vec<(&str, Syntax)> = files
        .iter()
        .map(|&(file, _, syntax)| (sources.get(file).text.as_str(), syntax))
        .collect();
    let summarize = texts.len() >= reader.limits.summarize_from;
    let parsed = document::parse_files(&texts, reader.limits.document, &reader.budget, |root| {
        if summarize {
            summarize_cluster(root);
        }
    });
    drop(texts);
    files
        .into_iter()
        .zip(parsed)
        .map(|((file, path, syntax), parsed)| {
            let documents = match parsed {
                Ok(nodes) => (nodes.into_iter().enumerate())
                    .map(|(position, root)| Document {
                        file,
                        summarized: summarize && is_cluster(&root),
                        root,
                        folder: path.parent().map(Path::to_path_buf).unwrap_or_default(),
                        from_catalog,
                        position,
                        syntax,
                    })
                    .collect(),
                Err(error) => {
                    diagnostics.push(Diagnostic::error(error.message).at(Origin {
                        file,
                        span: error.span,
                    }));
                    Vec::new()
                }
            };
            (path, documents)
        })
        .collect()
}

/// How a file is parsed, by its name.
fn syntax_of(path: &Path) -> Syntax {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => Syntax::Json,
        _ => Syntax::Yaml,
    }
}

/// Whether a document's kind is a cluster's.
fn is_cluster(root: &Node) -> bool {
    root.get("kind").and_then(Node::as_str) == Some(CLUSTER_KIND)
}

/// In a large run ([`InputLimits::summarize_from`]), drops from a cluster document, on the
/// worker that parsed it, everything but what validation reads before it judges the cluster:
/// its kind, the names it is found and matched by, its app, its service type and whether it
/// has a `status`, each where it was written. Validation parses the file again where it judges
/// the cluster ([`Document::parse_whole`]), so a run never holds every cluster's tree at once:
/// a tree costs many times its text.
fn summarize_cluster(root: &mut Node) {
    if !is_cluster(root) {
        return;
    }
    let Value::Map(entries) = &mut root.value else {
        return;
    };
    entries.retain_mut(|entry| match entry.key.as_str() {
        "kind" => true,
        "metadata" => keep_only(&mut entry.value, &["name", "namespace"]),
        "spec" => keep_only(&mut entry.value, &["app", "appCatalog", "serviceType"]),
        "status" => {
            if !entry.value.is_null() {
                entry.value.value = Value::Map(Vec::new());
            }
            true
        }
        _ => false,
    });
    entries.shrink_to_fit();
}

/// Keeps only `keys` of a mapping (anything else as it is); always `true`, for `retain_mut`.
fn keep_only(node: &mut Node, keys: &[&str]) -> bool {
    if let Value::Map(entries) = &mut node.value {
        entries.retain(|entry| keys.contains(&entry.key.as_str()));
        entries.shrink_to_fit();
    }
    true
}

/// Sorts a document into the inputs by its kind, or notes what it is.
fn classify(
    inputs: &mut Inputs,
    document: Document,
    is_settings_file: bool,
    diagnostics: &mut Diagnostics,
) {
    let whole = document.start();
    let kind = document.kind().map(str::to_string);
    if document.from_catalog {
        // Catalog folders contribute apps and nothing else.
        match kind.as_deref() {
            Some(APP_KIND) => inputs.apps.push(document),
            _ => inputs.others.push((
                whole,
                "not an app, and catalog folders contribute only apps".into(),
            )),
        }
        return;
    }
    let ours = document
        .root
        .get("apiVersion")
        .and_then(Node::as_str)
        .is_some_and(|v| v.starts_with("kdrender.dev/"));
    let is_settings_kind = ours && kind.as_deref() == Some(SETTINGS_KIND);
    match kind.as_deref() {
        Some(APP_KIND) => inputs.apps.push(document),
        Some(CLUSTER_KIND) => inputs.clusters.push(document),
        Some(ADOPTION_KIND) if ours => inputs.adoptions.push(document),
        _ if is_settings_kind => settings(inputs, document, is_settings_file, diagnostics),
        _ if is_settings_file => diagnostics.push(
            Diagnostic::error(format!(
                "{SETTINGS_FILE} must be a RenderSettings document (apiVersion kdrender.dev/v1alpha1)"
            ))
            .at(whole),
        ),
        Some("KubeDirectorConfig") => diagnostics.push(
            Diagnostic::warning(
                "KubeDirectorConfig is not read: put renderer settings in kdrender.yaml (kind RenderSettings)",
            )
            .at(document.origin("/kind")),
        ),
        Some(kind) => inputs
            .others
            .push((whole, format!("a {kind} document, not an input"))),
        None => inputs
            .others
            .push((whole, "not a Kubernetes-style document (no kind)".to_string())),
    }
}

/// A RenderSettings document: the settings, if it is the one settings file's only document.
fn settings(
    inputs: &mut Inputs,
    document: Document,
    is_settings_file: bool,
    diagnostics: &mut Diagnostics,
) {
    if !is_settings_file {
        diagnostics.push(
            Diagnostic::error(format!(
                "RenderSettings are read only from {SETTINGS_FILE} at the root of the rendered folder"
            ))
            .at(document.origin("/kind")),
        );
    } else if inputs.settings.is_some() {
        diagnostics.push(
            Diagnostic::error(format!("{SETTINGS_FILE} holds more than one document"))
                .at(document.start()),
        );
    } else {
        inputs.settings = Some(document);
    }
}

/// `path` relative to `base`, with `..` where it lies outside; `/`-separated.
pub fn relative_path(base: &Path, path: &Path) -> String {
    let base: Vec<Component> = base.components().collect();
    let target: Vec<Component> = path.components().collect();
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = Vec::new();
    parts.extend(std::iter::repeat_n("..".to_string(), base.len() - common));
    parts.extend(
        target
            .iter()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Removes `.` and folds `..` lexically, as the path is written, never as links lead. A path
/// that climbs above its start keeps its leading `..`; `/..` is `/`.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_use_slashes_and_dot_dot() {
        let base = Path::new("/repo/envs/prod");
        assert_eq!(
            relative_path(base, Path::new("/repo/envs/prod/clusters/a.yaml")),
            "clusters/a.yaml"
        );
        assert_eq!(
            relative_path(base, Path::new("/repo/catalog/kafka/app.json")),
            "../../catalog/kafka/app.json"
        );
        assert_eq!(relative_path(base, base), ".");
    }

    #[test]
    fn paths_fold_lexically() {
        assert_eq!(normalize(Path::new("a/./b/../c")), Path::new("a/c"));
        assert_eq!(normalize(Path::new("../../a")), Path::new("../../a"));
        assert_eq!(normalize(Path::new("/../a")), Path::new("/a"));
        assert_eq!(normalize(Path::new("a/../..")), Path::new(".."));
        assert_eq!(
            normalize(Path::new("/repo/x/../../../etc")),
            Path::new("/etc")
        );
    }

    /// What a reader answers about a tree: the files a walk of the rendered folder lists (as
    /// shown) with what each read gives, then each of `asked` resolved from the rendered
    /// folder, and if it resolves, read.
    fn answers(reader: &mut Reader, asked: &[&str]) -> Vec<String> {
        let mut diagnostics = Diagnostics::default();
        let base = reader.base.clone();
        let mut answers: Vec<String> = reader
            .walk(&base, &mut diagnostics)
            .iter()
            .map(|path| {
                let read = reader.read(path).map_err(|e| e.to_string());
                format!("{} {read:?}", reader.display_path(path))
            })
            .collect();
        for relative in asked {
            let answer = match reader.confine(&base, relative) {
                Ok(path) => {
                    let folder = reader.is_folder(&path);
                    let read = reader.read(&path).map_err(|e| e.to_string());
                    format!("{} folder={folder} {read:?}", reader.display_path(&path))
                }
                Err(error) => error.to_string(),
            };
            answers.push(format!("{relative}: {answer}"));
        }
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        answers
    }

    /// Files of at most 20 bytes, so that a small tree holds a file too large.
    fn limits() -> InputLimits {
        InputLimits {
            max_file_bytes: 20,
            ..InputLimits::default()
        }
    }

    /// The same files as a checkout on disk and as a commit in memory below `/0123abcd`.
    fn checkout_and_commit() -> (tempfile::TempDir, Files) {
        let files: &[(&str, &[u8])] = &[
            ("envs/prod/kdrender.yaml", b"kind: S\n"),
            ("envs/prod/a/cluster.yaml", b"kind: C\n"),
            ("envs/prod/a-b/x.yml", b"b\n"),
            ("envs/prod/a.json", b"{}"),
            ("envs/prod/.hidden/secret.yaml", b"no\n"),
            ("envs/prod/big.yaml", b"0123456789abcdef0123456789\n"),
            ("envs/prod/latin1.yaml", b"caf\xe9"),
            ("envs/.git-like/config", b"token\n"),
            ("catalog/app/app.yaml", b"kind: KubeDirectorApp\n"),
            ("catalog/app/files/roles/x/etc/x.conf.j2", b"{{ x }}\n"),
        ];
        let checkout = tempfile::tempdir().unwrap();
        let mut commit = CommitFiles::new(PathBuf::from("/0123abcd"));
        for (path, bytes) in files {
            let on_disk = checkout.path().join(path);
            fs::create_dir_all(on_disk.parent().unwrap()).unwrap();
            fs::write(&on_disk, bytes).unwrap();
            commit.add(Path::new(path), bytes.to_vec());
        }
        (checkout, Files::Commit(Arc::new(commit)))
    }

    #[test]
    fn a_folder_below_one_walked_is_listed_as_its_own_walk_lists_it_and_its_problems_once() {
        use std::os::unix::fs::symlink;
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        for file in [
            "apps/x/app.yaml",
            "apps/x/files/a.j2",
            "apps/x/files/b/c.j2",
            "apps/x/files-2/d.j2",
            "apps/x/files.j2",
            "apps/x/files/.dot/e.j2",
            "apps/x/.cache/files/f.j2",
        ] {
            fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
            fs::write(root.join(file), "x").unwrap();
        }
        symlink(
            root.join("apps/x/app.yaml"),
            root.join("apps/x/files/linked.j2"),
        )
        .unwrap();
        symlink(root.join("missing"), root.join("apps/x/files/b/broken.j2")).unwrap();
        let folders = [
            "",
            "apps/x/files",
            "apps/x/files/b",
            "apps/x/files/.dot",
            "apps/x/.cache/files",
            "apps/x/files.j2",
        ];
        let walk = |reader: &mut Reader, folder: &str, diagnostics: &mut Diagnostics| {
            let dir = reader.base.join(folder);
            let listed = reader.walk(&dir, diagnostics);
            listed
                .iter()
                .map(|p| reader.display_path(p))
                .collect::<Vec<_>>()
        };
        let mut after_base = Reader::new(root, root, Files::Disk, limits()).unwrap();
        let mut once = Diagnostics::default();
        walk(&mut after_base, "", &mut once);
        assert_eq!(once.error_count(), 1, "{once:?}");
        for folder in folders {
            let mut fresh = Reader::new(root, root, Files::Disk, limits()).unwrap();
            let expected = walk(&mut fresh, folder, &mut Diagnostics::default());
            let mut again = Diagnostics::default();
            assert_eq!(
                walk(&mut after_base, folder, &mut again),
                expected,
                "{folder}"
            );
            // The broken link was reported by the first walk: not a second time.
            assert!(again.is_empty(), "{folder}: {again:?}");
        }
        // The folders skipped by the first walk were walked, not listed from it.
        let mut fresh = Reader::new(root, root, Files::Disk, limits()).unwrap();
        let dot = walk(&mut fresh, "apps/x/files/.dot", &mut Diagnostics::default());
        assert_eq!(dot, ["apps/x/files/.dot/e.j2"]);
        let files = walk(&mut fresh, "apps/x/files", &mut Diagnostics::default());
        assert_eq!(
            files,
            [
                "apps/x/files/a.j2",
                "apps/x/files/b/c.j2",
                "apps/x/files/linked.j2"
            ]
        );
    }

    #[test]
    fn a_folder_swapped_for_a_link_after_the_walk_is_judged_where_the_link_leads() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let (root, outside) = (dir.path().join("repo"), dir.path().join("outside"));
        for base in [&root, &root.join(".git"), &root.join("other"), &outside] {
            fs::create_dir_all(base.join("files")).unwrap();
        }
        fs::write(root.join("files/a.j2"), "mine").unwrap();
        fs::write(root.join(".git/files/a.j2"), "token").unwrap();
        fs::write(root.join("other/files/a.j2"), "other").unwrap();
        fs::write(outside.join("files/a.j2"), "token").unwrap();
        let mut reader = Reader::new(&root, &root, Files::Disk, limits()).unwrap();
        let base = reader.base.clone();
        let listed = reader.walk(&base, &mut Diagnostics::default());
        let file = base.join("files/a.j2");
        assert_eq!(listed.first(), Some(&file));
        assert_eq!(reader.read(&file).unwrap(), "mine");
        fs::rename(root.join("files"), root.join("moved")).unwrap();
        for (target, expected) in [
            (
                outside.join("files"),
                Err("files/a.j2 leads outside the repository root".to_string()),
            ),
            (
                root.join(".git/files"),
                Err("files/a.j2 leads into .git".to_string()),
            ),
            (root.join("other/files"), Ok("other".to_string())),
        ] {
            let _ = fs::remove_file(root.join("files"));
            symlink(&target, root.join("files")).unwrap();
            let read = reader.read(&file).map_err(|e| e.to_string());
            match expected {
                Ok(text) => assert_eq!(read, Ok(text)),
                Err(start) => {
                    let message = read.unwrap_err();
                    assert!(message.starts_with(&start), "{message}");
                }
            }
        }
    }

    #[test]
    fn a_commit_in_memory_reads_as_its_checkout_on_disk() {
        let (checkout, in_memory) = checkout_and_commit();
        let asked = [
            "../../catalog/app",
            "../../catalog/app/files/roles/x/etc/x.conf.j2",
            "../../catalog/missing",
            "../.git-like/config",
            ".hidden/secret.yaml",
            "../../..",
            "a",
            "a/cluster.yaml/..",
            "a/cluster.yaml/",
            "a/cluster.yaml/.",
            "a/./cluster.yaml",
            "a//cluster.yaml",
            "a/none/..",
        ];
        let base = checkout.path().join("envs/prod");
        let mut on_disk = Reader::new(&base, checkout.path(), Files::Disk, limits()).unwrap();
        let base = Path::new("/0123abcd/envs/prod");
        let root = Path::new("/0123abcd");
        let mut from_commit = Reader::new(base, root, in_memory, limits()).unwrap();
        let disk = answers(&mut on_disk, &asked);
        assert_eq!(answers(&mut from_commit, &asked), disk);
        // The answers hold every kind of outcome, so that agreeing means something.
        let all = disk.join("\n");
        for expected in [
            "a/cluster.yaml Ok(\"kind: C\\n\")",
            "Not a directory",
            "more than the limit of 20 bytes",
            "is not valid UTF-8",
            "No such file or directory",
            "leads into .git-like",
            "leads into .hidden",
            "leads outside the repository root",
            "folder=true Err(\"a is a folder, not a regular file",
        ] {
            assert!(all.contains(expected), "{expected} not in {all}");
        }
    }

    #[test]
    fn a_rendered_folder_missing_from_a_commit_or_hidden_in_it_is_refused() {
        let (_checkout, in_memory) = checkout_and_commit();
        for (base, expected) in [
            (
                "/0123abcd/envs/none",
                "cannot read the folder /0123abcd/envs/none: No such file",
            ),
            ("/0123abcd/envs/prod/a.json", "is not a folder"),
            ("/0123abcd/envs/.git-like", "leads into .git-like"),
        ] {
            let root = Path::new("/0123abcd");
            let refused = Reader::new(Path::new(base), root, in_memory.clone(), limits());
            let message = refused.err().map(|d| d.message).unwrap_or_default();
            assert!(message.contains(expected), "{base}: {message}");
        }
    }
}
