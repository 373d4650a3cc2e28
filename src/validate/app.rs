//! KubeDirectorApp rules and defaulting (KubeDirector's app webhook, done offline).
//!
//! Rules, in the order KubeDirector's validator applies them: unique role and service ids (also
//! after munging into object names), unique `selectedRoles` and `roleServices` entries,
//! references to existing roles and services, dashboards with a `urlScheme`, an image for every
//! role, `tty` only with `stdin`, well-formed minimums, cardinalities within the member cap.
//! Defaulting: `defaultImageRepoTag`, `defaultConfigPackage`, `defaultPersistDirs` and
//! `defaultEventList` are pushed into the roles that do not set their own.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::Diagnostics;
use crate::document::pointer_escape;
use crate::load::Document;
use crate::model::{
    App, AppRole, AppSource, Cardinality, ConfigPackage, ContainerExtension, Endpoint, Events,
    Service,
};
use crate::names::{self, munge};
use crate::quantity::Quantity;
use crate::raw;

use super::cluster::MAX_MEMBERS;
use super::{check_unique, diags};

pub fn validate(
    raw: raw::App,
    document: &Document,
    source: AppSource,
    diagnostics: &mut Diagnostics,
) -> Option<App> {
    let errors_before = diagnostics.error_count();
    let spec = raw.spec;
    check_unique_ids(document, &spec, diagnostics);
    let role_ids: Vec<&str> = spec.roles.iter().map(|r| r.id.as_str()).collect();
    let service_ids: Vec<&str> = spec.services.iter().map(|s| s.id.as_str()).collect();
    check_selected_roles(
        document,
        &spec.config.selected_roles,
        &role_ids,
        diagnostics,
    );
    check_role_services(document, &spec.config, &role_ids, &service_ids, diagnostics);
    let services = spec
        .services
        .iter()
        .enumerate()
        .map(|(i, service)| self::service(document, i, service, diagnostics))
        .collect();
    check_extension_roles(document, &spec.kdrender.roles, &role_ids, diagnostics);
    let roles = roles(document, &spec, &service_ids, diagnostics);
    if diagnostics.error_count() > errors_before {
        return None;
    }
    let app = App {
        name: raw.metadata.name,
        source,
        origin: document.origin("/metadata/name"),
        folder: document.folder.clone(),
        config_files: spec
            .kdrender
            .config_files
            .map(|folder| (folder, document.origin("/spec/kdrender/configFiles"))),
        pretty_name: spec.label.name,
        description: spec.label.description,
        distro_id: spec.distro_id,
        version: spec.version,
        config_schema_version: spec.config_schema_version,
        services,
        roles,
        selected_roles: spec.config.selected_roles,
        config_meta: spec.config.config_meta,
        capabilities: spec.capabilities,
        systemd_required: spec.systemd_required,
    };
    warn_unlabelled_version(document, &app, diagnostics);
    Some(app)
}

/// A version that is not a label value labels nothing (the test `App::version_label` makes);
/// the report says so.
fn warn_unlabelled_version(document: &Document, app: &App, diagnostics: &mut Diagnostics) {
    if let Err(problem) = names::check_label_value(&app.version) {
        let at = document.origin("/spec/version");
        diagnostics.push(diags::version_not_a_label(&problem, at));
    }
}

/// Role ids, service ids, selected roles and `roleServices` entries are each unique, and no two
/// role ids give the same object name.
fn check_unique_ids(document: &Document, spec: &raw::AppSpec, diagnostics: &mut Diagnostics) {
    let roles = spec.roles.iter().enumerate();
    let role_ids = roles.map(|(i, r)| (format!("/spec/roles/{i}/id"), r.id.as_str()));
    check_unique(document, "role id", role_ids, diagnostics);
    check_object_names(document, &spec.roles, diagnostics);
    let services = spec.services.iter().enumerate();
    let service_ids = services.map(|(i, s)| (format!("/spec/services/{i}/id"), s.id.as_str()));
    check_unique(document, "service id", service_ids, diagnostics);
    let selected = spec.config.selected_roles.iter().enumerate();
    let selected = selected.map(|(i, r)| (format!("/spec/config/selectedRoles/{i}"), r.as_str()));
    check_unique(document, "selected role", selected, diagnostics);
    let entries = spec.config.role_services.iter().enumerate();
    let entries = entries.map(|(i, r)| {
        let pointer = format!("/spec/config/roleServices/{i}/roleID");
        (pointer, r.role_id.as_str())
    });
    check_unique(
        document,
        "roleServices entry for role",
        entries,
        diagnostics,
    );
}

