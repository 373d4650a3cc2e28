//! The JSON Schemas of the input formats, and checking documents against them.
//!
//! The schemas in `schemas/` are compiled into the binary, printed by `kdrender schema`, and
//! checked on load: first by the quick judge ([`accept`]), which reads the schema as it is, and
//! only when it is not sure by `jsonschema`'s validator, compiled then. A schema error carries a
//! JSON pointer into the document; it is mapped back to the line it came from, and an unknown
//! field points at its key, with a suggestion.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;

use crate::diag::{Diagnostic, Diagnostics};
use crate::document::{pointer_escape, pointer_segments};
use crate::load::Document;
use crate::names;
use crate::quantity;

use super::tree::{Tree, schemas};
use super::{accept, diags, kubernetes, kubernetes_fields};

/// The input formats that have a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaKind {
    App,
    Cluster,
    Settings,
    Adoption,
}

impl SchemaKind {
    pub const ALL: [SchemaKind; 4] = [
        SchemaKind::App,
        SchemaKind::Cluster,
        SchemaKind::Settings,
        SchemaKind::Adoption,
    ];

    /// The name `kdrender schema <name>` takes.
    pub fn name(self) -> &'static str {
        match self {
            SchemaKind::App => "app",
            SchemaKind::Cluster => "cluster",
            SchemaKind::Settings => "settings",
            SchemaKind::Adoption => "adoption",
        }
    }

    pub fn from_name(name: &str) -> Option<SchemaKind> {
        let name = name.to_ascii_lowercase();
        SchemaKind::ALL.into_iter().find(|k| {
            k.name() == name
                || matches!(
                    (k, name.as_str()),
                    (SchemaKind::App, "kubedirectorapp")
                        | (SchemaKind::Cluster, "kubedirectorcluster")
                        | (SchemaKind::Settings, "rendersettings")
                )
        })
    }

    /// The schema document, as shipped in `schemas/`.
    pub fn text(self) -> &'static str {
        match self {
            SchemaKind::App => include_str!("../../schemas/app.schema.json"),
            SchemaKind::Cluster => include_str!("../../schemas/cluster.schema.json"),
            SchemaKind::Settings => include_str!("../../schemas/settings.schema.json"),
            SchemaKind::Adoption => include_str!("../../schemas/adoption.schema.json"),
        }
    }

    /// The schema as built into the binary (without its descriptions): the walk that prunes
    /// documents and the quick check read it, and nothing parses it.
    pub(super) fn tree(self) -> &'static Tree {
        match self {
            SchemaKind::App => &schemas::APP,
            SchemaKind::Cluster => &schemas::CLUSTER,
            SchemaKind::Settings => &schemas::SETTINGS,
            SchemaKind::Adoption => &schemas::ADOPTION,
        }
    }

    /// The schema as shipped, parsed the first time a run needs it whole (its references
    /// unresolved): the validator and the error reports read it.
    pub(super) fn document(self) -> &'static serde_json::Value {
        self.kept().document.get_or_init(|| parse(self.text()))
    }

    /// The schema's validator, compiled the first time a document is not quickly accepted,
    /// and kept for the run.
    pub(super) fn validator(self) -> &'static jsonschema::Validator {
        self.kept()
            .validator
            .get_or_init(|| compile(self.document()))
    }

    fn kept(self) -> &'static Kept {
        static APP: Kept = Kept::new();
        static CLUSTER: Kept = Kept::new();
        static SETTINGS: Kept = Kept::new();
        static ADOPTION: Kept = Kept::new();
        match self {
            SchemaKind::App => &APP,
            SchemaKind::Cluster => &CLUSTER,
            SchemaKind::Settings => &SETTINGS,
            SchemaKind::Adoption => &ADOPTION,
        }
    }
}

/// A schema's parsed document and compiled validator, each made on first use.
struct Kept {
    document: OnceLock<serde_json::Value>,
    validator: OnceLock<jsonschema::Validator>,
}

impl Kept {
    const fn new() -> Kept {
        Kept {
            document: OnceLock::new(),
            validator: OnceLock::new(),
        }
    }
}

#[expect(
    clippy::expect_used,
    reason = "the schemas are part of the program, not its input: a unit test compiles each \
              of them, so one that does not compile never ships"
)]
fn parse(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("embedded schema is valid JSON")
}

#[expect(
    clippy::expect_used,
    reason = "the schemas are part of the program, not its input: a unit test compiles each \
              of them, so one that does not compile never ships"
)]
fn compile(schema: &serde_json::Value) -> jsonschema::Validator {
    let mut checked = schema.clone();
    patterns_to_formats(&mut checked);
    kubernetes_fields::accepting_kubernetes_fields(&mut checked);
    options().build(&checked).expect("embedded schema compiles")
}

