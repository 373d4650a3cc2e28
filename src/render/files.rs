//! Config files: an app's templates rendered with the cluster's topology (our extension).
//!
//! An app names its template folder in `spec.kdrender.configFiles`. Inside it:
//!
//! ```text
//! all/<path in the container>.j2              the same file in every member of every role
//! roles/<role id>/<path in the container>.j2  the same file in every member of that role
//! members/<role id>/<path in the container>.j2  rendered once per member of that role
//! include/...                                   only for {% include %} and {% import %}
//! ```
//!
//! Templates are minijinja (Jinja2 syntax) with strict undefined variables, `trim_blocks` and
//! `lstrip_blocks`, no auto-escaping, no access to the environment, the clock, randomness or
//! files, and a fuel limit. A template may start with `{# kdrender: mode=0755 #}` to set the
//! file's mode. See the README for the variables a template sees.
//!
//! Bounds: minijinja's fuel charges every instruction and every 64 bytes of data a template
//! creates, and checks sizes before it allocates, so [`TEMPLATE_FUEL`] bounds both the time and
//! the memory of one rendering, and [`FuelBudget`] the time of a whole run. The deepest value a
//! rendering can build is bounded by its fuel too, which sizes the stack of the threads that
//! render ([`crate::parallel`]). Expressions nested deeper than the compiler's stack allows
//! are refused before minijinja parses them ([`super::nesting`]). Each role's files ConfigMap
//! is checked as it fills: valid keys, one file per key, at most 1 MiB.
#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use minijinja::{Environment, UndefinedBehavior, syntax::SyntaxConfig};
use serde_json::{Map, Value, json};

use super::MAX_CONFIGMAP_BYTES;
use super::{diags, names, nesting, sandbox};
use crate::diag::{Diagnostic, Diagnostics};
use crate::load::templates::{TemplateFile, TemplateFolder};
use crate::model::{App, AppSource};
use crate::resolve::{RoleTopology, Topology};
use crate::source::{FileId, Origin, SourceMap, Span};

/// Fuel for one rendering: 131,072 instructions, or 8 MiB of strings and lists (minijinja
/// charges one fuel per 64 bytes), eight times what a ConfigMap can hold. The largest example
/// template uses under 200.
pub const TEMPLATE_FUEL: u64 = 131_072;
/// Fuel for every rendering of one run together, across apps and clusters (a few seconds).
pub const TOTAL_TEMPLATE_FUEL: u64 = 200_000_000;
/// Kubernetes' limit on the length of a ConfigMap key.
pub const MAX_KEY_BYTES: usize = 253;
/// Mount points the renderer owns, where config files may not go.
const RESERVED_PATHS: [&str; 2] = [names::GUESTCONFIG_DIR, names::KDRENDER_DIR];

/// The fuel spent by every rendering of one run; shared by all apps' template sets, whose
/// clusters render in parallel.
#[derive(Debug, Default)]
pub struct FuelBudget {
    spent: AtomicU64,
    /// A rendering was given up on ([`sandbox`]): nothing more renders in this run.
    given_up: AtomicBool,
}

impl FuelBudget {
    /// Charges one rendering's fuel; `false` once the run has spent more than its budget.
    fn charge(&self, fuel: u64) -> bool {
        let before = self.spent.fetch_add(fuel, Ordering::Relaxed);
        before.saturating_add(fuel) <= TOTAL_TEMPLATE_FUEL
    }

    /// Why no more renderings may run, if that is so.
    fn refusal(&self) -> Option<Refusal> {
        if self.given_up.load(Ordering::Relaxed) {
            Some(Refusal::GivenUp)
        } else if self.spent.load(Ordering::Relaxed) > TOTAL_TEMPLATE_FUEL {
            Some(Refusal::Spent)
        } else {
            None
        }
    }
}

