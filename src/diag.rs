//! Diagnostics: every problem the renderer finds, with where it is.
//!
//! Stages push [`Diagnostic`]s into a [`Diagnostics`] collector and keep going, so that one run
//! reports every problem at once (the cargo-deny pattern). A stage fails at its end when the
//! collector holds an error. [`Diagnostics::render`] turns them into text: a one-line summary
//! (`error: path:line:column: message`, enough for Argo CD's one-line error display) followed by
//! a source snippet drawn by miette.
//!
//! One mistake gives one message: diagnostics that are the same problem (the same severity,
//! message, label and help) at several places form a [`Group`], drawn once in full and followed
//! by a line that counts the others and names a few of their places. A thousand clusters that
//! name a missing app make one report, not a thousand.

#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceSpan, SpanContents,
};

use crate::source::{Origin, SourceFile, SourceMap, Span};

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
    /// An error; `message` is anything that displays as one (a string, an error value).
    pub fn error(message: impl fmt::Display) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.to_string(),
            origin: None,
            label: None,
            help: None,
            without_snippet: false,
        }
    }

    pub fn warning(message: impl fmt::Display) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn note(message: impl fmt::Display) -> Self {
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
///
/// However many problems are pushed, it holds at most a few thousand: when it has gathered
/// [`COMPACT_AT`], it keeps, in report order, the first [`MAX_SHOWN`] groups of each severity
/// (which is all a report draws) and the first [`PLACES_SHOWN`] repetitions of each, and counts
/// the others. The counts stay exact; only repetitions of one problem among those dropped are
/// no longer recognised as repetitions.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Held>,
    stage: Stage,
    /// Problems pushed, by severity (errors, warnings, notes), repetitions included.
    pushed: [usize; 3],
    /// Problems no longer held, by severity, whose group is not held either.
    dropped: [usize; 3],
}

/// A diagnostic held, the stage it was found in, and the repetitions of its problem that
/// compaction let go and counted here.
#[derive(Debug)]
struct Held {
    stage: Stage,
    diagnostic: Diagnostic,
    folded: usize,
}

/// What makes two diagnostics the same problem: everything but the place.
type Problem<'a> = (Severity, &'a str, Option<&'a str>, Option<&'a str>, bool);

impl Diagnostic {
    fn problem(&self) -> Problem<'_> {
        (
            self.severity,
            &self.message,
            self.label.as_deref(),
            self.help.as_deref(),
            self.without_snippet,
        )
    }
}

/// One problem at one or more places: the first in report order, and the others.
#[derive(Debug)]
pub struct Group<'a> {
    pub first: &'a Diagnostic,
    /// The other places held, in report order.
    pub others: Vec<&'a Diagnostic>,
    /// Repetitions counted but no longer held.
    pub unheld: usize,
}

impl Group<'_> {
    /// How many times the problem was found (repetitions at one place counted once).
    pub fn count(&self) -> usize {
        self.others
            .len()
            .saturating_add(self.unheld)
            .saturating_add(1)
    }

    /// `… and 999 more like this: a.yaml:6:8, b.yaml:6:8, c.yaml:6:8, …` (the first
    /// [`PLACES_SHOWN`] other places, each named by `place`), or `None` for a problem found once.
    pub fn repeated(&self, place: impl Fn(Origin) -> String) -> Option<String> {
        let more = self.count().saturating_sub(1);
        if more == 0 {
            return None;
        }
        let places: Vec<String> = self
            .others
            .iter()
            .filter_map(|d| d.origin)
            .take(PLACES_SHOWN)
            .map(place)
            .collect();
        let mut line = format!("… and {more} more like this");
        if !places.is_empty() {
            line.push_str(": ");
            line.push_str(&places.join(", "));
            if places.len() < more {
                line.push_str(", …");
            }
        }
        Some(line)
    }
}

/// Places of a repeated problem named after it; the others are counted.
pub const PLACES_SHOWN: usize = 3;

