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
//! file's mode. docs/config-files.md lists the variables a template sees.
//!
//! Bounds: minijinja's fuel charges every instruction and every 64 bytes of data a template
//! creates, and checks sizes before it allocates, so [`TEMPLATE_FUEL`] bounds both the time and
//! the memory of one rendering, and [`FuelBudget`] the time of a whole run. The deepest value a
//! rendering can build is bounded by its fuel too, which sizes the stack of the threads that
//! render ([`crate::parallel`]). Expressions nested deeper than the compiler's stack allows
//! are refused before minijinja parses them ([`super::nesting`]). Each role's files ConfigMap
//! is checked as it fills: valid keys, one file per key, at most 1 MiB.
//!
//! The folder is read by [`crate::load::templates`]; here each template is placed
//! ([`placement`]), compiled into the app's environment ([`environment`]) and rendered per role
//! with the cluster's variables ([`context`]) into the role's ConfigMap ([`configmap`]).
#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

mod configmap;
mod context;
mod environment;
mod placement;

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Environment;
use serde_json::Value;

use super::{diags, names, nesting, sandbox};
use crate::diag::{Diagnostic, Diagnostics};
use crate::load::templates::{TemplateFile, TemplateFolder};
use crate::model::{App, AppSource};
use crate::resolve::RoleTopology;
use crate::source::{FileId, Origin, SourceMap, Span};
use configmap::ConfigMapData;
use environment::{environment, syntax};
use placement::{directive_mode, overlapping_targets, place};