/// Why a rendering is refused before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A rendering was given up on ([`sandbox`]).
    #[error("not rendered: kdrender gave up on another template of this run")]
    GivenUp,
    /// The run's renderings spent [`TOTAL_TEMPLATE_FUEL`].
    #[error(
        "templates ran more than {} steps in all in this run; this one is not rendered",
        TOTAL_TEMPLATE_FUEL
    )]
    Spent,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    AllRoles,
    Role(String),
    Member(String),
}

#[derive(Debug)]
struct Template {
    /// Name inside the environment: the path below the template folder.
    name: String,
    scope: Scope,
    /// Absolute path inside the container.
    target: String,
    mode: Option<u32>,
    file: FileId,
}

/// An app's compiled templates.
pub struct TemplateSet {
    /// Shared with the worker threads that render ([`sandbox`]).
    environment: Arc<Environment<'static>>,
    templates: Vec<Template>,
    files: BTreeMap<String, FileId>,
    /// Fuel spent by all renderings of the run so far.
    budget: Arc<FuelBudget>,
}

impl std::fmt::Debug for TemplateSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateSet")
            .field("templates", &self.templates)
            .finish()
    }
}

/// One rendered config file of a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFile {
    /// Absolute path inside the container.
    pub target: String,
    /// Key in the role's files ConfigMap (per member: prefixed with the pod name).
    pub key: String,
    pub mode: Option<u32>,
    pub content: Content,
    /// The template, for messages and the rollout explanation.
    pub template: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    Shared(String),
    /// One text per member, in ordinal order.
    PerMember(Vec<String>),
}

