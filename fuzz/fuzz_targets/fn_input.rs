//! `kdrender fn`: any text on stdin, as kustomize or kpt would hand it over, through the library
//! entry point the binary uses (`commands::function::run_on`). The function runs in `fuzz/fn/`,
//! whose `repo/` is a small repository (one app, one cluster, one template), so a functionConfig
//! with `spec.path: repo` renders real objects.
//!
//! Nothing may panic, and the items the function does not own pass through unchanged: read with
//! kdrender's own YAML 1.2 core reader, the items of the list that comes out start with the items
//! that went in (`yes` stays a string, `0644` the integer 644). A list refused as a whole (no
//! items out) is a refusal, not a change.
#![no_main]

use std::path::{Component, Path};
use std::sync::Once;

use kdrender::document::{Limits, parse_yaml};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    run_in_bundled_folder();
    if names_a_folder_outside(input) {
        return;
    }
    let env = kdrender::options::Environment::default();
    let outcome = kdrender::commands::function::run_on(input, &env);
    let output = outcome
        .stdout
        .into_string()
        .expect("fn's output is text held in memory");
    if output.is_empty() {
        assert_ne!(
            outcome.code, 0,
            "kdrender fn succeeded with nothing on stdout"
        );
        return;
    }
    let Some(given) = items(input, Limits::default()) else {
        return;
    };
    // The output is as deep as the input (at most 64 levels) and holds the rendered objects.
    let generous = Limits {
        max_depth: 128,
        max_nodes: usize::MAX,
        max_alias_bytes: usize::MAX,
    };
    let returned = items(&output, generous).unwrap_or_else(|| {
        panic!("kdrender fn wrote a ResourceList that does not read back:\n{output}")
    });
    if returned.is_empty() {
        return;
    }
    assert!(
        returned.get(..given.len()) == Some(&given[..]),
        "kdrender fn changed the items it passes through\n\
         in:  {}\nout: {}",
        Value::Array(given.clone()),
        Value::Array(returned.iter().take(given.len()).cloned().collect()),
    );
});

/// The function runs where kustomize and kpt run it: in the folder holding the repository.
fn run_in_bundled_folder() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/fn"))
            .expect("fuzz/fn exists");
    });
}

/// Whether `spec.path` of the functionConfig, as either YAML reader sees it, leaves the folder
/// the function runs in (absolute, or through `..`). Confining `spec.path` is tested by the test
/// suite; here it would only let the fuzzer walk the machine's file system.
fn names_a_folder_outside(input: &str) -> bool {
    let mut lists: Vec<Value> = serde_saphyr::from_str::<Value>(input).into_iter().collect();
    if let Ok(documents) = parse_yaml(input, Limits::default()) {
        lists.extend(documents.iter().map(|d| d.to_json()));
    }
    lists
        .iter()
        .any(|list| match list.pointer("/functionConfig/spec/path") {
            Some(Value::String(path)) => Path::new(path)
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)),
            _ => false,
        })
}

/// The items of a ResourceList written as one YAML document, as kdrender's YAML 1.2 core reader
/// reads them; `None` if the text is not that.
fn items(text: &str, limits: Limits) -> Option<Vec<Value>> {
    let documents = parse_yaml(text, limits).ok()?;
    let [document] = documents.as_slice() else {
        return None;
    };
    let list = document.to_json();
    if list.get("kind")? != "ResourceList" {
        return None;
    }
    match list.get("items") {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => Some(items.clone()),
        Some(_) => None,
    }
}