/// Object names are munged role ids: two different ids that munge alike would name the same
/// StatefulSet. Each such id points at the first different id it collides with.
fn check_object_names(document: &Document, roles: &[raw::AppRole], diagnostics: &mut Diagnostics) {
    // Per object name: the first id that gives it, and the first other id that does.
    let mut seen: BTreeMap<String, (&str, Option<&str>)> = BTreeMap::new();
    for (i, role) in roles.iter().enumerate() {
        let name = munge(&role.id);
        let (first, other) = seen.entry(name.clone()).or_insert((&role.id, None));
        let earlier = if *first == role.id {
            *other
        } else {
            Some(*first)
        };
        if let Some(earlier) = earlier {
            let at = document.origin(&format!("/spec/roles/{i}/id"));
            diagnostics.push(diags::same_object_name(earlier, &role.id, &name, at));
        }
        if *first != role.id && other.is_none() {
            *other = Some(&role.id);
        }
    }
}

/// Every selected role is a role of the app.
fn check_selected_roles(
    document: &Document,
    selected: &[String],
    role_ids: &[&str],
    diagnostics: &mut Diagnostics,
) {
    for (i, id) in selected.iter().enumerate() {
        if !role_ids.contains(&id.as_str()) {
            let at = document.origin(&format!("/spec/config/selectedRoles/{i}"));
            diagnostics.push(diags::undefined("selected role", id, role_ids, at));
        }
    }
}

/// Every `roleServices` entry names a role of the app and services of the app, each once.
fn check_role_services(
    document: &Document,
    config: &raw::AppConfig,
    role_ids: &[&str],
    service_ids: &[&str],
    diagnostics: &mut Diagnostics,
) {
    for (i, entry) in config.role_services.iter().enumerate() {
        let base = format!("/spec/config/roleServices/{i}");
        if !role_ids.contains(&entry.role_id.as_str()) {
            let at = document.origin(&format!("{base}/roleID"));
            diagnostics.push(diags::undefined("role", &entry.role_id, role_ids, at));
        }
        let services = entry.service_ids.iter().enumerate();
        let services: Vec<(String, &str)> = services
            .map(|(j, s)| (format!("{base}/serviceIDs/{j}"), s.as_str()))
            .collect();
        for (pointer, service) in &services {
            if !service_ids.contains(service) {
                let at = document.origin(pointer);
                diagnostics.push(diags::undefined("service", service, service_ids, at));
            }
        }
        check_unique(document, "service", services, diagnostics);
    }
}

/// Every role `spec.kdrender.roles` extends is a role of the app.
fn check_extension_roles(
    document: &Document,
    extensions: &BTreeMap<String, raw::RoleExtension>,
    role_ids: &[&str],
    diagnostics: &mut Diagnostics,
) {
    for id in extensions.keys() {
        if !role_ids.contains(&id.as_str()) {
            let at = document.key_origin(&extension_pointer(id));
            diagnostics.push(diags::unknown_extension_role(id, role_ids, at));
        }
    }
}

fn extension_pointer(role: &str) -> String {
    format!("/spec/kdrender/roles/{}", pointer_escape(role))
}

/// A service: a dashboard needs a URL scheme, and an auth token cannot be rendered.
fn service(
    document: &Document,
    i: usize,
    service: &raw::Service,
    diagnostics: &mut Diagnostics,
) -> Service {
    let endpoint = service.endpoint.as_ref().map(|e| {
        let at = |field: &str| document.origin(&format!("/spec/services/{i}/endpoint/{field}"));
        if e.is_dashboard && e.url_scheme.is_empty() {
            diagnostics.push(diags::dashboard_without_scheme(
                &service.id,
                at("isDashboard"),
            ));
        }
        if e.has_auth_token {
            diagnostics.push(diags::auth_token_not_rendered(
                &service.id,
                at("hasAuthToken"),
            ));
        }
        Endpoint {
            port: e.port,
            url_scheme: e.url_scheme.clone(),
            path: e.path.clone(),
            is_dashboard: e.is_dashboard,
            has_auth_token: e.has_auth_token,
        }
    });
    Service {
        name: service
            .label
            .as_ref()
            .map(|l| l.name.clone())
            .unwrap_or_default(),
        id: service.id.clone(),
        endpoint,
        exported_service: service.exported_service.clone(),
    }
}