/// Compiles the templates of every app whose folder was read ([`crate::load::templates`]).
/// Their renderings charge one fuel budget for the whole run.
pub fn compile(
    apps: &BTreeMap<(AppSource, String), App>,
    folders: &BTreeMap<(AppSource, String), TemplateFolder>,
    sources: &SourceMap,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<(AppSource, String), TemplateSet> {
    let budget = Arc::new(FuelBudget::default());
    folders
        .iter()
        .filter_map(|(key, folder)| {
            let app = apps.get(key)?;
            let set = TemplateSet::compile(app, folder, &budget, sources, diagnostics);
            Some((key.clone(), set))
        })
        .collect()
}

/// Where a template's file goes, from its name in the folder: its scope and its path in the
/// container (`None` for `include/`).
fn place(app: &App, name: &str) -> Result<Option<(Scope, String)>, Diagnostic> {
    let Some(stem) = name.strip_suffix(".j2") else {
        return Err(diags::not_a_template(name));
    };
    let (top, rest) = stem.split_once('/').unwrap_or((stem, ""));
    let (scope, target) = match top {
        "include" => return Ok(None),
        "all" => (Scope::AllRoles, format!("/{rest}")),
        "roles" | "members" => {
            let (role, path) = rest.split_once('/').unwrap_or((rest, ""));
            if app.role(role).is_none() {
                return Err(diags::not_a_role(name, role, app));
            }
            let scope = if top == "roles" {
                Scope::Role(role.to_string())
            } else {
                Scope::Member(role.to_string())
            };
            (scope, format!("/{path}"))
        }
        _ => return Err(diags::misplaced_template(name)),
    };
    check_target(&target).map_err(|error| diags::bad_target(name, &error))?;
    Ok(Some((scope, target)))
}

/// Two templates may not write the same file of a role, nor one file inside another.
fn overlapping_targets(templates: &[Template], diagnostics: &mut Diagnostics) {
    for (i, a) in templates.iter().enumerate() {
        for b in templates.iter().take(i) {
            let overlap = a.scope == Scope::AllRoles
                || b.scope == Scope::AllRoles
                || scope_role(&a.scope) == scope_role(&b.scope);
            let nested = a.target == b.target
                || a.target.starts_with(&format!("{}/", b.target))
                || b.target.starts_with(&format!("{}/", a.target));
            if overlap && nested {
                diagnostics.push(diags::overlapping_targets(
                    &b.name,
                    &a.name,
                    &a.target,
                    start_of(a.file),
                ));
            }
        }
    }
}

impl TemplateSet {
    /// Places and compiles the templates of an app's folder, in the folder's order; a template
    /// that cannot be placed or compiled is an error and left out. Renderings charge `budget`.
    fn compile(
        app: &App,
        folder: &TemplateFolder,
        budget: &Arc<FuelBudget>,
        sources: &SourceMap,
        diagnostics: &mut Diagnostics,
    ) -> TemplateSet {
        let mut environment = environment();
        let mut templates = Vec::new();
        let mut files = BTreeMap::new();
        for TemplateFile { name, file } in &folder.files {
            let compiled = place(app, name)
                .map_err(|diagnostic| diagnostic.at(start_of(*file)))
                .and_then(|placed| {
                    let mode = compile_one(&mut environment, name, *file, sources)?;
                    Ok(placed.map(|(scope, target)| Template {
                        name: name.clone(),
                        scope,
                        target,
                        mode,
                        file: *file,
                    }))
                });
            match compiled {
                Ok(template) => {
                    files.insert(name.clone(), *file);
                    templates.extend(template);
                }
                Err(diagnostic) => diagnostics.push(diagnostic),
            }
        }
        overlapping_targets(&templates, diagnostics);
        TemplateSet {
            environment: Arc::new(environment),
            templates,
            files,
            budget: Arc::clone(budget),
        }
    }
}

/// The start of a template file, where problems with the file as a whole are shown.
fn start_of(file: FileId) -> Origin {
    Origin {
        file,
        span: Span::new(0, 0),
    }
}

/// Reads a template's mode directive, checks its nesting and compiles it into `environment`.
fn compile_one(
    environment: &mut Environment<'static>,
    name: &str,
    file: FileId,
    sources: &SourceMap,
) -> Result<Option<u32>, Diagnostic> {
    let source_text = sources.get(file).text.clone();
    let mode = directive_mode(&source_text).map_err(|error| diags::bad_directive(&error, file))?;
    nesting::check(&source_text, syntax())
        .map_err(|too_deep| diags::nested_too_deep(&too_deep, file))?;
    environment
        .add_template_owned(name.to_string(), source_text)
        .map_err(|error| template_diagnostic(&error.into(), file, sources))?;
    Ok(mode)
}

/// The syntax every template is read with: Jinja2's `trim_blocks` and `lstrip_blocks`.
fn syntax() -> SyntaxConfig {
    SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .unwrap_or_default()
}

/// The sandbox every template runs in: strict undefined variables, no auto-escaping, a fuel
/// budget, Jinja2's `trim_blocks` and `lstrip_blocks`, and no loader: templates come only from
/// the app's folder, registered in memory, so an include cannot reach any other file. The
/// enabled built-ins read no clock, randomness or environment. `namespace()` is replaced by an
/// error: a namespace is the one value a template can change, so it can be made to hold
/// itself, and printing, comparing or serialising it would then recurse until the stack
/// overflows.
fn environment() -> Environment<'static> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    environment.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    environment.set_fuel(Some(TEMPLATE_FUEL));
    environment.set_debug(true);
    environment.set_syntax(syntax());
    environment.set_formatter(format_value);
    environment.add_function(
        "namespace",
        |_: minijinja::value::Rest<minijinja::Value>,
         _: minijinja::value::Kwargs|
         -> Result<minijinja::Value, minijinja::Error> {
            Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "namespace() is not available in kdrender templates: a namespace can be made to contain itself, which would crash the renderer; use loop variables, filters (select, map, join, sum) or macros",
            ))
        },
    );
    environment
}

/// Prints a value into a template's output: strings and numbers as minijinja does, lists and
/// maps only as far as the remaining fuel pays for. minijinja charges what an expression
/// prints only after printing it, and a list that holds the same list many times over prints
/// to far more text than its making cost.
fn format_value(
    out: &mut minijinja::Output<'_>,
    state: &mut minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if value.as_object().is_none() {
        return minijinja::escape_formatter(out, state, value);
    }
    let fuel = state.fuel_levels().map_or(0, |(_, remaining)| remaining);
    let mut bounded = Bounded {
        out,
        left: usize::try_from(fuel.saturating_mul(BYTES_PER_FUEL)).unwrap_or(usize::MAX),
    };
    std::fmt::Write::write_fmt(&mut bounded, format_args!("{value}")).map_err(|_| {
        minijinja::Error::new(
            minijinja::ErrorKind::OutOfFuel,
            "printing this value takes more than the remaining fuel",
        )
    })
}