/// How the schemas are compiled: formats checked (the patterns' functions among them), and
/// references resolved only to kdrender's own embedded files.
pub(super) fn options() -> jsonschema::ValidationOptions<'static> {
    let mut options = jsonschema::options()
        .should_validate_formats(true)
        .with_retriever(kubernetes::Embedded);
    for (_, format, check) in PATTERNS {
        options = options.with_format(format, check);
    }
    options
}

/// The patterns the schemas use, each with the name it is checked under and a function that
/// accepts exactly the strings the pattern matches (a test holds each against its regular
/// expression on many strings). The schema files keep the patterns, for editors; kdrender checks
/// them with these functions, because compiling regular expressions was most of the cost of
/// compiling the schemas, which every small render pays.
type Check = fn(&str) -> bool;
const PATTERNS: [(&str, &str, Check); 10] = [
    ("^/", "kdrender-absolute", |s| s.starts_with('/')),
    ("^/.*[^/]$", "kdrender-directory", check_directory),
    (
        "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        "kdrender-dns-label",
        names::is_dns1123_label_form,
    ),
    (
        "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        "kdrender-dns-name",
        names::is_dns1123_subdomain_form,
    ),
    (
        "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
        "kdrender-role-id",
        names::is_label_value_form,
    ),
    ("^[0-9]+\\+?$", "kdrender-cardinality", |s| {
        let digits = s.strip_suffix('+').unwrap_or(s);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    }),
    ("^https?://", "kdrender-http-url", |s| {
        s.starts_with("http://") || s.starts_with("https://")
    }),
    ("^(file|https?)://.+\\.tgz$", "kdrender-package-url", |s| {
        url_with_suffix(s, &["file://", "http://", "https://"], &[".tgz"])
    }),
    (
        "^(file|https|http?)://.+\\.(jpeg|png)$",
        "kdrender-logo-url",
        |s| {
            url_with_suffix(
                s,
                &["file://", "https://", "http://", "htt://"],
                &[".jpeg", ".png"],
            )
        },
    ),
    (
        "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$",
        "kdrender-quantity",
        quantity::is_well_formed,
    ),
];

/// A pattern of the schemas: its format name and its function.
fn known_pattern(pattern: &str) -> Option<&'static (&'static str, &'static str, Check)> {
    PATTERNS.iter().find(|(known, ..)| *known == pattern)
}

/// The function that checks a pattern of the schemas.
pub(super) fn pattern_check(pattern: &str) -> Option<Check> {
    known_pattern(pattern).map(|(.., check)| *check)
}

fn patterns_to_formats(schema: &mut serde_json::Value) {
    match schema {
        serde_json::Value::Object(map) => {
            let format = map
                .get("pattern")
                .and_then(|p| p.as_str())
                .and_then(known_pattern)
                .map(|(_, format, _)| *format);
            if let Some(format) = format {
                map.remove("pattern");
                map.insert("format".into(), serde_json::Value::from(format));
            }
            map.values_mut().for_each(patterns_to_formats);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(patterns_to_formats),
        _ => {}
    }
}

/// `/`, then any characters but a line break, then a last character that is not `/`.
fn check_directory(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('/') else {
        return false;
    };
    let mut chars = rest.chars();
    match chars.next_back() {
        Some(last) if last != '/' => !chars.as_str().contains('\n'),
        _ => false,
    }
}

/// A scheme, at least one character but a line break, and a suffix.
fn url_with_suffix(s: &str, schemes: &[&str], suffixes: &[&str]) -> bool {
    schemes.iter().any(|scheme| {
        s.strip_prefix(scheme).is_some_and(|rest| {
            !rest.contains('\n')
                && suffixes
                    .iter()
                    .any(|suffix| rest.len() > suffix.len() && rest.ends_with(suffix))
        })
    })
}

/// Documents with more values than this get their first schema error only: jsonschema gathers
/// every error of a document before handing out the first, and a document of a million wrong
/// values would hold a million errors at once.
const MAX_VALUES_FOR_EVERY_ERROR: usize = 100_000;

/// Whether a value holds more than `limit` values (counting stops there).
fn more_values_than(value: &serde_json::Value, limit: usize) -> bool {
    let mut left = limit;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        let Some(rest) = left.checked_sub(1) else {
            return true;
        };
        left = rest;
        match value {
            serde_json::Value::Array(items) => pending.extend(items),
            serde_json::Value::Object(map) => pending.extend(map.values()),
            _ => {}
        }
    }
    false
}