/// What compaction does with a held diagnostic.
enum Fate {
    Kept,
    /// A repetition of a held problem: counted on the group's first item (its index).
    FoldedInto(usize),
    /// A problem past the report's limit: counted by severity.
    Dropped,
}

/// Diagnostics held before the collector keeps only those a report draws.
const COMPACT_AT: usize = 4096;

fn severity_index(severity: Severity) -> usize {
    match severity {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Note => 2,
    }
}

/// Report order: errors first, then warnings, then notes; within each, by stage, then by file
/// and position, so that the first line of the report is the first cause in reading order.
fn report_order(a: &Held, b: &Held) -> std::cmp::Ordering {
    let key = |held: &Held| {
        let d = &held.diagnostic;
        (d.severity, held.stage, d.origin.map(|o| (o.file, o.span)))
    };
    key(a).cmp(&key(b))
}

impl Diagnostics {
    /// Diagnostics pushed from now on belong to `stage`.
    pub fn enter(&mut self, stage: Stage) {
        self.stage = stage;
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        let count = self.pushed.get_mut(severity_index(diagnostic.severity));
        if let Some(count) = count {
            *count = count.saturating_add(1);
        }
        self.items.push(Held {
            stage: self.stage,
            diagnostic,
            folded: 0,
        });
        if self.items.len() >= COMPACT_AT {
            self.compact();
        }
    }

    pub fn extend(&mut self, other: Diagnostics) {
        for (mine, theirs) in self.pushed.iter_mut().zip(other.pushed) {
            *mine = mine.saturating_add(theirs);
        }
        for (mine, theirs) in self.dropped.iter_mut().zip(other.dropped) {
            *mine = mine.saturating_add(theirs);
        }
        self.items.extend(other.items);
        if self.items.len() >= COMPACT_AT {
            self.compact();
        }
    }

    /// Keeps, in report order (a stable sort: equal places keep the order they were found in),
    /// the first [`MAX_SHOWN`] groups of each severity and the first [`PLACES_SHOWN`]
    /// repetitions of each, and counts the rest.
    fn compact(&mut self) {
        self.items.sort_by(report_order);
        self.items.dedup_by(|later, earlier| {
            let same = later.diagnostic == earlier.diagnostic;
            if same {
                earlier.folded = earlier.folded.saturating_add(later.folded);
            }
            same
        });
        let fates = self.fates();
        for (index, fate) in fates.iter().enumerate() {
            let Some(folded) = self.items.get(index).map(|h| h.folded.saturating_add(1)) else {
                continue;
            };
            let counter = match fate {
                Fate::Kept => continue,
                Fate::FoldedInto(first) => self.items.get_mut(*first).map(|h| &mut h.folded),
                Fate::Dropped => self
                    .items
                    .get(index)
                    .and_then(|h| self.dropped.get_mut(severity_index(h.diagnostic.severity))),
            };
            if let Some(counter) = counter {
                *counter = counter.saturating_add(folded);
            }
        }
        let mut fate = fates.iter();
        self.items
            .retain(|_| matches!(fate.next(), Some(Fate::Kept)));
    }

    /// What compaction does with each item of the sorted list: one pass, one map lookup each.
    fn fates(&self) -> Vec<Fate> {
        // Per problem: its group's first item and places kept, or `None` past the limit.
        let mut seen: BTreeMap<Problem<'_>, Option<(usize, usize)>> = BTreeMap::new();
        let mut groups = [0usize; 3];
        let mut fates = Vec::with_capacity(self.items.len());
        for (index, held) in self.items.iter().enumerate() {
            let problem = held.diagnostic.problem();
            let fate = match seen.get_mut(&problem) {
                Some(Some((_, places))) if *places <= PLACES_SHOWN => {
                    *places = places.saturating_add(1);
                    Fate::Kept
                }
                Some(Some((first, _))) => Fate::FoldedInto(*first),
                Some(None) => Fate::Dropped,
                None => {
                    let held = groups.get_mut(severity_index(problem.0));
                    let kept = match held {
                        Some(held) if *held < MAX_SHOWN => {
                            *held = held.saturating_add(1);
                            true
                        }
                        _ => false,
                    };
                    seen.insert(problem, kept.then_some((index, 1)));
                    if kept { Fate::Kept } else { Fate::Dropped }
                }
            };
            fates.push(fate);
        }
        fates
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// Errors pushed so far (repetitions of one problem included).
    pub fn error_count(&self) -> usize {
        self.pushed.first().copied().unwrap_or(0)
    }

    /// Warnings pushed so far (repetitions of one problem included).
    pub fn warning_count(&self) -> usize {
        self.pushed.get(1).copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.pushed.iter().all(|count| *count == 0)
    }

    /// The diagnostics held: all of them, up to a few thousand (see [`Diagnostics`]).
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().map(|held| &held.diagnostic)
    }