/// minijinja charges one fuel for this many bytes of data.
const BYTES_PER_FUEL: u64 = 64;

/// A writer that refuses to write more than `left` bytes.
struct Bounded<'a, 'o> {
    out: &'a mut minijinja::Output<'o>,
    left: usize,
}

impl std::fmt::Write for Bounded<'_, '_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.left = self.left.checked_sub(s.len()).ok_or(std::fmt::Error)?;
        self.out.write_str(s)
    }
}

/// Renders one template source in the same sandbox, with `variables` as its context (for
/// property tests and fuzzing).
pub fn render_source(source: &str, variables: &Value) -> Result<String, TemplateError> {
    nesting::check(source, syntax())?;
    let mut environment = environment();
    environment.add_template_owned("template.j2".to_string(), source.to_string())?;
    let variables = value(variables);
    let outcome = sandbox::run(move || {
        let text = environment
            .get_template("template.j2")
            .and_then(|template| template.render(variables))?;
        Ok((text, 0))
    });
    let (text, _) = outcome??;
    Ok(text)
}

/// Why [`render_source`] rendered nothing.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error(transparent)]
    TooDeep(#[from] nesting::TooDeep),
    /// The template does not compile.
    #[error(transparent)]
    Syntax(#[from] minijinja::Error),
    #[error(transparent)]
    Failed(#[from] sandbox::Failure),
    #[error(transparent)]
    Overrun(#[from] sandbox::Overrun),
}

fn scope_role(scope: &Scope) -> Option<&str> {
    match scope {
        Scope::AllRoles => None,
        Scope::Role(r) | Scope::Member(r) => Some(r),
    }
}

/// Why a template's path in the container is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("a template needs a file path below its role folder")]
    NoFile,
    #[error("{0} is not a clean absolute path")]
    NotClean(String),
    #[error("{0}: config file paths may hold only letters, digits, '-', '_', '.' and '/'")]
    Characters(String),
    #[error("{target} is inside {reserved}, which kdrender itself mounts")]
    Reserved {
        target: String,
        reserved: &'static str,
    },
}

fn check_target(target: &str) -> Result<(), TargetError> {
    if target.len() < 2 || target.ends_with('/') {
        return Err(TargetError::NoFile);
    }
    if target
        .split('/')
        .skip(1)
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(TargetError::NotClean(target.to_string()));
    }
    if !target
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return Err(TargetError::Characters(target.to_string()));
    }
    if let Some(reserved) = RESERVED_PATHS
        .iter()
        .find(|r| target == **r || target.starts_with(&format!("{r}/")))
    {
        return Err(TargetError::Reserved {
            target: target.to_string(),
            reserved,
        });
    }
    Ok(())
}

/// Why a template's `{# kdrender: … #}` directive is refused; `span` covers the directive.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DirectiveError {
    #[error("mode {value} is not an octal file mode such as 0755")]
    Mode { value: String, span: Span },
    #[error("unknown kdrender directive \"{setting}\" (known: mode=0NNN)")]
    Unknown { setting: String, span: Span },
}

impl DirectiveError {
    pub fn span(&self) -> Span {
        match self {
            DirectiveError::Mode { span, .. } | DirectiveError::Unknown { span, .. } => *span,
        }
    }
}

