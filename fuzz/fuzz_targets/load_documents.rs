//! Loading: any bytes, read as a YAML or JSON input file, parsed into spanned documents, each
//! checked against the input schemas and decoded; syntax errors and schema problems drawn as the
//! report draws them. Nothing may panic, overflow or hang.
#![no_main]

use kdrender::diag::{Diagnostic, Diagnostics};
use kdrender::document::{Limits, ParseError, parse_json, parse_yaml};
use kdrender::load::Document;
use kdrender::source::{FileId, Origin, SourceMap};
use kdrender::validate::SchemaKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = SourceMap::default();
    let file = sources.add("input.yaml".into(), text.to_string());
    let mut syntax = Diagnostics::default();
    let mut documents = Vec::new();
    match parse_yaml(text, Limits::default()) {
        Ok(nodes) => documents.extend(nodes),
        Err(error) => syntax.push(located(file, error)),
    }
    match parse_json(text, Limits::default()) {
        Ok(node) => documents.push(node),
        Err(error) => syntax.push(located(file, error)),
    }
    let _ = syntax.render(&sources);
    for root in documents {
        let document = Document {
            file,
            root,
            folder: Default::default(),
            from_catalog: false,
            position: 0,
            summarized: false,
            syntax: kdrender::document::Syntax::Yaml,
        };
        let value = document.root.to_json();
        for kind in SchemaKind::ALL {
            let mut diagnostics = Diagnostics::default();
            // As validation reads apps and clusters: pruned as the API server prunes, then
            // checked against the schema (the other kinds are checked as written).
            let admitted = match kind {
                SchemaKind::App | SchemaKind::Cluster => {
                    kdrender::validate::prune::admit(kind, &document, &mut diagnostics)
                }
                _ => kdrender::validate::prune::Admitted {
                    value: value.clone(),
                    pruned: Default::default(),
                },
            };
            kdrender::validate::schema::check(
                kind,
                &document,
                &admitted.value,
                &admitted.pruned,
                &mut diagnostics,
            );
            let _ = diagnostics.render(&sources);
        }
        let _ = serde_json::from_value::<kdrender::raw::Cluster>(value.clone());
        let _ = serde_json::from_value::<kdrender::raw::App>(value);
    }
});

/// A syntax error as the loader reports it: at its span in the file.
fn located(file: FileId, error: ParseError) -> Diagnostic {
    Diagnostic::error(error.message).at(Origin {
        file,
        span: error.span,
    })
}
