//! The diagnostics drawer: any UTF-8 text in the source map, any problems pointing anywhere into
//! it — spans that cut multi-byte characters, empty, reversed, past the end, on long lines, in any
//! file — with any message, label and help, drawn by `Diagnostics::render`. It must never panic.
#![no_main]

use kdrender::diag::{Diagnostic, Diagnostics, Stage};
use kdrender::source::{FileId, Origin, SourceMap, Span};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    files: Vec<File>,
    problems: Vec<Problem>,
}

#[derive(Arbitrary, Debug)]
struct File {
    path: String,
    text: String,
}

#[derive(Arbitrary, Debug)]
struct Problem {
    severity: Severity,
    stage: StageChoice,
    /// Which file (modulo their number), or none.
    file: Option<u8>,
    start: Offset,
    end: Offset,
    message: String,
    label: Option<String>,
    help: Option<String>,
    without_snippet: bool,
}

#[derive(Arbitrary, Debug)]
enum Severity {
    Error,
    Warning,
    Note,
}

#[derive(Arbitrary, Debug)]
enum StageChoice {
    Load,
    Validate,
    Resolve,
    Render,
}

/// A byte offset: mostly in or just past the text, sometimes anywhere at all.
#[derive(Arbitrary, Debug)]
enum Offset {
    Near(u16),
    Anywhere(usize),
}

impl Offset {
    fn resolve(&self, text: &str) -> usize {
        match *self {
            Offset::Near(n) => usize::from(n) % (text.len() + 8),
            Offset::Anywhere(n) => n,
        }
    }
}

fuzz_target!(|input: Input| {
    let mut sources = SourceMap::default();
    let files: Vec<(FileId, &str)> = input
        .files
        .iter()
        .map(|f| (sources.add(f.path.clone(), f.text.clone()), f.text.as_str()))
        .collect();
    let mut diagnostics = Diagnostics::default();
    for problem in &input.problems {
        diagnostics.enter(match problem.stage {
            StageChoice::Load => Stage::Load,
            StageChoice::Validate => Stage::Validate,
            StageChoice::Resolve => Stage::Resolve,
            StageChoice::Render => Stage::Render,
        });
        let mut diagnostic = match problem.severity {
            Severity::Error => Diagnostic::error(problem.message.clone()),
            Severity::Warning => Diagnostic::warning(problem.message.clone()),
            Severity::Note => Diagnostic::note(problem.message.clone()),
        };
        let file = problem
            .file
            .and_then(|i| files.get(usize::from(i) % files.len().max(1)));
        if let Some(&(file, text)) = file {
            // Built field by field: `Span::new` would put a reversed span right.
            let span = Span {
                start: problem.start.resolve(text),
                end: problem.end.resolve(text),
            };
            diagnostic = diagnostic.at(Origin { file, span });
        }
        if let Some(label) = &problem.label {
            diagnostic = diagnostic.label(label.clone());
        }
        if let Some(help) = &problem.help {
            diagnostic = diagnostic.help(help.clone());
        }
        if problem.without_snippet {
            diagnostic = diagnostic.without_snippet();
        }
        diagnostics.push(diagnostic);
    }
    let _ = diagnostics.render(&sources);
});