/// The optional first-line directive `{# kdrender: mode=0755 #}`.
fn directive_mode(source: &str) -> Result<Option<u32>, DirectiveError> {
    let Some(rest) = source.strip_prefix("{#") else {
        return Ok(None);
    };
    let Some((comment, _)) = rest.split_once("#}") else {
        return Ok(None);
    };
    let body = comment
        .trim()
        .trim_start_matches('-')
        .trim_end_matches('-')
        .trim();
    let Some(settings) = body.strip_prefix("kdrender:") else {
        return Ok(None);
    };
    let span = Span::new(0, comment.len().saturating_add(4));
    let mut mode = None;
    for setting in settings.split_whitespace() {
        match setting.split_once('=') {
            Some(("mode", value)) => {
                let parsed = u32::from_str_radix(value.trim_start_matches("0o"), 8)
                    .ok()
                    .filter(|m| *m <= 0o777);
                match parsed {
                    Some(m) => mode = Some(m),
                    None => {
                        return Err(DirectiveError::Mode {
                            value: value.to_string(),
                            span,
                        });
                    }
                }
            }
            _ => {
                return Err(DirectiveError::Unknown {
                    setting: setting.to_string(),
                    span,
                });
            }
        }
    }
    Ok(mode)
}

/// A minijinja error as a diagnostic at the template line it names.
fn template_diagnostic(
    failure: &sandbox::Failure,
    file: FileId,
    sources: &SourceMap,
) -> Diagnostic {
    let text = &sources.get(file).text;
    let span = match (&failure.range, failure.line) {
        (Some(range), _) => Span::new(range.start, range.end),
        (None, Some(line)) => {
            let start: usize = text
                .split_inclusive('\n')
                .take(line.saturating_sub(1))
                .map(str::len)
                .sum();
            let end = text
                .get(start..)
                .and_then(|rest| rest.find('\n'))
                .map_or(text.len(), |i| start.saturating_add(i));
            Span::new(start, end)
        }
        (None, None) => Span::new(0, 0),
    };
    diags::template_failed(failure, Origin { file, span })
}

/// The variables every template of a cluster sees, built once per cluster (the README lists
/// them). minijinja values are reference-counted, so each render shares them.
pub struct Context {
    cluster: minijinja::Value,
    app: minijinja::Value,
    roles: minijinja::Value,
    connections: minijinja::Value,
}

fn value(json: &Value) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(json))
}

impl Context {
    pub fn new(topology: &Topology<'_>, all: &[Topology<'_>]) -> Context {
        let mut connections = Map::new();
        for other in topology.connections.iter().filter_map(|&i| all.get(i)) {
            connections.insert(
                other.cluster.name.clone(),
                json!({
                    "name": other.cluster.name,
                    "app": other.app.name,
                    "domain": other.domain,
                    "roles": roles_value(other),
                }),
            );
        }
        Context {
            cluster: value(&json!({
                "name": topology.cluster.name,
                "namespace": topology.namespace,
                "domain": topology.domain,
                "service": topology.headless,
                "id": topology.cluster_id(),
            })),
            app: value(&json!({
                "name": topology.app.name,
                "label": topology.app.pretty_name,
                "distro_id": topology.app.distro_id,
                "version": topology.app.version,
                "config_meta": topology.app.config_meta,
            })),
            roles: value(&roles_value(topology)),
            connections: value(&Value::Object(connections)),
        }
    }
}

/// Why a ConfigMap key is refused (the message follows "… writes key K of ConfigMap C, which").
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is {0} characters long; Kubernetes allows at most {MAX_KEY_BYTES}")]
    TooLong(usize),
    #[error("may hold only letters, digits, '-', '_' and '.'")]
    Characters,
    #[error("may not be \".\" or begin with \"..\"")]
    Dots,
}

/// Kubernetes' rule for ConfigMap keys.
fn check_key(key: &str) -> Result<(), KeyError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLong(key.len()));
    }
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(KeyError::Characters);
    }
    if key == "." || key.starts_with("..") {
        return Err(KeyError::Dots);
    }
    Ok(())
}

/// A role's files ConfigMap as it fills: the template behind each key, so that two files under
/// one key are refused rather than one silently getting the other's content, and the size so
/// far, so that more than Kubernetes takes is refused as soon as it is reached, naming the
/// template that reached it.
struct ConfigMapData<'t> {
    name: String,
    keys: BTreeMap<String, &'t Template>,
    bytes: usize,
}