/// What the app gives every role that does not say otherwise.
struct RoleDefaults<'s> {
    image: Option<&'s String>,
    config_package: Option<&'s raw::ConfigPackage>,
    persist_dirs: Option<&'s Vec<String>>,
    events: Option<Events>,
}

/// The app's roles with its defaults pushed into them, each checked.
fn roles(
    document: &Document,
    spec: &raw::AppSpec,
    service_ids: &[&str],
    diagnostics: &mut Diagnostics,
) -> Vec<AppRole> {
    let defaults = RoleDefaults {
        image: spec.default_image_repo_tag.as_ref(),
        config_package: spec
            .default_config_package
            .as_ref()
            .and_then(Option::as_ref),
        persist_dirs: spec.default_persist_dirs.as_ref(),
        events: spec.default_event_list.as_deref().map(events),
    };
    // A later entry for the same role (an error reported above) would win.
    let role_services: BTreeMap<&str, &[String]> = spec
        .config
        .role_services
        .iter()
        .map(|entry| (entry.role_id.as_str(), entry.service_ids.as_slice()))
        .collect();
    let mut extended = BTreeSet::new();
    let mut roles = Vec::new();
    for (i, role) in spec.roles.iter().enumerate() {
        let rules = RoleRules { document, i, role };
        // A repeated role id (reported above) is extended, and its extension checked, once.
        let extension = spec
            .kdrender
            .roles
            .get(&role.id)
            .filter(|_| extended.insert(role.id.as_str()));
        let services = exposed_services(role_services.get(role.id.as_str()), service_ids);
        roles.push(rules.app_role(&defaults, extension, services, diagnostics));
    }
    roles
}

/// One role of the app, with where it was written.
struct RoleRules<'r> {
    document: &'r Document,
    i: usize,
    role: &'r raw::AppRole,
}

