//! `kdrender adopt`: from what a live KubeDirector shows of its clusters to the `Adoption`
//! documents that keep its names and node ids.
//!
//! The export is what `kubectl get kubedirectorcluster NAME -o yaml` prints (or `-o json`): one
//! cluster, or a `List` of them, status included ([`export`]). Each cluster is adopted only if it
//! is settled ([`settled`]): anything KubeDirector has not finished would be lost once it is
//! gone. The result is one Adoption per cluster, in the export's order, or — if any cluster may
//! not be adopted — nothing at all and every reason.

mod diags;
mod export;
mod settled;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics};
use crate::document::{self, Budget, Limits, Node, Syntax};
use crate::source::{FileId, Origin, SourceMap, Span};

/// The largest export read: the limit for any one input file.
pub const MAX_EXPORT_BYTES: u64 = 8 << 20;

/// What adopting an export gives: the Adoptions as a YAML stream (`None` when any cluster may
/// not be adopted), and the report.
pub struct Adopted {
    pub yaml: Option<String>,
    pub diagnostics: Diagnostics,
    pub sources: SourceMap,
}

/// Reads the export at `path` (`-`: stdin), within [`MAX_EXPORT_BYTES`], as UTF-8 text.
pub fn read(path: &Path, stdin: &mut dyn Read) -> Result<String, Diagnostic> {
    let shown = shown(path);
    let mut bytes = Vec::new();
    let limit = MAX_EXPORT_BYTES.saturating_add(1);
    let read = if path == Path::new("-") {
        stdin.take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|file| file.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|error| diags::read_failed(&shown, &error))?;
    if bytes.len() as u64 > MAX_EXPORT_BYTES {
        return Err(diags::too_large(&shown, MAX_EXPORT_BYTES));
    }
    String::from_utf8(bytes).map_err(|_| diags::not_utf8(&shown))
}

/// The export's name in messages: its path as given, or `<stdin>`.
pub fn shown(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// The Adoption of every cluster in the export `text` (named `shown` in messages).
pub fn adopt(shown: &str, text: String) -> Adopted {
    let json = text.trim_start().starts_with('{');
    let mut sources = SourceMap::default();
    let file = sources.add(shown.to_string(), text);
    let mut diagnostics = Diagnostics::default();
    let syntax = if json { Syntax::Json } else { Syntax::Yaml };
    let parsed = document::parse_files(
        &[(sources.get(file).text.as_str(), syntax)],
        Limits::default(),
        &Budget::default(),
        |_| {},
    );
    let mut documents = Vec::new();
    for result in parsed {
        match result {
            Ok(nodes) => documents.extend(nodes),
            Err(error) => diagnostics.push(Diagnostic::error(&error).at(Origin {
                file,
                span: error.span,
            })),
        }
    }
    let yaml = if diagnostics.has_errors() {
        None
    } else {
        adopt_documents(file, shown, &documents, &mut diagnostics)
    };
    Adopted {
        yaml: yaml.filter(|_| !diagnostics.has_errors()),
        diagnostics,
        sources,
    }
}

/// The Adoptions of the clusters in the parsed documents, as one YAML stream.
fn adopt_documents(
    file: FileId,
    shown: &str,
    documents: &[Node],
    diagnostics: &mut Diagnostics,
) -> Option<String> {
    let mut stream = String::new();
    let mut seen = BTreeSet::new();
    let mut count = 0usize;
    for root in documents {
        let (mut found, mut others) = (Vec::new(), Vec::new());
        export::clusters(root, &mut found, &mut others);
        for other in others {
            let at = origin(file, root, &other.pointer);
            diagnostics.push(diags::not_a_cluster(&other.kind, at));
        }
        for cluster in found {
            count = count.saturating_add(1);
            let place = settled::Place {
                file,
                root,
                base: cluster.pointer.clone(),
            };
            let Some(adoption) = adopt_one(&cluster, &place, &mut seen, diagnostics) else {
                continue;
            };
            stream.push_str(&text(&adoption, diagnostics)?);
        }
    }
    if count == 0 {
        diagnostics.push(diags::no_clusters(shown));
    }
    Some(stream)
}

/// One cluster's Adoption, unless it may not be adopted or is in the export twice (reported).
fn adopt_one(
    found: &export::Found<'_>,
    place: &settled::Place<'_>,
    seen: &mut BTreeSet<(String, String)>,
    diagnostics: &mut Diagnostics,
) -> Option<Value> {
    let whole = origin(place.file, place.root, &found.pointer);
    let cluster: export::Cluster = match serde_json::from_value(found.node.to_json()) {
        Ok(cluster) => cluster,
        Err(error) => {
            diagnostics.push(diags::undecodable(&error, whole));
            return None;
        }
    };
    let metadata = &cluster.metadata;
    let key = (metadata.namespace.clone(), metadata.name.clone());
    if !seen.insert(key) {
        diagnostics.push(diags::duplicate(&metadata.name, &metadata.namespace, whole));
        return None;
    }
    settled::adoption(&cluster, place, diagnostics)
}

/// An Adoption as a YAML document, after a comment that says what it is.
fn text(adoption: &Value, diagnostics: &mut Diagnostics) -> Option<String> {
    let at = |field: &str| {
        adoption
            .pointer(field)
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let yaml = match crate::emit::to_yaml(adoption) {
        Ok(yaml) => yaml,
        Err(error) => {
            diagnostics.push(Diagnostic::error(error));
            return None;
        }
    };
    Some(format!(
        "---\n# KubeDirectorCluster {}/{} as KubeDirector runs it: the names and node ids kdrender\n# keeps. Commit it next to the cluster's file (docs/migration.md).\n{yaml}",
        at("/metadata/namespace"),
        at("/metadata/name"),
    ))
}

/// Where a JSON pointer into a document was written.
fn origin(file: FileId, root: &Node, pointer: &str) -> Origin {
    let span = root.locate(pointer, false);
    Origin {
        file,
        span: Span::new(span.start, span.start),
    }
}