    /// The diagnostics held, in report order, each repetition of one problem at one place left
    /// out, with the repetitions each stands for that are no longer held.
    fn sorted_held(&self) -> Vec<(&Diagnostic, usize)> {
        let mut items: Vec<&Held> = self.items.iter().collect();
        items.sort_by(|a, b| report_order(a, b));
        let mut sorted: Vec<(&Diagnostic, usize)> = Vec::with_capacity(items.len());
        for held in items {
            match sorted.last_mut() {
                Some((last, folded)) if *last == &held.diagnostic => {
                    *folded = folded.saturating_add(held.folded);
                }
                _ => sorted.push((&held.diagnostic, held.folded)),
            }
        }
        sorted
    }

    /// The diagnostics held, in report order, each repetition of one problem at one place left
    /// out.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        self.sorted_held().into_iter().map(|(d, _)| d).collect()
    }

    /// Problems counted but not held any more: repetitions past the first few of a problem, and
    /// problems past a report's limit.
    pub fn unheld(&self) -> usize {
        self.dropped
            .iter()
            .chain(self.items.iter().map(|held| &held.folded))
            .fold(0usize, |sum, count| sum.saturating_add(*count))
    }

    /// Problems of a severity that are not held any more (all come after those held).
    pub fn dropped(&self, severity: Severity) -> usize {
        self.dropped
            .get(severity_index(severity))
            .copied()
            .unwrap_or(0)
    }

    /// The problems held, in report order, each with its repetitions: groups are ordered by
    /// their first place, and each repetition joins the group of its problem (sorting, then one
    /// pass with one map lookup per diagnostic).
    pub fn groups(&self) -> Vec<Group<'_>> {
        let mut index: BTreeMap<Problem<'_>, usize> = BTreeMap::new();
        let mut groups: Vec<Group<'_>> = Vec::new();
        for (diagnostic, folded) in self.sorted_held() {
            match index
                .get(&diagnostic.problem())
                .and_then(|&i| groups.get_mut(i))
            {
                Some(group) => {
                    group.others.push(diagnostic);
                    group.unheld = group.unheld.saturating_add(folded);
                }
                None => {
                    index.insert(diagnostic.problem(), groups.len());
                    groups.push(Group {
                        first: diagnostic,
                        others: Vec::new(),
                        unheld: folded,
                    });
                }
            }
        }
        groups
    }

    /// The whole report as text: errors first, each problem once with its snippet, then a line
    /// naming how often and where else it was found. At most [`MAX_SHOWN`] problems of each
    /// severity are drawn; a line then counts the rest, so that a report costs time in
    /// proportion to what it shows, however many problems there are.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        let mut shown = 0usize;
        let mut hidden = 0usize;
        let mut current = None;
        for group in self.groups() {
            let severity = group.first.severity;
            if current != Some(severity) {
                write_hidden(&mut out, current, hidden);
                current = Some(severity);
                (shown, hidden) = (0, self.dropped(severity));
            }
            if shown < MAX_SHOWN {
                render_one(&mut out, group.first, sources);
                write_repeated(&mut out, &group, sources);
                shown = shown.saturating_add(1);
            } else {
                hidden = hidden.saturating_add(group.count());
            }
        }
        write_hidden(&mut out, current, hidden);
        // Messages and snippets quote the inputs: none of their control characters reaches a
        // terminal, Argo CD's UI or a CI log raw.
        crate::visible::visible_lines(&out)
    }
}