pub use configmap::{KeyError, MAX_KEY_BYTES};
pub use context::Context;
pub use environment::{FuelBudget, Refusal, TEMPLATE_FUEL, TOTAL_TEMPLATE_FUEL};
pub use placement::{DirectiveError, Scope, TargetError};

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
pub(super) fn start_of(file: FileId) -> Origin {
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

/// Renders one template source in the same sandbox, with `variables` as its context (for
/// property tests and fuzzing).
pub fn render_source(source: &str, variables: &Value) -> Result<String, TemplateError> {
    nesting::check(source, syntax())?;
    let mut environment = environment();
    environment.add_template_owned("template.j2".to_string(), source.to_string())?;
    let variables = context::value(variables);
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

impl TemplateSet {
    /// The templates of the app that apply to `role`, in order.
    fn applying_to(&self, role: &RoleTopology<'_>) -> Vec<&Template> {
        let role_id = role.app_role.id.as_str();
        let applies = |t: &&Template| match &t.scope {
            Scope::AllRoles => true,
            Scope::Role(r) | Scope::Member(r) => r == role_id,
        };
        self.templates.iter().filter(applies).collect()
    }

    /// Plans every rendering the files of `roles` ask for (in that order: per role, per
    /// template, once or once per member) and runs them on the worker in one hand-off: each
    /// hand-off wakes the worker and then the waiting thread, two context switches, and a
    /// hand-off per role was about a tenth of a large render.
    ///
    /// The files take their outcomes in order, and may stop early (an error in one member, a
    /// full ConfigMap); the worker cannot know that, so it stops on its own once what it kept
    /// for a role would fill that role's ConfigMap, or the run's budget. Whatever it did not
    /// render is rendered when asked for, so the files and messages are those of one rendering
    /// at a time.
    pub fn run_cluster(
        &self,
        context: &Context,
        roles: &[&RoleTopology<'_>],
        sources: &SourceMap,
    ) -> Renderings {
        let mut planned = BTreeMap::new();
        let mut jobs = Vec::new();
        // Where each role's jobs end in `jobs`.
        let mut ends = Vec::new();
        for role in roles {
            let templates = self.applying_to(role);
            if templates.is_empty() {
                continue;
            }
            let rendering = RoleRendering::new(self, context, role, sources);
            let batch = rendering.plan(&templates);
            jobs.extend(rendering.jobs(&templates, &batch));
            ends.push(jobs.len());
            planned.insert(role.app_role.id.clone(), batch);
        }
        if jobs.is_empty() {
            return Renderings { roles: planned };
        }
        let budget = Arc::clone(&self.budget);
        // The fuel of the outcomes counted so far, and the text of those of the last one's
        // role; each call counts only the new ones.
        let (mut counted, mut fuel, mut bytes, mut role) = (0, 0u64, 0usize, 0usize);
        let go_on = move |done: &[sandbox::Outcome]| {
            for (index, outcome) in done.iter().enumerate().skip(counted) {
                while ends.get(role).is_some_and(|&end| index >= end) {
                    role = role.saturating_add(1);
                    bytes = 0;
                }
                if let Ok((text, consumed)) = outcome {
                    fuel = fuel.saturating_add(*consumed);
                    bytes = bytes.saturating_add(text.len());
                }
            }
            counted = done.len();
            budget.refusal().is_none()
                && budget.would_allow(fuel)
                && bytes <= crate::render::MAX_CONFIGMAP_BYTES
        };
        let mut outcomes = sandbox::run_each(jobs, go_on).into_iter();
        // Roles in the order their jobs were made (a map iterates by id).
        for role in roles {
            let Some(batch) = planned.get_mut(&role.app_role.id) else {
                continue;
            };
            for planned in batch.per_template.iter_mut().flatten() {
                planned.outcome = outcomes.next();
            }
        }
        Renderings { roles: planned }
    }

    /// Renders the files of one role, for its members, from the outcomes `renderings` holds
    /// for it ([`TemplateSet::run_cluster`]).
    pub fn render(
        &self,
        context: &Context,
        role: &RoleTopology<'_>,
        renderings: &mut Renderings,
        sources: &SourceMap,
        diagnostics: &mut Diagnostics,
    ) -> Vec<ConfigFile> {
        let templates = self.applying_to(role);
        if templates.is_empty() {
            return Vec::new();
        }
        let rendering = RoleRendering::new(self, context, role, sources);
        let mut batch = match renderings.roles.remove(&role.app_role.id) {
            Some(batch) => batch,
            None => rendering.plan(&templates),
        };
        let mut data = ConfigMapData::new(names::files_configmap(&role.name));
        let mut out = Vec::new();
        for (position, template) in templates.into_iter().enumerate() {
            match rendering.file(template, batch.of_template(position), &mut data) {
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

    /// The job that renders `template` with `variables` on the worker.
    fn job(&self, template: &Template, variables: minijinja::Value) -> sandbox::Job {
        let environment = Arc::clone(&self.environment);
        let name = template.name.clone();
        Box::new(move || {
            let captured = environment
                .get_template(&name)
                .and_then(|compiled| compiled.render_captured(variables))?;
            let consumed = captured
                .state()
                .fuel_levels()
                .map_or(0, |(consumed, _)| consumed);
            Ok((captured.into_output(), consumed))
        })
    }

    /// One rendering of `template`: its outcome from the role's batch, or, where the batch
    /// stopped before it, rendered now. It is refused if the run may render no more, and
    /// charged to the run's budget.
    fn render_one(
        &self,
        template: &Template,
        planned: &mut Planned,
        sources: &SourceMap,
    ) -> Result<String, Diagnostic> {
        let at = start_of(template.file);
        if let Some(refusal) = self.budget.refusal() {
            return Err(diags::not_rendered(&refusal, at));
        }
        let outcome = match planned.outcome.take() {
            Some(outcome) => outcome,
            None => sandbox::run(self.job(template, planned.variables.clone())),
        };
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
                self.budget.give_up();
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

/// One rendering a role's files ask for: the variables it sees and, once the batch has run,
/// its outcome (none where the batch stopped before it).
struct Planned {
    variables: minijinja::Value,
    outcome: Option<Result<sandbox::Outcome, sandbox::Overrun>>,
}

/// One cluster's renderings, planned and run at once ([`TemplateSet::run_cluster`]), by role
/// id.
pub struct Renderings {
    roles: BTreeMap<String, Batch>,
}

/// A role's renderings, in the order its files ask for them: per template, once or once per
/// member.
struct Batch {
    per_template: Vec<Vec<Planned>>,
}

impl Batch {
    fn of_template(&mut self, position: usize) -> &mut [Planned] {
        self.per_template
            .get_mut(position)
            .map_or(&mut [], Vec::as_mut_slice)
    }
}

/// One role's renderings: the variables its templates see.
struct RoleRendering<'a> {
    set: &'a TemplateSet,
    context: &'a Context,
    role: &'a RoleTopology<'a>,
    /// What its templates see as `role`.
    role_value: minijinja::Value,
    sources: &'a SourceMap,
}

impl<'a> RoleRendering<'a> {
    fn new(
        set: &'a TemplateSet,
        context: &'a Context,
        role: &'a RoleTopology<'a>,
        sources: &'a SourceMap,
    ) -> RoleRendering<'a> {
        let role_value = context
            .roles
            .get_attr(role.app_role.id.as_str())
            .unwrap_or(minijinja::Value::UNDEFINED);
        RoleRendering {
            set,
            context,
            role,
            role_value,
            sources,
        }
    }

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

    /// Plans every rendering of the role's `templates`; none has run yet.
    fn plan(&self, templates: &[&Template]) -> Batch {
        let per_template = templates
            .iter()
            .map(|template| {
                let variables: Vec<minijinja::Value> = if let Scope::Member(_) = template.scope {
                    let members = self.role_value.get_attr("members").unwrap_or_default();
                    (0..self.role.members.len())
                        // The same member value that `roles.<role>.members` holds.
                        .map(|ordinal| members.get_item_by_index(ordinal).unwrap_or_default())
                        .map(|member| self.variables(Some(member)))
                        .collect()
                } else {
                    vec![self.variables(None)]
                };
                variables
                    .into_iter()
                    .map(|variables| Planned {
                        variables,
                        outcome: None,
                    })
                    .collect()
            })
            .collect();
        Batch { per_template }
    }

    /// The jobs that render what `batch` plans for `templates`, in order.
    fn jobs(&self, templates: &[&Template], batch: &Batch) -> Vec<sandbox::Job> {
        templates
            .iter()
            .zip(&batch.per_template)
            .flat_map(|(template, planned)| {
                planned
                    .iter()
                    .map(|p| self.set.job(template, p.variables.clone()))
            })
            .collect()
    }

    /// Renders one template (once, or once per member) into the role's ConfigMap, taking the
    /// outcomes of its `planned` renderings.
    fn file<'t>(
        &self,
        template: &'t Template,
        planned: &mut [Planned],
        data: &mut ConfigMapData<'t>,
    ) -> Result<ConfigFile, Diagnostic> {
        let key = names::file_key(&template.target);
        let content = if let Scope::Member(_) = template.scope {
            let mut texts = Vec::with_capacity(self.role.members.len());
            for (pod, planned) in self.role.members.iter().zip(planned) {
                let text = self.set.render_one(template, planned, self.sources)?;
                data.add(
                    names::member_key(pod.name(), &key),
                    &text,
                    template,
                    self.sources,
                )?;
                texts.push(text);
            }
            Content::PerMember(texts)
        } else {
            let mut unplanned = None;
            let planned = match planned.first_mut() {
                Some(planned) => planned,
                None => unplanned.insert(Planned {
                    variables: self.variables(None),
                    outcome: None,
                }),
            };
            let text = self.set.render_one(template, planned, self.sources)?;
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

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::render::value::value;
    use std::sync::atomic::Ordering;

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
        let error = render_source(&nested, &value!({})).unwrap_err();
        assert!(matches!(error, TemplateError::TooDeep(_)), "{error}");
        assert!(
            error
                .to_string()
                .contains("nested more than 300 levels deep")
        );
        let undefined = render_source("{{ x.y }}", &value!({})).unwrap_err();
        assert_eq!(undefined.to_string(), "template error: `x` is undefined");
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
        let render = |set: &TemplateSet| {
            let mut planned = Planned {
                variables: minijinja::Value::from(()),
                outcome: None,
            };
            set.render_one(&template, &mut planned, &sources)
        };
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
}
