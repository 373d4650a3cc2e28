//! Diagnostics: every problem the renderer finds, with where it is.
//!
//! Stages push [`Diagnostic`]s into a [`Diagnostics`] collector and keep going, so that one run
//! reports every problem at once (the cargo-deny pattern). A stage fails at its end when the
//! collector holds an error. [`Diagnostics::render`] turns them into text: a one-line summary
//! (`error: path:line:column: message`, enough for Argo CD's one-line error display) followed by
//! a source snippet drawn by miette.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::source::{Origin, SourceMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    /// Information that is not a problem (`validate` lists files that are not inputs).
    Note,
}

/// One problem, optionally pointing at a place in an input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub origin: Option<Origin>,
    /// Short text drawn under the snippet, next to the pointed-at range.
    pub label: Option<String>,
    pub help: Option<String>,
    /// Print only the summary line, never the source around it (it may hold secret values).
    pub without_snippet: bool,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            origin: None,
            label: None,
            help: None,
            without_snippet: false,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn note(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(message)
        }
    }

    pub fn at(mut self, origin: Origin) -> Self {
        self.origin = Some(origin);
        self
    }

    pub fn at_opt(mut self, origin: Option<Origin>) -> Self {
        self.origin = origin.or(self.origin);
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn without_snippet(mut self) -> Self {
        self.without_snippet = true;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The pipeline stage a diagnostic was found in. Reports list earlier stages first, so a cause
/// (a catalog folder that cannot be read) comes before its consequences (an app not found).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    #[default]
    Load,
    Validate,
    Resolve,
    Render,
}

/// The collector every stage writes into.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<(Stage, Diagnostic)>,
    stage: Stage,
}

impl Diagnostics {
    /// Diagnostics pushed from now on belong to `stage`.
    pub fn enter(&mut self, stage: Stage) {
        self.stage = stage;
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push((self.stage, diagnostic));
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().map(|(_, d)| d)
    }

    /// Errors first, then warnings, then notes; within each, by stage, then by file and
    /// position, so that the first line of the report is the first cause in reading order.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut items: Vec<&(Stage, Diagnostic)> = self.items.iter().collect();
        items.sort_by(|(sa, a), (sb, b)| {
            (a.severity, sa, a.origin.map(|o| (o.file, o.span))).cmp(&(
                b.severity,
                sb,
                b.origin.map(|o| (o.file, o.span)),
            ))
        });
        let mut items: Vec<&Diagnostic> = items.into_iter().map(|(_, d)| d).collect();
        items.dedup();
        items
    }

    /// The whole report as text: errors first, each with its snippet.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        for diagnostic in self.sorted() {
            render_one(&mut out, diagnostic, sources);
        }
        out
    }
}

fn render_one(out: &mut String, diagnostic: &Diagnostic, sources: &SourceMap) {
    use std::fmt::Write as _;
    let kind = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    if diagnostic.severity == Severity::Note || diagnostic.without_snippet {
        // Notes are one line each: no snippet.
        let _ = match diagnostic.origin {
            Some(origin) => writeln!(
                out,
                "{kind}: {}: {}",
                sources.describe(origin),
                diagnostic.message
            ),
            None => writeln!(out, "{kind}: {}", diagnostic.message),
        };
        return;
    }
    let Some(origin) = diagnostic.origin else {
        let _ = writeln!(out, "{kind}: {}", diagnostic.message);
        if let Some(help) = &diagnostic.help {
            let _ = writeln!(out, "  help: {help}");
        }
        return;
    };
    let location = sources.describe(origin);
    let _ = writeln!(out, "{kind}: {location}: {}", diagnostic.message);
    let file = sources.get(origin.file);
    if longest_line_around(&file.text, origin.span) > MAX_SNIPPET_LINE {
        // A snippet of a minified or generated line would bury the message.
        if let Some(help) = &diagnostic.help {
            let _ = writeln!(out, "  help: {help}");
        }
        return;
    }
    let snippet = Snippet {
        source: NamedSource::new(file.path.clone(), file.text.clone()),
        span: SourceSpan::new(origin.span.start.into(), origin.span.len()),
        label: diagnostic.label.clone(),
        help: diagnostic.help.clone(),
    };
    let mut drawn = String::new();
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(120)
        .with_links(false);
    if handler.render_report(&mut drawn, &snippet).is_ok() {
        // The handler starts with a header line for the (empty) message: our summary replaces it.
        let body = drawn.split_once('\n').map_or("", |(_, rest)| rest);
        out.push_str(body.trim_end_matches('\n'));
        out.push('\n');
    }
}

/// Lines longer than this are not drawn in snippets.
const MAX_SNIPPET_LINE: usize = 200;

/// The longest line a snippet around `span` would draw (the span's lines and one on each side).
fn longest_line_around(text: &str, span: crate::source::Span) -> usize {
    let start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let before = text[..start.saturating_sub(1)]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let end = text[span.end.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i);
    let after = text[(end + 1).min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| end + 1 + i);
    text[before..after.max(before)]
        .lines()
        .map(str::len)
        .max()
        .unwrap_or(0)
}

/// A message-less miette diagnostic that only draws the snippet, label and help.
#[derive(Debug)]
struct Snippet {
    source: NamedSource<String>,
    span: SourceSpan,
    label: Option<String>,
    help: Option<String>,
}

impl fmt::Display for Snippet {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl std::error::Error for Snippet {}

impl miette::Diagnostic for Snippet {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            self.label.clone(),
            self.span,
        ))))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }
}

/// "did you mean" for a misspelt name: the closest candidate within a small edit distance.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| format!("did you mean \"{c}\"?"))
}

/// Edit distance counting a swap of two neighbouring letters as one edit (`cahce` → `cache`).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    #[test]
    fn report_starts_with_a_one_line_summary_naming_file_line_and_problem() {
        let mut sources = SourceMap::default();
        let text = "spec:\n  roles:\n  - id: brokr\n".to_string();
        let at = text.find("brokr").unwrap();
        let file = sources.add("clusters/kafka.yaml".into(), text);
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(Diagnostic::warning("later"));
        diagnostics.push(
            Diagnostic::error("unknown role \"brokr\"")
                .at(Origin {
                    file,
                    span: Span::new(at, at + 5),
                })
                .label("not a role of the app")
                .help("did you mean \"broker\"?"),
        );
        let report = diagnostics.render(&sources);
        let first = report.lines().next().unwrap();
        assert_eq!(
            first,
            "error: clusters/kafka.yaml:3:9: unknown role \"brokr\""
        );
        assert!(report.contains("- id: brokr"), "{report}");
        assert!(report.contains("not a role of the app"), "{report}");
        assert!(report.contains("did you mean \"broker\"?"), "{report}");
        assert!(report.trim_end().ends_with("warning: later"), "{report}");
    }

    #[test]
    fn suggestions_only_for_close_names() {
        assert_eq!(
            did_you_mean("brokr", ["broker", "zookeeper"]).as_deref(),
            Some("did you mean \"broker\"?")
        );
        assert_eq!(did_you_mean("xyz", ["broker", "zookeeper"]), None);
        assert_eq!(
            did_you_mean("cahce", ["cache", "frontend"]).as_deref(),
            Some("did you mean \"cache\"?")
        );
    }
}
