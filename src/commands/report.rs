//! Reports of what a run found, beyond the text report (`diag.rs`): the closing count line that
//! `validate` and a failed `render` end with, and `validate --format json|github`.
//!
//! The machine formats name files from the repository root (where GitHub and editors look for
//! them), not from the rendered folder as the text does.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::diag::{Diagnostic, Diagnostics, Group, Severity};
use crate::load::{normalize, relative_path};
use crate::source::{Origin, SourceMap};
use crate::visible::visible;

/// The version of `validate --format json`'s document. It changes only if a field changes
/// meaning or disappears; new fields may be added within a version.
pub const VERSION: u32 = 1;

/// `checked 3 app(s) and 1000 cluster(s): 1000 error(s), 0 warning(s)`.
pub fn count_line(apps: usize, clusters: usize, diagnostics: &Diagnostics) -> String {
    format!(
        "checked {apps} app(s) and {clusters} cluster(s): {} error(s), {} warning(s)\n",
        diagnostics.error_count(),
        diagnostics.warning_count()
    )
}

/// Where the rendered folder lies in the repository, to name files from the repository root.
#[derive(Clone, Debug, Default)]
pub struct Files {
    /// The rendered folder, relative to the repository root (empty: the root itself).
    folder: PathBuf,
}

impl Files {
    /// `path` (as the user wrote it, from `cwd`) inside `root`.
    pub fn new(path: &Path, root: &Path, cwd: &Path) -> Files {
        let folder = relative_path(&normalize(&cwd.join(root)), &normalize(&cwd.join(path)));
        Files {
            folder: if folder == "." {
                PathBuf::new()
            } else {
                PathBuf::from(folder)
            },
        }
    }

    /// A file of the report (named from the rendered folder), named from the repository root.
    fn name(&self, sources: &SourceMap, origin: Origin) -> String {
        let shown = &sources.get(origin.file).path;
        relative_path(Path::new(""), &normalize(&self.folder.join(shown)))
    }
}

/// What `--format json` says about one problem.
fn problem_json(diagnostic: &Diagnostic, sources: &SourceMap, files: &Files) -> Value {
    let place = diagnostic.origin.map(|origin| {
        let file = sources.get(origin.file);
        (
            files.name(sources, origin),
            file.line_col(origin.span.start),
            file.line_col(origin.span.end),
        )
    });
    let (file, (line, column), (end_line, end_column)) = match place {
        Some((name, start, end)) => (json!(name), pair(start), pair(end)),
        None => (
            Value::Null,
            (Value::Null, Value::Null),
            (Value::Null, Value::Null),
        ),
    };
    json!({
        "severity": severity_name(diagnostic.severity),
        "message": diagnostic.message,
        "help": diagnostic.help,
        "file": file,
        "line": line,
        "column": column,
        "endLine": end_line,
        "endColumn": end_column,
    })
}

fn pair((line, column): (usize, usize)) -> (Value, Value) {
    (json!(line), json!(column))
}