/// Checks one document; returns false when it broke the schema (errors pushed). `pruned` holds
/// the pointers of the fields whose null was pruned from `value`. The format's own validator
/// checks the document but its Kubernetes-typed fields, which are checked one by one against
/// their definitions (see [`kubernetes_fields`]); every error reads as if one validator had
/// found it.
pub fn check(
    kind: SchemaKind,
    document: &Document,
    value: &serde_json::Value,
    pruned: &BTreeSet<String>,
    diagnostics: &mut Diagnostics,
) -> bool {
    if quickly_accepted(kind.tree(), value) {
        return true;
    }
    let schema = kind.document();
    let fields = kubernetes_fields::find(schema, value);
    let validator = kind.validator();
    let report = Report {
        schema,
        validator,
        document,
        pruned,
    };
    if more_values_than(value, MAX_VALUES_FOR_EVERY_ERROR) {
        let Some(first) = report.first_error(value, &fields) else {
            return true;
        };
        diagnostics.push(diags::only_first_schema_error(
            first,
            MAX_VALUES_FOR_EVERY_ERROR,
        ));
        return false;
    }
    let mut valid = true;
    for error in validator.iter_errors(value) {
        valid = false;
        diagnostics.push(report.describe("", &error));
    }
    for field in &fields {
        let validator = kubernetes_fields::validator(field.definition);
        for error in validator.iter_errors(field.value) {
            valid = false;
            diagnostics.push(report.describe(&field.pointer, &error));
        }
    }
    valid
}

/// Whether the document and its Kubernetes-typed fields surely meet their schemas, judged
/// without compiling them (see [`accept`]): each field is judged against its Kubernetes
/// definition where the format's schema refers to it. (The compiled validator takes the fields
/// as they are, and they are checked one by one, as [`kubernetes_fields::find`] finds them; the
/// judge meets every field `find` finds, and judging one more only refuses more.)
pub(super) fn quickly_accepted(schema: &Tree, value: &serde_json::Value) -> bool {
    let judge_kubernetes_field = |reference: &str, field: &serde_json::Value| {
        let definition = kubernetes_fields::definition_named(reference)?;
        Some(kubernetes_fields::quickly_accepted(definition, field))
    };
    accept::accepts(schema, schema, value, judge_kubernetes_field)
}

/// What a schema error is reported against.
struct Report<'a> {
    schema: &'a serde_json::Value,
    validator: &'a jsonschema::Validator,
    document: &'a Document,
    pruned: &'a BTreeSet<String>,
}

impl Report<'_> {
    /// The first schema error: the format's own, else the first Kubernetes-typed field's.
    fn first_error(
        &self,
        value: &serde_json::Value,
        fields: &[kubernetes_fields::Field<'_, '_>],
    ) -> Option<Diagnostic> {
        if let Err(error) = self.validator.validate(value) {
            return Some(self.describe("", &error));
        }
        fields.iter().find_map(|field| {
            let validator = kubernetes_fields::validator(field.definition);
            let error = validator.validate(field.value).err()?;
            Some(self.describe(&field.pointer, &error))
        })
    }

    /// A schema error as a diagnostic, pointed at the value (or the key) it is about. `prefix`
    /// is the pointer of the value the error's validator was given (empty: the document).
    fn describe(&self, prefix: &str, error: &jsonschema::ValidationError<'_>) -> Diagnostic {
        let pointer = format!("{prefix}{}", error.instance_path().as_str());
        let pointer = pointer.as_str();
        let document = self.document;
        let field = field_name(pointer);
        let schema_node = failing_schema(self.schema, error);
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let key = unexpected.first().cloned().unwrap_or_default();
                let at = document.key_origin(&format!("{pointer}/{}", pointer_escape(&key)));
                diags::unknown_field(&key, &field, &known_fields(schema_node), at)
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                let written_null = format!("{pointer}/{}", pointer_escape(name));
                if self.pruned.contains(&written_null) {
                    let at = document.key_origin(&written_null);
                    diags::missing_field_written_null(diags::missing_field(&field, name, at))
                } else {
                    diags::missing_field(&field, name, document.key_origin(pointer))
                }
            }
            kind => match checked_pattern(kind) {
                Some(pattern) => {
                    let description = schema_node
                        .and_then(|n| n.get("description"))
                        .and_then(|d| d.as_str());
                    let at = document.origin(pointer);
                    diags::wrong_form(&field, error.instance(), description, &pattern, at)
                }
                None => diags::schema_error(&field, error, document.origin(pointer)),
            },
        }
    }
}

