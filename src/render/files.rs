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

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use minijinja::{Environment, UndefinedBehavior, syntax::SyntaxConfig};
use serde_json::{Map, Value, json};

use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::load::Reader;
use crate::model::App;
use crate::resolve::{RoleTopology, Topology};
use crate::source::{FileId, Origin, SourceMap, Span};

/// Template execution budget per rendering (minijinja fuel: roughly one unit per instruction).
pub const TEMPLATE_FUEL: u64 = 20_000_000;
/// Budget for all renderings of one app's templates in one run (about a second or two).
pub const TOTAL_TEMPLATE_FUEL: u64 = 200_000_000;
/// Mount points the renderer owns, where config files may not go.
const RESERVED_PATHS: [&str; 2] = ["/etc/guestconfig", "/etc/kdrender"];

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
    environment: Environment<'static>,
    templates: Vec<Template>,
    files: BTreeMap<String, FileId>,
    /// Fuel spent by all renderings so far (clusters render in parallel).
    spent: AtomicU64,
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

/// Loads and compiles the template folder of an app.
pub fn load(
    app: &App,
    reader: &mut Reader,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Option<TemplateSet> {
    let (relative, origin) = app.config_files.as_ref()?;
    let folder = match reader.confine(&app.folder, relative) {
        Ok(folder) if folder.is_dir() => folder,
        Ok(_) => {
            diagnostics.push(
                Diagnostic::error(format!("config-file folder {relative} is not a folder"))
                    .at(*origin),
            );
            return None;
        }
        Err(message) => {
            diagnostics.push(Diagnostic::error(message).at(*origin));
            return None;
        }
    };
    let mut set = TemplateSet {
        environment: environment(),
        templates: Vec::new(),
        files: BTreeMap::new(),
        spent: AtomicU64::new(0),
    };
    let role_ids: Vec<&str> = app.roles.iter().map(|r| r.id.as_str()).collect();
    for path in reader.walk(&folder, diagnostics) {
        let name = crate::load::relative_path(&folder, &path);
        let text = match reader.read(&path) {
            Ok(text) => text,
            Err(message) => {
                diagnostics.push(Diagnostic::error(message).at(*origin));
                continue;
            }
        };
        let file = sources.add(reader.display_path(&path), text);
        let whole = Origin {
            file,
            span: Span::new(0, 0),
        };
        let Some(stem) = name.strip_suffix(".j2") else {
            diagnostics.push(
                Diagnostic::error(format!(
                    "{name} in the config-file folder is not a template: template names end in .j2"
                ))
                .at(whole),
            );
            continue;
        };
        let mut parts = stem.splitn(2, '/');
        let top = parts.next().unwrap_or_default();
        let rest = parts.next().unwrap_or_default();
        let (scope, target) = match top {
            "include" => (None, String::new()),
            "all" => (Some(Scope::AllRoles), format!("/{rest}")),
            "roles" | "members" => {
                let (role, path) = rest.split_once('/').unwrap_or((rest, ""));
                if !role_ids.contains(&role) {
                    let mut diagnostic = Diagnostic::error(format!(
                        "{name}: \"{role}\" is not a role of app \"{}\"",
                        app.name
                    ))
                    .at(whole);
                    if let Some(help) = did_you_mean(role, role_ids.iter().copied()) {
                        diagnostic = diagnostic.help(help);
                    }
                    diagnostics.push(diagnostic);
                    continue;
                }
                let scope = if top == "roles" {
                    Scope::Role(role.to_string())
                } else {
                    Scope::Member(role.to_string())
                };
                (Some(scope), format!("/{path}"))
            }
            _ => {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "{name}: templates go under all/, roles/<role>/, members/<role>/ or include/"
                    ))
                    .at(whole),
                );
                continue;
            }
        };
        if scope.is_some()
            && let Err(message) = check_target(&target)
        {
            diagnostics.push(Diagnostic::error(format!("{name}: {message}")).at(whole));
            continue;
        }
        let source_text = sources.get(file).text.clone();
        let mode = match directive_mode(&source_text) {
            Ok(mode) => mode,
            Err((message, span)) => {
                diagnostics.push(Diagnostic::error(message).at(Origin { file, span }));
                continue;
            }
        };
        if let Err(error) = set
            .environment
            .add_template_owned(name.clone(), source_text)
        {
            diagnostics.push(template_diagnostic(&error, file, sources));
            continue;
        }
        set.files.insert(name.clone(), file);
        if let Some(scope) = scope {
            set.templates.push(Template {
                name,
                scope,
                target,
                mode,
                file,
            });
        }
    }
    // Two templates may not write the same file of a role.
    for (i, a) in set.templates.iter().enumerate() {
        for b in &set.templates[..i] {
            let overlap = a.scope == Scope::AllRoles
                || b.scope == Scope::AllRoles
                || scope_role(&a.scope) == scope_role(&b.scope);
            let nested = a.target == b.target
                || a.target.starts_with(&format!("{}/", b.target))
                || b.target.starts_with(&format!("{}/", a.target));
            if overlap && nested {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "{} and {} both place {} in the same role",
                        b.name, a.name, a.target
                    ))
                    .at(Origin {
                        file: a.file,
                        span: Span::new(0, 0),
                    }),
                );
            }
        }
    }
    Some(set)
}