/// Problems of one severity drawn in full in a report; the rest are counted.
pub const MAX_SHOWN: usize = 50;

/// `… and 4950 more errors`, after the last problem of a severity that was drawn.
fn write_hidden(out: &mut String, severity: Option<Severity>, hidden: usize) {
    use std::fmt::Write as _;
    let Some(severity) = severity.filter(|_| hidden > 0) else {
        return;
    };
    let (one, many) = match severity {
        Severity::Error => ("error", "errors"),
        Severity::Warning => ("warning", "warnings"),
        Severity::Note => ("note", "notes"),
    };
    let noun = if hidden == 1 { one } else { many };
    let _ = writeln!(out, "… and {hidden} more {noun}");
}

/// `  … and 999 more like this: clusters/b.yaml:6:8, clusters/c.yaml:6:8, …`, after a problem
/// found at several places.
fn write_repeated(out: &mut String, group: &Group<'_>, sources: &SourceMap) {
    if let Some(line) = group.repeated(|origin| sources.describe(origin).to_string()) {
        out.push_str("  ");
        out.push_str(&line);
        out.push('\n');
    }
}

fn render_one(out: &mut String, diagnostic: &Diagnostic, sources: &SourceMap) {
    use std::fmt::Write as _;
    let kind = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let one_line = diagnostic.severity == Severity::Note || diagnostic.without_snippet;
    let Some(origin) = diagnostic.origin else {
        let _ = writeln!(out, "{kind}: {}", diagnostic.message);
        if !one_line {
            write_help(out, diagnostic);
        }
        return;
    };
    let _ = writeln!(
        out,
        "{kind}: {}: {}",
        sources.describe(origin),
        diagnostic.message
    );
    if one_line {
        // Notes are one line each; some messages must not show the source around them.
        return;
    }
    let file = sources.get(origin.file);
    match Window::around(file, origin.span) {
        Some(window) => draw(out, &window, diagnostic),
        // A snippet of a minified or generated line would bury the message.
        None => write_help(out, diagnostic),
    }
}

fn write_help(out: &mut String, diagnostic: &Diagnostic) {
    use std::fmt::Write as _;
    if let Some(help) = &diagnostic.help {
        let _ = writeln!(out, "  help: {help}");
    }
}

/// Lines longer than this are not drawn in snippets.
const MAX_SNIPPET_LINE: usize = 200;

/// A span over more lines than this is drawn as its first line only.
const MAX_SNIPPET_SPAN_LINES: usize = 8;

/// The lines a snippet draws (the span's lines and one on each side), copied out of the file,
/// with the span snapped to character boundaries. Finding them reads a few hundred bytes around
/// the span, never the whole file.
#[derive(Debug, PartialEq, Eq)]
struct Window {
    name: String,
    text: String,
    /// Zero-based line of the window's first line in the file.
    first_line: usize,
    /// The span, relative to `text`.
    span: Span,
}

impl Window {
    /// `None` when a line the snippet would draw is longer than [`MAX_SNIPPET_LINE`].
    fn around(file: &SourceFile, span: Span) -> Option<Window> {
        let text = file.text.as_str();
        let start = floor_char(text, span.start);
        let mut end = ceil_char(text, span.end.max(start));
        let first_line_start = line_start(text, start)?;
        let first_line_end = line_end(text, start)?;
        if end > first_line_end && !spans_few_lines(text, first_line_end, end) {
            end = first_line_end;
        }
        let last_line_end = line_end(text, end.saturating_sub(1).max(start))?;
        let from = match first_line_start.checked_sub(1) {
            Some(newline) => line_start(text, newline)?,
            None => 0,
        };
        let to = match text.get(last_line_end..) {
            Some(rest) if !rest.is_empty() => line_end(text, last_line_end.saturating_add(1))?,
            _ => last_line_end,
        };
        let span = Span::new(start.saturating_sub(from), end.saturating_sub(from));
        let (text, span) = without_line_end_returns(text.get(from..to)?, span);
        Some(Window {
            name: file.path.clone(),
            text,
            first_line: file.line_col(from).0.saturating_sub(1),
            span,
        })
    }
}