/// The fields a schema object defines, for suggestions.
fn known_fields(schema_node: Option<&serde_json::Value>) -> Vec<&str> {
    schema_node
        .and_then(|n| n.get("properties"))
        .and_then(|p| p.as_object())
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The pattern a value failed to match: its own, or the one a format stands for.
fn checked_pattern(kind: &ValidationErrorKind) -> Option<String> {
    match kind {
        ValidationErrorKind::Pattern { pattern } => Some(pattern.clone()),
        ValidationErrorKind::Format { format } => PATTERNS
            .iter()
            .find(|(_, name, _)| name == format)
            .map(|(pattern, ..)| pattern.to_string()),
        _ => None,
    }
}

/// The schema object that holds the failing keyword: in the schema itself, or in the
/// Kubernetes definitions it refers to.
pub(crate) fn failing_schema<'a>(
    schema: &'a serde_json::Value,
    error: &jsonschema::ValidationError<'_>,
) -> Option<&'a serde_json::Value> {
    let own = schema.get("$id").and_then(|id| id.as_str());
    match error.absolute_keyword_location().map(|uri| uri.as_str()) {
        Some(location) => {
            let (base, fragment) = location.split_once('#').unwrap_or((location, ""));
            let document = match kubernetes::document(base) {
                Some(document) if Some(base) != own => document,
                _ => schema,
            };
            parent_schema(document, fragment)
        }
        None => parent_schema(schema, error.schema_path().as_str()),
    }
}