impl<'t> ConfigMapData<'t> {
    fn add(
        &mut self,
        key: String,
        text: &str,
        template: &'t Template,
        sources: &SourceMap,
    ) -> Result<(), Diagnostic> {
        let path = sources.path(template.file);
        let at = start_of(template.file);
        if let Err(error) = check_key(&key) {
            return Err(diags::bad_key(path, &key, &self.name, &error, at));
        }
        if let Some(other) = self.keys.get(&key) {
            let other = sources.path(other.file);
            return Err(diags::key_clash(other, path, &key, &self.name, at));
        }
        self.bytes = self
            .bytes
            .saturating_add(key.len())
            .saturating_add(text.len());
        if self.bytes > MAX_CONFIGMAP_BYTES {
            return Err(diags::files_too_big(&self.name, path, &key, text.len(), at));
        }
        self.keys.insert(key, template);
        Ok(())
    }

    fn is_full(&self) -> bool {
        self.bytes > MAX_CONFIGMAP_BYTES
    }
}

impl TemplateSet {
    /// Renders the files of one role, for its members.
    pub fn render(
        &self,
        context: &Context,
        role: &RoleTopology<'_>,
        sources: &SourceMap,
        diagnostics: &mut Diagnostics,
    ) -> Vec<ConfigFile> {
        let role_id = role.app_role.id.as_str();
        let applies = |t: &&Template| match &t.scope {
            Scope::AllRoles => true,
            Scope::Role(r) | Scope::Member(r) => r == role_id,
        };
        let templates: Vec<&Template> = self.templates.iter().filter(applies).collect();
        if templates.is_empty() {
            return Vec::new();
        }
        let role_value = context
            .roles
            .get_attr(role_id)
            .unwrap_or(minijinja::Value::UNDEFINED);
        let mut data = ConfigMapData {
            name: names::files_configmap(&role.name),
            keys: BTreeMap::new(),
            bytes: 0,
        };
        let mut out = Vec::new();
        for template in templates {
            let rendered = RoleRendering {
                set: self,
                context,
                role,
                role_value: &role_value,
                sources,
            }
            .file(template, &mut data);
            match rendered {
                Ok(file) => out.push(file),
                Err(diagnostic) => diagnostics.push(diagnostic),
            }
            // The role's ConfigMap is refused already: rendering more would only use memory.
            if data.is_full() {
                break;
            }
        }
        out.sort_by(|a, b| a.target.cmp(&b.target));
        out
    }

    fn render_one(
        &self,
        template: &Template,
        variables: minijinja::Value,
        sources: &SourceMap,
    ) -> Result<String, Diagnostic> {
        let at = start_of(template.file);
        if let Some(refusal) = self.budget.refusal() {
            return Err(diags::not_rendered(&refusal, at));
        }
        let environment = Arc::clone(&self.environment);
        let name = template.name.clone();
        let outcome = sandbox::run(move || {
            let captured = environment
                .get_template(&name)
                .and_then(|compiled| compiled.render_captured(variables))?;
            let consumed = captured
                .state()
                .fuel_levels()
                .map_or(0, |(consumed, _)| consumed);
            Ok((captured.into_output(), consumed))
        });
        let (text, consumed) = match outcome {
            Ok(Ok(rendered)) => rendered,
            Ok(Err(failure)) => {
                let file = failure
                    .template
                    .as_ref()
                    .and_then(|n| self.files.get(n))
                    .copied()
                    .unwrap_or(template.file);
                return Err(template_diagnostic(&failure, file, sources));
            }
            Err(overrun) => {
                self.budget.given_up.store(true, Ordering::Relaxed);
                return Err(diags::gave_up(&overrun, at));
            }
        };
        // Fuel bounds one rendering; the budget bounds all renderings of the run together,
        // which many apps, clusters and members multiply.
        if !self.budget.charge(consumed) {
            let refusal = self.budget.refusal().unwrap_or(Refusal::Spent);
            return Err(diags::not_rendered(&refusal, at));
        }
        Ok(text)
    }
}