/// The window's text with the carriage returns of CRLF line ends taken out (the snippet drawer
/// would count them as line breaks of their own), and the span moved to match. The window ends
/// before a line break, so a carriage return at its very end is one of those too.
fn without_line_end_returns(text: &str, span: Span) -> (String, Span) {
    let bytes = text.as_bytes();
    let is_line_end_return = |i: usize| {
        bytes.get(i) == Some(&b'\r') && matches!(bytes.get(i.saturating_add(1)), Some(b'\n') | None)
    };
    let removed_before = |at: usize| (0..at).filter(|&i| is_line_end_return(i)).count();
    let kept: String = text
        .char_indices()
        .filter(|&(i, _)| !is_line_end_return(i))
        .map(|(_, c)| c)
        .collect();
    let span = Span::new(
        span.start.saturating_sub(removed_before(span.start)),
        span.end.saturating_sub(removed_before(span.end)),
    );
    (kept, span)
}

/// The largest character boundary at or before `at` (and within the text).
fn floor_char(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at = at.saturating_sub(1);
    }
    at
}

/// The smallest character boundary at or after `at` (and within the text).
fn ceil_char(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at = at.saturating_add(1);
    }
    at
}

/// The start of the line holding `at`, if that is at most [`MAX_SNIPPET_LINE`] bytes back.
fn line_start(text: &str, at: usize) -> Option<usize> {
    let from = at.saturating_sub(MAX_SNIPPET_LINE.saturating_add(1));
    let before = text.as_bytes().get(from..at)?;
    match before.iter().rposition(|&b| b == b'\n') {
        Some(i) => Some(from.saturating_add(i).saturating_add(1)),
        None if from == 0 => Some(0),
        None => None,
    }
}

/// The end (before the line break) of the line holding `at`, if that is at most
/// [`MAX_SNIPPET_LINE`] bytes on, and the line is not longer than that.
fn line_end(text: &str, at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let to = at.saturating_add(MAX_SNIPPET_LINE).min(bytes.len());
    let end = match bytes.get(at..to)?.iter().position(|&b| b == b'\n') {
        Some(i) => at.saturating_add(i),
        None if to == bytes.len() => to,
        None => return None,
    };
    let start = line_start(text, at)?;
    (end.saturating_sub(start) <= MAX_SNIPPET_LINE).then_some(end)
}

/// Whether `from..to` holds at most [`MAX_SNIPPET_SPAN_LINES`] line breaks (reading no more
/// than that many lines).
fn spans_few_lines(text: &str, from: usize, to: usize) -> bool {
    let limit = MAX_SNIPPET_SPAN_LINES.saturating_mul(MAX_SNIPPET_LINE.saturating_add(1));
    let to = to.min(from.saturating_add(limit));
    text.as_bytes()
        .get(from..to)
        .is_some_and(|bytes| bytes.iter().filter(|&&b| b == b'\n').count() < MAX_SNIPPET_SPAN_LINES)
        && to.saturating_sub(from) < limit
}

/// Draws the window's snippet with miette, below the summary line already written.
fn draw(out: &mut String, window: &Window, diagnostic: &Diagnostic) {
    let snippet = Snippet {
        source: WindowSource(window),
        span: SourceSpan::new(window.span.start.into(), window.span.len()),
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
    } else {
        write_help(out, diagnostic);
    }
}

/// A message-less miette diagnostic that only draws the snippet, label and help.
#[derive(Debug)]
struct Snippet<'a> {
    source: WindowSource<'a>,
    span: SourceSpan,
    label: Option<String>,
    help: Option<String>,
}

impl fmt::Display for Snippet<'_> {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl std::error::Error for Snippet<'_> {}

impl miette::Diagnostic for Snippet<'_> {
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

/// The window as miette's source: its lines numbered as in the file, columns in characters
/// (as in the summary line).
#[derive(Debug)]
struct WindowSource<'a>(&'a Window);