/// `validate --format json`: every problem held, in report order, each at its place.
pub fn json(
    diagnostics: &Diagnostics,
    sources: &SourceMap,
    files: &Files,
    (apps, clusters): (usize, usize),
) -> String {
    let problems: Vec<Value> = diagnostics
        .sorted()
        .into_iter()
        .map(|d| problem_json(d, sources, files))
        .collect();
    let value = json!({
        "version": VERSION,
        "valid": !diagnostics.has_errors(),
        "checked": {"apps": apps, "clusters": clusters},
        "errors": diagnostics.error_count(),
        "warnings": diagnostics.warning_count(),
        "problems": problems,
        "omitted": diagnostics.unheld(),
    });
    // Serialising a Value of strings, numbers and ordered maps cannot fail.
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// `validate --format github`: one workflow command per problem (`::error file=…,line=…,col=…::`),
/// which GitHub shows as an annotation on the line at fault; a problem found at several places
/// is annotated at the first, and its message names how many more and where.
pub fn github(diagnostics: &Diagnostics, sources: &SourceMap, files: &Files) -> String {
    let mut out = String::new();
    for group in diagnostics.groups() {
        let first = group.first;
        let command = match first.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut properties = Vec::new();
        if let Some(origin) = first.origin {
            let file = sources.get(origin.file);
            let (line, column) = file.line_col(origin.span.start);
            let (end_line, end_column) = file.line_col(origin.span.end);
            properties.push(format!("file={}", property(&files.name(sources, origin))));
            properties.push(format!("line={line},endLine={end_line}"));
            if line == end_line {
                properties.push(format!("col={column},endColumn={end_column}"));
            } else {
                properties.push(format!("col={column}"));
            }
        }
        let separator = if properties.is_empty() { "" } else { " " };
        let _ = writeln!(
            out,
            "::{command}{separator}{}::{}",
            properties.join(","),
            data(&message(&group, sources, files))
        );
    }
    out
}

/// The text of an annotation: the message, its help, and where else the problem is.
fn message(group: &Group<'_>, sources: &SourceMap, files: &Files) -> String {
    let first = group.first;
    let mut text = visible(&first.message).into_owned();
    if let Some(help) = &first.help {
        let _ = write!(text, "\nhelp: {}", visible(help));
    }
    let place = |origin: Origin| {
        let (line, column) = sources.get(origin.file).line_col(origin.span.start);
        format!("{}:{line}:{column}", visible(&files.name(sources, origin)))
    };
    if let Some(repeated) = group.repeated(place) {
        text.push('\n');
        text.push_str(&repeated);
    }
    text
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A workflow command's message, escaped as GitHub's toolkit does (`escapeData`).
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value, escaped as GitHub's toolkit does (`escapeProperty`).
fn property(text: &str) -> String {
    data(&visible(text)).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    #[test]
    fn workflow_commands_are_escaped_as_github_reads_them() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(property("a:b,c%.yaml"), "a%3Ab%2Cc%25.yaml");
        // A control character in a file name is made visible before escaping.
        assert_eq!(property("a\u{1b}b"), "a\\u{1b}b");
    }

    #[test]
    fn files_are_named_from_the_repository_root() {
        let files = Files::new(
            Path::new("envs/prod"),
            Path::new("/repo"),
            Path::new("/repo"),
        );
        let mut sources = SourceMap::default();
        let local = sources.add("clusters/a.yaml".into(), "x: 1\n".into());
        let shared = sources.add("../../catalog/kafka.yaml".into(), "y: 2\n".into());
        let at = |file| Origin {
            file,
            span: Span::new(0, 1),
        };
        assert_eq!(files.name(&sources, at(local)), "envs/prod/clusters/a.yaml");
        assert_eq!(files.name(&sources, at(shared)), "catalog/kafka.yaml");
        let at_root = Files::new(Path::new("."), Path::new("."), Path::new("/repo"));
        assert_eq!(at_root.name(&sources, at(local)), "clusters/a.yaml");
    }

    #[test]
    fn a_repeated_problem_is_one_annotation_that_counts_the_others() {
        let mut sources = SourceMap::default();
        let mut diagnostics = Diagnostics::default();
        for i in 0..5 {
            let file = sources.add(format!("c{i}.yaml"), "app: spark\n".into());
            diagnostics.push(
                Diagnostic::error("no app named \"spark\"")
                    .at(Origin {
                        file,
                        span: Span::new(5, 10),
                    })
                    .help("look, 100%"),
            );
        }
        diagnostics.push(Diagnostic::warning("a warning, nowhere"));
        let report = github(&diagnostics, &sources, &Files::default());
        assert_eq!(
            report,
            "::error file=c0.yaml,line=1,endLine=1,col=6,endColumn=11::no app named \"spark\"%0Ahelp: look, 100%25%0A… and 4 more like this: c1.yaml:1:6, c2.yaml:1:6, c3.yaml:1:6, …\n\
             ::warning::a warning, nowhere\n"
        );
    }
}
