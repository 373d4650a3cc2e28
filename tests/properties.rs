//! Property tests: whatever the input, kdrender answers with objects or with errors, never with a
//! panic; and every string survives the trip through its YAML output, quoted where a YAML 1.1
//! reader (Argo CD's) would misread it.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use proptest::prelude::*;

use common::*;
use kdrender::document::{Limits, parse_json, parse_yaml};
use kdrender::options::InputOptions;
use kdrender::validate::{Overrides, Scope};

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_arbitrary_text(text in ".{0,400}") {
        let _ = parse_yaml(&text, Limits::default());
        let _ = parse_json(&text, Limits::default());
    }

    #[test]
    fn parsers_never_panic_on_yaml_like_text(text in "[a-z:{}\\[\\],&*!|>'\"#\\- \n0-9.~]{0,300}") {
        let _ = parse_yaml(&text, Limits::default());
        let _ = parse_json(&text, Limits::default());
    }

    #[test]
    fn templates_never_panic(source in "[a-z{}%#()|.,'\" 0-9+\\-\n_]{0,200}") {
        let variables = serde_json::json!({"roles": {"a": {"count": 2, "fqdns": ["x", "y"]}}, "member": {"ordinal": 1}});
        let _ = kdrender::render::files::render_source(&source, &variables);
    }

    #[test]
    fn every_string_survives_the_yaml_output(value in "\\PC{0,60}|[-+]?0[xbo][0-9a-fA-F_]{0,3}", key in "[a-z0-9._-]{1,20}") {
        let object = serde_json::json!({"data": {key.clone(): value.clone()}});
        let text = kdrender::emit::to_yaml(&object).unwrap();
        let back: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        prop_assert_eq!(&back["data"][&key], &serde_json::Value::String(value.clone()));
        // No plain (unquoted) scalar is something a YAML 1.1 reader would not take as a string.
        for line in text.lines() {
            if let Some((_, scalar)) = line.split_once(": ") {
                prop_assert!(!yaml11_non_string(scalar), "{} in {}", scalar, text);
            }
        }
    }
}

/// Whether a plain scalar means something other than a string to a YAML 1.1 reader (the rules
/// of go-yaml v2, which Argo CD uses, and of PyYAML).
fn yaml11_non_string(scalar: &str) -> bool {
    if scalar.starts_with(['"', '\'', '|', '>']) {
        return false;
    }
    let lower = scalar.to_ascii_lowercase();
    let words = [
        "y", "yes", "n", "no", "on", "off", "true", "false", "~", "null", "", "<<", "=",
    ];
    if words.contains(&lower.as_str()) {
        return true;
    }
    let number = scalar.trim_start_matches(['-', '+']).replace('_', "");
    let is_digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    // A base prefix makes a number only with digits after it: `0x` alone is a string.
    let prefixed = |prefix: &str, digit: fn(char) -> bool| {
        number
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.chars().all(digit))
    };
    prefixed("0x", |c| c.is_ascii_hexdigit())
        || prefixed("0b", |c| matches!(c, '0' | '1'))
        || prefixed("0o", |c| c.is_digit(8))
        || is_digits(&number)
        || number.split_once('.').is_some_and(|(a, b)| {
            (a.is_empty() || is_digits(a))
                && (b.is_empty()
                    || is_digits(b.trim_end_matches(|c: char| {
                        c.is_ascii_alphanumeric() || c == '+' || c == '-'
                    })))
        })
        || number.split(':').count() > 1 && number.split(':').all(is_digits)
        || lower == ".inf"
        || lower == ".nan"
        || scalar.len() >= 10
            && scalar.as_bytes()[4] == b'-'
            && scalar[..4].chars().all(|c| c.is_ascii_digit())
}

/// A valid repository, mutated: one byte changed, removed or inserted in one input file.
fn mutate(text: &str, at: usize, byte: u8, how: u8) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let at = at % bytes.len().max(1);
    match how % 3 {
        0 => bytes[at] = byte,
        1 => {
            bytes.remove(at);
        }
        _ => bytes.insert(at, byte),
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn mutated_repositories_render_or_fail_cleanly(
        file in 0usize..3, at in 0usize..4000, byte in prop::sample::select(b"-:{}[]# \n'\"&*!|0aZ".to_vec()), how in 0u8..3,
    ) {
        let repo = two_role_repo();
        let (path, original) = [
            ("app.yaml", TWO_ROLE_APP),
            ("cluster.yaml", TWO_ROLE_CLUSTER),
            ("files/roles/worker/etc/worker/worker.conf.j2", WORKER_CONFIG),
        ][file];
        write(repo.path(), path, &mutate(original, at, byte, how));
        let options = InputOptions { path: repo.path().to_path_buf(), root: repo.path().to_path_buf(), overrides: Overrides::default(), kube_version: None, files: kdrender::load::Files::Disk };
        match kdrender::render_objects(&options, Scope::UsedApps, kdrender::emit::MAX_OUTPUT_BYTES) {
            Ok(rendered) => prop_assert!(!rendered.diagnostics.has_errors()),
            Err(failure) => {
                let report = failure.report();
                prop_assert!(report.starts_with("error: "), "{}", report);
            }
        }
    }
}