impl miette::SourceCode for WindowSource<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let window = self.0;
        let contents =
            window
                .text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        let start = contents.span().offset();
        let line_start = window
            .text
            .get(..start)
            .and_then(|before| before.rfind('\n'))
            .map_or(0, |i| i.saturating_add(1));
        let column = window
            .text
            .get(line_start..start)
            .map_or(contents.column(), |s| s.chars().count());
        Ok(Box::new(MietteSpanContents::new_named(
            window.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line().saturating_add(window.first_line),
            column,
            contents.line_count(),
        )))
    }
}

/// "did you mean" for a misspelt name: the closest candidate within a small edit distance.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let length = word.chars().count();
    let limit = (length / 3).max(1);
    candidates
        .into_iter()
        // Lengths further apart than the limit cannot be close: skip them unmeasured.
        .filter(|c| c.chars().count().abs_diff(length) <= limit)
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| format!("did you mean \"{c}\"?"))
}

/// Edit distance counting a swap of two neighbouring letters as one edit (`cahce` → `cache`),
/// kept row by row: memory in proportion to the candidate, whatever the length of the word.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // Rows i-2, i-1 and i of the table; row 0 is the distance from the empty prefix.
    let mut before: Vec<usize> = Vec::new();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut last_a = None;
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(previous.len());
        current.push(i.saturating_add(1));
        for (j, &cb) in b.iter().enumerate() {
            let at = |row: &[usize], k: usize| row.get(k).copied().unwrap_or(usize::MAX);
            let substitute = at(&previous, j).saturating_add(usize::from(ca != cb));
            let delete = at(&previous, j.saturating_add(1)).saturating_add(1);
            let insert = at(&current, j).saturating_add(1);
            let mut best = substitute.min(delete).min(insert);
            let swapped = j
                .checked_sub(1)
                .and_then(|k| b.get(k))
                .is_some_and(|&prev_b| prev_b == ca && last_a == Some(cb));
            if swapped && let Some(k) = j.checked_sub(1) {
                best = best.min(at(&before, k).saturating_add(1));
            }
            current.push(best);
        }
        before = std::mem::replace(&mut previous, current);
        last_a = Some(ca);
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
// A panic in a test is a failed test: tests may index and add freely.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
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

    fn error_at(file: crate::source::FileId, start: usize, end: usize) -> Diagnostic {
        Diagnostic::error("bad value").at(Origin {
            file,
            span: Span { start, end },
        })
    }

    /// A problem of its own at each place: `bad value 7`.
    fn numbered_error_at(file: crate::source::FileId, start: usize, number: usize) -> Diagnostic {
        Diagnostic {
            message: format!("bad value {number}"),
            ..error_at(file, start, start + 1)
        }
    }

    #[test]
    fn only_the_first_problems_are_drawn_and_the_rest_are_counted() {
        let mut sources = SourceMap::default();
        let text: String = (0..200).map(|i| format!("key{i}: value\n")).collect();
        let file = sources.add("many.yaml".into(), text.clone());
        let mut diagnostics = Diagnostics::default();
        for i in (0..120).rev() {
            let at = text.find(&format!("key{i}:")).unwrap();
            diagnostics.push(numbered_error_at(file, at, i));
        }
        for i in 0..3 {
            diagnostics.push(Diagnostic::warning(format!("warning {i}")));
        }
        let report = diagnostics.render(&sources);
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines[0], "error: many.yaml:1:1: bad value 0", "{report}");
        let errors = lines.iter().filter(|l| l.starts_with("error: ")).count();
        assert_eq!(errors, MAX_SHOWN);
        // The 50th error draws key49 and the line after it; nothing later is drawn.
        assert!(report.contains("key49: value") && !report.contains("key51: value"));
        let counted = lines
            .iter()
            .position(|l| *l == "… and 70 more errors")
            .unwrap();
        assert!(lines[counted - 1].contains("╰"), "{report}");
        assert_eq!(
            &lines[counted + 1..],
            [
                "warning: warning 0",
                "warning: warning 1",
                "warning: warning 2"
            ]
        );
    }

    #[test]
    fn snippets_copy_the_lines_around_the_span_not_the_file() {
        let text = format!(
            "{}bad: here\n{}",
            "ok: 1\n".repeat(100_000),
            "ok: 2\n".repeat(100_000)
        );
        let file = SourceFile::new("big.yaml".into(), text.clone());
        let at = text.find("bad").unwrap();
        let window = Window::around(&file, Span::new(at, at + 3)).unwrap();
        assert_eq!(window.text, "ok: 1\nbad: here\nok: 2");
        assert_eq!(window.first_line, 99_999);
        let mut sources = SourceMap::default();
        let id = sources.add("big.yaml".into(), text);
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(error_at(id, at, at + 3).label("this"));
        let report = diagnostics.render(&sources);
        assert!(
            report.starts_with("error: big.yaml:100001:1: bad value\n"),
            "{report}"
        );
        assert!(report.contains("╭─[big.yaml:100001:1]"), "{report}");
        assert!(report.contains(" 100001 │ bad: here"), "{report}");
        assert!(report.contains(" 100002 │ ok: 2"), "{report}");
    }

    #[test]
    fn a_span_over_many_lines_is_drawn_as_its_first_line() {
        let text = format!("a:\n{}b: 1\n", "  x: 1\n".repeat(50));
        let file = SourceFile::new("f.yaml".into(), text.clone());
        let short = Window::around(&file, Span::new(0, 3 * 7)).unwrap();
        assert_eq!(short.text.lines().count(), 5, "{short:?}");
        let long = Window::around(&file, Span::new(0, text.len())).unwrap();
        assert_eq!(long.text, "a:\n  x: 1");
        assert_eq!(long.span, Span::new(0, 2));
    }

    #[test]
    fn lines_too_long_to_draw_give_the_summary_and_help_only() {
        let text = format!("k: {}\n", "x".repeat(5000));
        let mut sources = SourceMap::default();
        let file = sources.add("wide.yaml".into(), text);
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(error_at(file, 4000, 4001).help("shorter, please"));
        assert_eq!(
            diagnostics.render(&sources),
            "error: wide.yaml:1:4001: bad value\n  help: shorter, please\n"
        );
    }

    #[test]
    fn spans_inside_multi_byte_characters_are_widened_to_whole_characters() {
        let text = "k: “v”\n";
        let mut sources = SourceMap::default();
        let file = sources.add("q.yaml".into(), text.into());
        let quote = text.find('“').unwrap();
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(error_at(file, quote + 1, quote + 2).label("here"));
        let report = diagnostics.render(&sources);
        assert!(
            report.starts_with("error: q.yaml:1:4: bad value\n"),
            "{report}"
        );
        assert!(report.contains("╭─[q.yaml:1:4]"), "{report}");
        assert!(report.contains("1 │ k: “v”"), "{report}");
    }

    #[test]
    fn suggestions_cost_nothing_for_words_of_very_different_lengths() {
        let long = "x".repeat(1 << 20);
        assert_eq!(did_you_mean(&long, ["x", "xx"]), None);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn a_million_problems_are_held_as_fifty_and_counted_exactly() {
        let mut sources = SourceMap::default();
        let file = sources.add("many.yaml".into(), "x\n".repeat(1_000_000));
        let mut diagnostics = Diagnostics::default();
        // Pushed last-first, and each twice: the report still starts with the first, and the
        // repetitions held are not counted twice.
        for i in (0..1_000_000usize).rev() {
            diagnostics.push(numbered_error_at(file, 2 * i, i));
            if i < 10 {
                diagnostics.push(numbered_error_at(file, 2 * i, i));
            }
        }
        diagnostics.push(Diagnostic::warning("one warning"));
        assert!(diagnostics.items.len() < COMPACT_AT);
        assert_eq!(diagnostics.error_count(), 1_000_010);
        assert_eq!(diagnostics.warning_count(), 1);
        let report = diagnostics.render(&sources);
        assert!(
            report.starts_with("error: many.yaml:1:1: bad value 0\n"),
            "{report}"
        );
        let errors = report.lines().filter(|l| l.starts_with("error: ")).count();
        assert_eq!(errors, MAX_SHOWN);
        assert!(
            report.contains("\n… and 999950 more errors\nwarning: one warning\n"),
            "{report}"
        );
    }

    #[test]
    fn one_problem_at_a_million_places_is_one_report_with_the_count() {
        let mut sources = SourceMap::default();
        let file = sources.add("many.yaml".into(), "x\n".repeat(1_000_000));
        let other = sources.add("other.yaml".into(), "y\n".into());
        let mut diagnostics = Diagnostics::default();
        for i in (0..1_000_000usize).rev() {
            diagnostics.push(error_at(file, 2 * i, 2 * i + 1));
        }
        diagnostics.push(error_at(other, 0, 1).help("a different help: another problem"));
        assert!(diagnostics.items.len() < COMPACT_AT);
        assert_eq!(diagnostics.error_count(), 1_000_001);
        let groups = diagnostics.groups();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].count(), 1_000_000);
        let report = diagnostics.render(&sources);
        let errors: Vec<&str> = report
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(
            errors,
            [
                "error: many.yaml:1:1: bad value",
                "error: other.yaml:1:1: bad value"
            ]
        );
        assert!(
            report.contains(
                "\n  … and 999999 more like this: many.yaml:2:1, many.yaml:3:1, many.yaml:4:1, …\n"
            ),
            "{report}"
        );
        assert!(report.len() < 1000, "{report}");
    }

    #[test]
    fn repetitions_are_counted_the_same_however_often_the_collector_compacts() {
        // Two problems interleaved across many compactions, pushed in an order unlike the
        // report's: each is still one group with its exact count and its first places.
        let mut sources = SourceMap::default();
        let file = sources.add("f.yaml".into(), "x\n".repeat(20_000));
        let mut diagnostics = Diagnostics::default();
        for i in (0..20_000usize).rev() {
            let diagnostic = error_at(file, 2 * i, 2 * i + 1);
            diagnostics.push(if i % 2 == 0 {
                diagnostic
            } else {
                diagnostic.help("odd")
            });
        }
        let groups = diagnostics.groups();
        assert_eq!(groups.len(), 2);
        assert_eq!((groups[0].count(), groups[1].count()), (10_000, 10_000));
        let first_places = |g: &Group<'_>| -> Vec<usize> {
            g.others
                .iter()
                .take(3)
                .map(|d| d.origin.unwrap().span.start / 2)
                .collect()
        };
        assert_eq!(first_places(&groups[0]), [2, 4, 6]);
        assert_eq!(first_places(&groups[1]), [3, 5, 7]);
        assert_eq!(diagnostics.unheld(), 20_000 - diagnostics.items.len());
    }

    proptest::proptest! {
        /// Any span, reversed, empty, past the end or cutting a character, into any text, draws
        /// a report whose first line names the file, line and column.
        #[test]
        fn any_span_into_any_text_draws_without_panicking(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "\n", "\r\n", "\r", "\t", "é", "“", "\u{feff}", "😀", "\u{200f}", "key: ", "  ",
                ]),
                0..400,
            ),
            start in 0usize..2000,
            end in 0usize..2000,
            long_line in proptest::bool::ANY,
        ) {
            let mut text: String = pieces.concat();
            if long_line {
                let middle = (0..=text.len() / 2).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                text.insert_str(middle, &"é".repeat(150));
            }
            let mut sources = SourceMap::default();
            let file = sources.add("any.yaml".into(), text);
            let mut diagnostics = Diagnostics::default();
            diagnostics.push(error_at(file, start, end).label("label").help("help"));
            let report = diagnostics.render(&sources);
            let first = report.lines().next().unwrap_or_default();
            proptest::prop_assert!(first.starts_with("error: any.yaml:"), "{}", report);
            proptest::prop_assert!(first.ends_with(": bad value"), "{}", report);
        }
    }
}