/// One role's renderings: the variables its templates see.
struct RoleRendering<'a> {
    set: &'a TemplateSet,
    context: &'a Context,
    role: &'a RoleTopology<'a>,
    role_value: &'a minijinja::Value,
    sources: &'a SourceMap,
}

impl RoleRendering<'_> {
    fn variables(&self, member: Option<minijinja::Value>) -> minijinja::Value {
        let context = self.context;
        let mut map = BTreeMap::new();
        map.insert("cluster", context.cluster.clone());
        map.insert("app", context.app.clone());
        map.insert("roles", context.roles.clone());
        map.insert("role", self.role_value.clone());
        map.insert("connections", context.connections.clone());
        if let Some(member) = member {
            map.insert("member", member);
        }
        minijinja::Value::from(map)
    }

    /// Renders one template (once, or once per member) into the role's ConfigMap.
    fn file<'t>(
        &self,
        template: &'t Template,
        data: &mut ConfigMapData<'t>,
    ) -> Result<ConfigFile, Diagnostic> {
        let key = names::file_key(&template.target);
        let content = if let Scope::Member(_) = template.scope {
            let members = self.role_value.get_attr("members").unwrap_or_default();
            let mut texts = Vec::with_capacity(self.role.members.len());
            for (ordinal, pod) in self.role.members.iter().enumerate() {
                // The same member value that `roles.<role>.members` holds.
                let member = members.get_item_by_index(ordinal).unwrap_or_default();
                let text =
                    self.set
                        .render_one(template, self.variables(Some(member)), self.sources)?;
                data.add(
                    names::member_key(&pod.name, &key),
                    &text,
                    template,
                    self.sources,
                )?;
                texts.push(text);
            }
            Content::PerMember(texts)
        } else {
            let text = self
                .set
                .render_one(template, self.variables(None), self.sources)?;
            data.add(key.clone(), &text, template, self.sources)?;
            Content::Shared(text)
        };
        Ok(ConfigFile {
            target: template.target.clone(),
            key,
            mode: template.mode,
            content,
            template: self.sources.path(template.file).to_string(),
        })
    }
}