/// The sandbox every template runs in: strict undefined variables, no auto-escaping, a fuel
/// budget, Jinja2's `trim_blocks` and `lstrip_blocks`, and no loader: templates come only from
/// the app's folder, registered in memory, so an include cannot reach any other file. The
/// enabled built-ins read no clock, randomness or environment.
fn environment() -> Environment<'static> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    environment.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    environment.set_fuel(Some(TEMPLATE_FUEL));
    environment.set_debug(true);
    if let Ok(syntax) = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        environment.set_syntax(syntax);
    }
    environment
}

/// Renders one template source in the same sandbox, with `variables` as its context (for
/// property tests and fuzzing).
pub fn render_source(source: &str, variables: &Value) -> Result<String, String> {
    let mut environment = environment();
    environment
        .add_template_owned("template.j2".to_string(), source.to_string())
        .map_err(|e| e.to_string())?;
    let template = environment
        .get_template("template.j2")
        .map_err(|e| e.to_string())?;
    template.render(value(variables)).map_err(|e| e.to_string())
}

fn scope_role(scope: &Scope) -> Option<&str> {
    match scope {
        Scope::AllRoles => None,
        Scope::Role(r) | Scope::Member(r) => Some(r),
    }
}

fn check_target(target: &str) -> Result<(), String> {
    if target.len() < 2 || target.ends_with('/') {
        return Err("a template needs a file path below its role folder".to_string());
    }
    if target
        .split('/')
        .skip(1)
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(format!("{target} is not a clean absolute path"));
    }
    if !target
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return Err(format!(
            "{target}: config file paths may hold only letters, digits, '-', '_', '.' and '/'"
        ));
    }
    if let Some(reserved) = RESERVED_PATHS
        .iter()
        .find(|r| target == **r || target.starts_with(&format!("{r}/")))
    {
        return Err(format!(
            "{target} is inside {reserved}, which kdrender itself mounts"
        ));
    }
    Ok(())
}

/// The optional first-line directive `{# kdrender: mode=0755 #}`.
fn directive_mode(source: &str) -> Result<Option<u32>, (String, Span)> {
    let Some(rest) = source.strip_prefix("{#") else {
        return Ok(None);
    };
    let Some(end) = rest.find("#}") else {
        return Ok(None);
    };
    let body = rest[..end]
        .trim()
        .trim_start_matches('-')
        .trim_end_matches('-')
        .trim();
    let Some(settings) = body.strip_prefix("kdrender:") else {
        return Ok(None);
    };
    let span = Span::new(0, end + 4);
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
                        return Err((
                            format!("mode {value} is not an octal file mode such as 0755"),
                            span,
                        ));
                    }
                }
            }
            _ => {
                return Err((
                    format!("unknown kdrender directive \"{setting}\" (known: mode=0NNN)"),
                    span,
                ));
            }
        }
    }
    Ok(mode)
}