impl RoleRules<'_> {
    fn at(&self, field: &str) -> crate::source::Origin {
        self.document
            .origin(&format!("/spec/roles/{}/{field}", self.i))
    }

    fn app_role(
        &self,
        defaults: &RoleDefaults<'_>,
        extension: Option<&raw::RoleExtension>,
        services: Vec<String>,
        diagnostics: &mut Diagnostics,
    ) -> AppRole {
        let role = self.role;
        let image = self.image(defaults, diagnostics);
        self.check_tty(diagnostics);
        let min_resources = self.min_resources(diagnostics);
        let min_storage = self.min_storage(diagnostics);
        let cardinality = self.cardinality(diagnostics);
        let container = self.container(extension, diagnostics);
        AppRole {
            id: role.id.clone(),
            cardinality,
            image: image.unwrap_or_default(),
            config_package: match &role.config_package {
                Some(explicit) => explicit.as_ref(),
                None => defaults.config_package,
            }
            .map(|p| ConfigPackage {
                url: p.package_url.clone(),
                new_layout: p.use_new_setup_layout,
            }),
            persist_dirs: role
                .persist_dirs
                .as_ref()
                .or(defaults.persist_dirs)
                .cloned()
                .unwrap_or_default(),
            events: role
                .event_list
                .as_deref()
                .map(events)
                .or(defaults.events)
                .unwrap_or(Events::ALL),
            min_resources,
            min_storage,
            ephemeral_mode_supported: role
                .min_storage
                .as_ref()
                .is_some_and(|m| m.ephemeral_mode_supported),
            stdin: role.container_spec.stdin,
            tty: role.container_spec.tty,
            services,
            container,
            sync_wave: extension.and_then(|e| e.sync_wave),
            origin: self.at("id"),
        }
    }

    /// Every role has an image: its own, or the app's default.
    fn image(&self, defaults: &RoleDefaults<'_>, diagnostics: &mut Diagnostics) -> Option<String> {
        let image = self
            .role
            .image_repo_tag
            .as_ref()
            .or(defaults.image)
            .cloned();
        if image.is_none() {
            let at = self.document.origin(&format!("/spec/roles/{}", self.i));
            diagnostics.push(diags::no_image(&self.role.id, at));
        }
        image
    }

    /// A terminal needs standard input.
    fn check_tty(&self, diagnostics: &mut Diagnostics) {
        let spec = &self.role.container_spec;
        if spec.tty && !spec.stdin {
            let at = self.at("containerSpec/tty");
            diagnostics.push(diags::tty_without_stdin(&self.role.id, at));
        }
    }

    /// `minResources`, each a quantity.
    fn min_resources(&self, diagnostics: &mut Diagnostics) -> BTreeMap<String, Quantity> {
        let mut minimums = BTreeMap::new();
        for (name, value) in &self.role.min_resources {
            match Quantity::from_json(value) {
                Ok(minimum) => {
                    minimums.insert(name.clone(), minimum);
                }
                Err(problem) => {
                    let at = self.at(&format!("minResources/{name}"));
                    diagnostics.push(diags::bad_minimum(&problem, at));
                }
            }
        }
        minimums
    }

    /// `minStorage.size`, a quantity.
    fn min_storage(&self, diagnostics: &mut Diagnostics) -> Option<Quantity> {
        let size = self.role.min_storage.as_ref()?.size.as_ref()?;
        Quantity::from_json(size)
            .map_err(|problem| {
                let at = self.at("minStorage/size");
                diagnostics.push(diags::bad_minimum(&problem, at));
            })
            .ok()
    }

    /// A cardinality no cluster could meet within KubeDirector's member cap is an error.
    fn cardinality(&self, diagnostics: &mut Diagnostics) -> Cardinality {
        let text = &self.role.cardinality;
        match parse_cardinality(text) {
            Some(cardinality) if cardinality.minimum <= MAX_MEMBERS => cardinality,
            _ => {
                let at = self.at("cardinality");
                diagnostics.push(diags::cardinality_above_cap(text, MAX_MEMBERS, at));
                Cardinality {
                    minimum: 0,
                    open: true,
                }
            }
        }
    }

    /// What `spec.kdrender.roles.<id>` adds to the app container; its variable names are
    /// checked as a cluster's are.
    fn container(
        &self,
        extension: Option<&raw::RoleExtension>,
        diagnostics: &mut Diagnostics,
    ) -> ContainerExtension {
        let Some(extension) = extension else {
            return ContainerExtension::default();
        };
        let base = extension_pointer(&self.role.id);
        for (j, var) in extension.env.iter().enumerate() {
            if let Err(problem) = names::check_env_name(&var.name) {
                let at = self.document.origin(&format!("{base}/env/{j}/name"));
                diagnostics.push(diags::bad_name(&problem, at));
            }
        }
        ContainerExtension {
            command: extension.command.clone(),
            args: extension.args.clone(),
            env: extension
                .env
                .iter()
                .map(|v| (v.name.clone(), v.value.clone()))
                .collect(),
            readiness_probe: extension.readiness_probe.clone(),
            liveness_probe: extension.liveness_probe.clone(),
            working_dir: extension.working_dir.clone(),
            pod_security_context: extension.pod_security_context.clone(),
        }
    }
}

/// The services a role exposes, in the order the app lists its services.
fn exposed_services(ids: Option<&&[String]>, order: &[&str]) -> Vec<String> {
    let Some(ids) = ids else {
        return Vec::new();
    };
    order
        .iter()
        .filter(|s| ids.iter().any(|id| id == *s))
        .map(|s| s.to_string())
        .collect()
}

fn events(list: &[String]) -> Events {
    Events {
        configure: list.iter().any(|e| e == "configure"),
        addnodes: list.iter().any(|e| e == "addnodes"),
        delnodes: list.iter().any(|e| e == "delnodes"),
    }
}

/// `"3"` → exactly 3; `"3+"` → at least 3 (the schema has checked the form).
fn parse_cardinality(text: &str) -> Option<Cardinality> {
    let (digits, open) = match text.strip_suffix('+') {
        Some(digits) => (digits, true),
        None => (text, false),
    };
    Some(Cardinality {
        minimum: digits.parse().ok()?,
        open,
    })
}