fn roles_value(topology: &Topology<'_>) -> Value {
    let mut roles = Map::new();
    for role in &topology.roles {
        let members: Vec<Value> = role
            .members
            .iter()
            .map(|m| {
                json!({
                    "name": m.name,
                    "hostname": m.name,
                    "fqdn": m.fqdn,
                    "ordinal": m.ordinal,
                    "node_id": m.node_id,
                })
            })
            .collect();
        let mut services = Map::new();
        for service_id in &role.app_role.services {
            let Some(service) = topology.app.service(service_id) else {
                continue;
            };
            let (port, scheme) = service
                .endpoint
                .as_ref()
                .map_or((Value::Null, String::new()), |e| {
                    (json!(e.port), e.url_scheme.clone())
                });
            let endpoints: Vec<String> = match &service.endpoint {
                Some(e) => role
                    .members
                    .iter()
                    .map(|m| {
                        if e.url_scheme.is_empty() {
                            format!("{}:{}", m.fqdn, e.port)
                        } else {
                            format!("{}://{}:{}", e.url_scheme, m.fqdn, e.port)
                        }
                    })
                    .collect(),
                None => Vec::new(),
            };
            services.insert(
                service.id.clone(),
                json!({ "id": service.id, "name": service.name, "port": port, "scheme": scheme, "endpoints": endpoints }),
            );
        }
        roles.insert(
            role.app_role.id.clone(),
            json!({
                "id": role.app_role.id,
                "name": role.name,
                "count": role.members.len(),
                "members": members,
                "fqdns": role.members.iter().map(|m| m.fqdn.clone()).collect::<Vec<_>>(),
                "services": services,
            }),
        );
    }
    Value::Object(roles)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn mode_directive_is_octal_and_strict() {
        assert_eq!(
            directive_mode("{# kdrender: mode=0755 #}\n#!/bin/sh\n"),
            Ok(Some(0o755))
        );
        assert_eq!(
            directive_mode("{#- kdrender: mode=0600 -#}x"),
            Ok(Some(0o600))
        );
        assert_eq!(directive_mode("{# just a comment #}"), Ok(None));
        assert!(directive_mode("{# kdrender: mode=0999 #}").is_err());
        assert!(directive_mode("{# kdrender: owner=root #}").is_err());
    }

    #[test]
    fn all_renderings_of_a_run_share_one_fuel_budget() {
        let mut sources = SourceMap::default();
        let file = sources.add(
            "files/roles/r/etc/x.j2".into(),
            "{% for i in range(100) %}{{ i }}{% endfor %}".into(),
        );
        let budget = Arc::new(FuelBudget::default());
        // Two apps' template sets, as two apps of one run have.
        let sets: Vec<TemplateSet> = (0..2)
            .map(|_| {
                let mut environment = environment();
                compile_one(&mut environment, "roles/r/etc/x.j2", file, &sources).unwrap();
                TemplateSet {
                    environment: Arc::new(environment),
                    templates: Vec::new(),
                    files: BTreeMap::new(),
                    budget: Arc::clone(&budget),
                }
            })
            .collect();
        let template = Template {
            name: "roles/r/etc/x.j2".into(),
            scope: Scope::Role("r".into()),
            target: "/etc/x".into(),
            mode: None,
            file,
        };
        let render =
            |set: &TemplateSet| set.render_one(&template, minijinja::Value::from(()), &sources);
        assert!(render(&sets[0]).is_ok());
        let one = budget.spent.load(Ordering::Relaxed);
        assert!(one > 100, "{one}");
        // Near the end of the budget, the next rendering is refused, whichever app it is of.
        budget
            .spent
            .store(TOTAL_TEMPLATE_FUEL - one / 2, Ordering::Relaxed);
        let error = render(&sets[1]).unwrap_err();
        assert!(
            error
                .message
                .contains("templates ran more than 200000000 steps in all"),
            "{}",
            error.message
        );
        // And once it is spent, nothing more runs.
        assert!(render(&sets[0]).is_err());
    }

    #[test]
    fn refusals_and_overruns_say_what_happened() {
        for (message, expected) in [
            (
                Refusal::GivenUp.to_string(),
                "not rendered: kdrender gave up on another template of this run",
            ),
            (
                sandbox::Overrun::Memory.to_string(),
                "template error: rendering grew kdrender's memory by more than 512 MiB; kdrender gave up on it",
            ),
            (
                sandbox::Overrun::Time.to_string(),
                "template error: rendering did not finish within 5 s; kdrender gave up on it",
            ),
        ] {
            assert_eq!(message, expected);
        }
        let nested = format!("{{{{ {}x }}}}", "not ".repeat(nesting::MAX_NESTING + 1));
        let error = render_source(&nested, &json!({})).unwrap_err();
        assert!(matches!(error, TemplateError::TooDeep(_)), "{error}");
        assert!(
            error
                .to_string()
                .contains("nested more than 300 levels deep")
        );
        let undefined = render_source("{{ x.y }}", &json!({})).unwrap_err();
        assert_eq!(undefined.to_string(), "template error: `x` is undefined");
    }

    #[test]
    fn configmap_keys_follow_kubernetes_rules() {
        assert!(check_key("etc_kafka_server.properties").is_ok());
        assert!(check_key("demo-worker-0.etc_x").is_ok());
        assert!(check_key(&"k".repeat(253)).is_ok());
        assert!(
            check_key(&"k".repeat(254))
                .unwrap_err()
                .to_string()
                .contains("254 characters")
        );
        for bad in ["", ".", "..", "..x", "a/b", "a b", "ä"] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn targets_must_be_clean_paths_outside_reserved_mounts() {
        assert!(check_target("/etc/kafka/server.properties").is_ok());
        assert!(check_target("/etc/guestconfig/x").is_err());
        assert!(check_target("/etc/../x").is_err());
        assert!(check_target("/etc/a b").is_err());
        assert!(check_target("/").is_err());
    }
}
