//! Loading: any bytes, read as a YAML or JSON input file, parsed into spanned documents, each
//! checked against the input schemas and decoded. Nothing may panic, overflow or hang.
#![no_main]

use kdrender::diag::Diagnostics;
use kdrender::document::{Limits, parse_json, parse_yaml};
use kdrender::load::Document;
use kdrender::source::SourceMap;
use kdrender::validate::SchemaKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = SourceMap::default();
    let file = sources.add("input.yaml".into(), text.to_string());
    let mut documents = parse_yaml(text, Limits::default()).unwrap_or_default();
    if let Ok(node) = parse_json(text, Limits::default()) {
        documents.push(node);
    }
    for root in documents {
        let document = Document { file, root, folder: Default::default(), from_catalog: false };
        let value = document.root.to_json();
        for kind in SchemaKind::ALL {
            let mut diagnostics = Diagnostics::default();
            kdrender::validate::schema::check(kind, &document, &value, &mut diagnostics);
            let _ = diagnostics.render(&sources);
        }
        let _ = serde_json::from_value::<kdrender::raw::Cluster>(value.clone());
        let _ = serde_json::from_value::<kdrender::raw::App>(value);
    }
});