/// The schema object that holds the failing keyword (`.../properties/x/pattern` → `.../x`).
fn parent_schema<'a>(
    schema: &'a serde_json::Value,
    schema_path: &str,
) -> Option<&'a serde_json::Value> {
    let segments: Vec<String> = pointer_segments(schema_path).collect();
    let Some((_keyword, parents)) = segments.split_last() else {
        return Some(schema);
    };
    let mut node = schema;
    for segment in parents {
        node = match node {
            serde_json::Value::Object(map) => map.get(segment)?,
            serde_json::Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// `/spec/roles/0/id` → `spec.roles[0].id`, as users read field paths.
pub fn field_name(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer_segments(pointer) {
        if segment.parse::<usize>().is_ok() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    if out.is_empty() {
        "the document".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    /// A minimal document of each kind that its schema accepts, and the same document with one
    /// value that only a pattern (checked by kdrender's own function) refuses.
    fn samples(kind: SchemaKind) -> (serde_json::Value, serde_json::Value) {
        let (valid, broken_at, broken) = match kind {
            SchemaKind::App => (
                json!({
                    "apiVersion": "kubedirector.hpe.com/v1beta1",
                    "kind": "KubeDirectorApp",
                    "metadata": {"name": "app"},
                    "spec": {
                        "label": {"name": "App"}, "distroID": "test/app", "version": "1",
                        "configSchemaVersion": 8,
                        "roles": [{"id": "main", "cardinality": "1+"}],
                        "config": {"selectedRoles": ["main"], "roleServices": []},
                    },
                }),
                "/spec/roles/0/cardinality",
                json!("one or more"),
            ),
            SchemaKind::Cluster => (
                json!({
                    "apiVersion": "kubedirector.hpe.com/v1beta1",
                    "kind": "KubeDirectorCluster",
                    "metadata": {"name": "cluster"},
                    "spec": {
                        "app": "app",
                        "roles": [{"id": "main", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}],
                    },
                }),
                "/spec/roles/0/resources/limits/memory",
                json!("lots"),
            ),
            SchemaKind::Settings => (
                json!({
                    "apiVersion": "kdrender.dev/v1alpha1",
                    "kind": "RenderSettings",
                    "spec": {"namespace": "data"},
                }),
                "/spec/namespace",
                json!("Data_Team"),
            ),
            SchemaKind::Adoption => (
                json!({
                    "apiVersion": "kdrender.dev/v1alpha1",
                    "kind": "Adoption",
                    "metadata": {"name": "cluster", "namespace": "data"},
                    "spec": {
                        "id": "uid", "clusterService": "kdhs-x1y2z", "serviceType": "LoadBalancer",
                        "namingScheme": "UID", "lastNodeID": 1,
                        "roles": [{"id": "main", "statefulSet": "kdss-a1b2c", "members": [{"pod": "kdss-a1b2c-0", "nodeID": 1}]}],
                    },
                }),
                "/spec/roles/0/statefulSet",
                json!("KDSS_A1B2C"),
            ),
        };
        let mut wrong = valid.clone();
        *wrong.pointer_mut(broken_at).unwrap() = broken;
        (valid, wrong)
    }

    #[test]
    fn every_embedded_schema_compiles_and_checks_its_patterns() {
        let mut checked = Vec::new();
        for kind in SchemaKind::ALL {
            let validator = kind.validator();
            let (valid, wrong) = samples(kind);
            assert!(validator.is_valid(&valid), "{}: {valid}", kind.name());
            assert!(!validator.is_valid(&wrong), "{}: {wrong}", kind.name());
            assert!(!validator.is_valid(&json!({})), "{}", kind.name());
            checked.push(kind.name());
        }
        assert_eq!(checked, ["app", "cluster", "settings", "adoption"]);
    }

    #[test]
    fn schema_names_round_trip() {
        for kind in SchemaKind::ALL {
            assert_eq!(SchemaKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(
            SchemaKind::from_name("KubeDirectorCluster"),
            Some(SchemaKind::Cluster)
        );
        assert_eq!(
            SchemaKind::from_name("rendersettings"),
            Some(SchemaKind::Settings)
        );
        assert_eq!(SchemaKind::from_name("nope"), None);
    }

    #[test]
    fn field_names_read_like_paths() {
        assert_eq!(field_name("/spec/roles/0/id"), "spec.roles[0].id");
        assert_eq!(field_name(""), "the document");
    }
}

#[cfg(test)]
mod pattern_tests {
    use super::*;
    use proptest::prelude::*;

    fn regex(pattern: &str) -> regex::Regex {
        regex::Regex::new(pattern).unwrap()
    }

    fn compiled() -> &'static [regex::Regex] {
        static COMPILED: OnceLock<Vec<regex::Regex>> = OnceLock::new();
        COMPILED.get_or_init(|| PATTERNS.iter().map(|(p, ..)| regex(p)).collect())
    }

    #[test]
    fn every_pattern_in_the_schemas_has_a_checker() {
        fn collect(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(p) = map.get("pattern").and_then(|p| p.as_str()) {
                        out.push(p.to_string());
                    }
                    map.values().for_each(|v| collect(v, out));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
                _ => {}
            }
        }
        for kind in SchemaKind::ALL {
            let mut found = Vec::new();
            collect(&serde_json::from_str(kind.text()).unwrap(), &mut found);
            for pattern in found {
                assert!(
                    PATTERNS.iter().any(|(p, ..)| *p == pattern),
                    "no checker for {pattern}"
                );
            }
        }
    }

    #[test]
    fn checkers_agree_with_their_patterns_on_chosen_strings() {
        let samples = [
            "",
            "/",
            "//",
            "/a",
            "/a/",
            "/a\n",
            "/a\nb",
            "a",
            "a-b",
            "-a",
            "a-",
            "A",
            "a.b",
            "a..b",
            ".a",
            "a_b",
            "1",
            "12+",
            "+",
            "1+2",
            "0",
            "1.",
            ".5",
            "1.5Gi",
            "1e3",
            "1E-3",
            "1e",
            "5m",
            "2x",
            "+1",
            "-1.5k",
            "Ki",
            "1Ki",
            "IPC_LOCK",
            "ipc",
            "http://x",
            "https://x",
            "ftp://x",
            "file:///a.tgz",
            "https://h/a.tgz",
            "http://.tgz",
            "http://a.tgz\n",
            "http://a\n.tgz",
            "htt://x.png",
            "https://x.jpeg",
            "file://x.gif",
            "a.b.c",
            "a.-b",
            "x\n",
        ];
        for (pattern, format, check) in PATTERNS {
            let re = regex(pattern);
            for sample in samples {
                assert_eq!(check(sample), re.is_match(sample), "{format} on {sample:?}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]
        #[test]
        fn checkers_agree_with_their_patterns_on_random_strings(
            sample in "[a-zA-Z0-9./:_+\\-\n eEKMGTPimnu]{0,14}",
            prefix in prop::sample::select(vec!["", "/", "http://", "https://", "file://", "htt://", "1", "-"]),
            suffix in prop::sample::select(vec!["", ".tgz", ".png", ".jpeg", "/", "Gi", "+", "\n"]),
        ) {
            let sample = format!("{prefix}{sample}{suffix}");
            for ((_, format, check), re) in PATTERNS.iter().zip(compiled()) {
                prop_assert_eq!(check(&sample), re.is_match(&sample), "{} on {:?}", format, sample);
            }
        }
    }
}