/// A minijinja error as a diagnostic at the template line it names.
fn template_diagnostic(
    error: &minijinja::Error,
    fallback: FileId,
    sources: &SourceMap,
) -> Diagnostic {
    let message = match error.detail() {
        Some(detail) => format!("template error: {detail}"),
        None => format!("template error: {}", error.kind()),
    };
    let file = fallback;
    let text = &sources.get(file).text;
    let span = match (error.range(), error.line()) {
        (Some(range), _) => Span::new(range.start, range.end),
        (None, Some(line)) => {
            let start: usize = text
                .split_inclusive('\n')
                .take(line.saturating_sub(1))
                .map(str::len)
                .sum();
            let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            Span::new(start, end)
        }
        (None, None) => Span::new(0, 0),
    };
    Diagnostic::error(message).at(Origin { file, span })
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
        for &i in &topology.connections {
            let other = &all[i];
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
        let variables = |member: Option<minijinja::Value>| {
            let mut map = std::collections::BTreeMap::new();
            map.insert("cluster", context.cluster.clone());
            map.insert("app", context.app.clone());
            map.insert("roles", context.roles.clone());
            map.insert("role", role_value.clone());
            map.insert("connections", context.connections.clone());
            if let Some(member) = member {
                map.insert("member", member);
            }
            minijinja::Value::from(map)
        };
        let mut out = Vec::new();
        for template in templates {
            let key = template.target.trim_start_matches('/').replace('/', "_");
            let content = if let Scope::Member(_) = template.scope {
                let mut texts = Vec::with_capacity(role.members.len());
                let members = role_value.get_attr("members").unwrap_or_default();
                for ordinal in 0..role.members.len() {
                    // The same member value that `roles.<role>.members` holds.
                    let member = members.get_item_by_index(ordinal).unwrap_or_default();
                    match self.render_one(template, variables(Some(member)), sources) {
                        Ok(text) => texts.push(text),
                        Err(diagnostic) => {
                            diagnostics.push(diagnostic);
                            break;
                        }
                    }
                }
                if texts.len() != role.members.len() {
                    continue;
                }
                Content::PerMember(texts)
            } else {
                match self.render_one(template, variables(None), sources) {
                    Ok(text) => Content::Shared(text),
                    Err(diagnostic) => {
                        diagnostics.push(diagnostic);
                        continue;
                    }
                }
            };
            out.push(ConfigFile {
                target: template.target.clone(),
                key,
                mode: template.mode,
                content,
                template: sources.path(template.file).to_string(),
            });
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
        let compiled = self
            .environment
            .get_template(&template.name)
            .map_err(|e| template_diagnostic(&e, template.file, sources))?;
        let captured = compiled.render_captured(variables).map_err(|e| {
            let file = e
                .name()
                .and_then(|n| self.files.get(n))
                .copied()
                .unwrap_or(template.file);
            template_diagnostic(&e, file, sources)
        })?;
        // Fuel bounds one rendering; this bounds all of an app's renderings together, which a
        // large cluster multiplies.
        let consumed = captured
            .state()
            .fuel_levels()
            .map_or(0, |(consumed, _)| consumed);
        let total = self.spent.fetch_add(consumed, Ordering::Relaxed) + consumed;
        if total > TOTAL_TEMPLATE_FUEL {
            return Err(Diagnostic::error(format!(
                "the app's templates ran more than {TOTAL_TEMPLATE_FUEL} steps in all (reached while rendering this one)"
            ))
            .at(Origin {
                file: template.file,
                span: Span::new(0, 0),
            }));
        }
        Ok(captured.into_output())
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
    fn all_renderings_of_an_app_share_one_fuel_budget() {
        let mut sources = SourceMap::default();
        let file = sources.add(
            "files/roles/r/etc/x.j2".into(),
            "{% for i in range(100) %}{{ i }}{% endfor %}".into(),
        );
        let mut environment = environment();
        environment
            .add_template_owned(
                "roles/r/etc/x.j2".to_string(),
                sources.get(file).text.clone(),
            )
            .unwrap();
        let set = TemplateSet {
            environment,
            templates: Vec::new(),
            files: BTreeMap::new(),
            spent: AtomicU64::new(0),
        };
        let template = Template {
            name: "roles/r/etc/x.j2".into(),
            scope: Scope::Role("r".into()),
            target: "/etc/x".into(),
            mode: None,
            file,
        };
        assert!(
            set.render_one(&template, minijinja::Value::from(()), &sources)
                .is_ok()
        );
        let one = set.spent.load(Ordering::Relaxed);
        assert!(one > 100, "{one}");
        // Near the end of the budget, the next rendering is refused.
        set.spent
            .store(TOTAL_TEMPLATE_FUEL - one / 2, Ordering::Relaxed);
        let error = set
            .render_one(&template, minijinja::Value::from(()), &sources)
            .unwrap_err();
        assert!(
            error
                .message
                .contains("ran more than 200000000 steps in all"),
            "{}",
            error.message
        );
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
