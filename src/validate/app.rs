//! KubeDirectorApp rules and defaulting (KubeDirector's app webhook, done offline).
//!
//! Rules: unique role and service ids (also after munging into object names), `selectedRoles`
//! and `roleServices` that refer to existing roles and services without repeats, an image for
//! every role, parseable `minStorage`, `tty` only with `stdin`, `urlScheme` on dashboards.
//! Defaulting: `defaultImageRepoTag`, `defaultConfigPackage`, `defaultPersistDirs` and
//! `defaultEventList` are pushed into the roles that do not set their own.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::load::Document;
use crate::model::{
    App, AppRole, AppSource, Cardinality, ConfigPackage, ContainerExtension, Endpoint, Events,
    Service,
};
use crate::names::{self, munge};
use crate::quantity::Quantity;
use crate::raw;

use super::check_unique;
use super::cluster::MAX_MEMBERS;

pub fn validate(
    raw: raw::App,
    document: &Document,
    source: AppSource,
    diagnostics: &mut Diagnostics,
) -> Option<App> {
    let errors_before = diagnostics.error_count();
    let spec = raw.spec;

    check_unique(
        document,
        "role id",
        spec.roles
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("/spec/roles/{i}/id"), r.id.as_str())),
        diagnostics,
    );
    let munged: Vec<String> = spec.roles.iter().map(|r| munge(&r.id)).collect();
    for (i, role) in spec.roles.iter().enumerate() {
        if let Some(j) = (0..i).find(|&j| munged[j] == munged[i] && spec.roles[j].id != role.id) {
            diagnostics.push(
                Diagnostic::error(format!(
                    "role ids \"{}\" and \"{}\" give the same object name \"{}\"",
                    spec.roles[j].id, role.id, munged[i]
                ))
                .at(document.origin(&format!("/spec/roles/{i}/id")))
                .help("object names are lower-cased, with '_' and '.' turned into '-'"),
            );
        }
    }
    check_unique(
        document,
        "service id",
        spec.services
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("/spec/services/{i}/id"), s.id.as_str())),
        diagnostics,
    );
    check_unique(
        document,
        "selected role",
        spec.config
            .selected_roles
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("/spec/config/selectedRoles/{i}"), r.as_str())),
        diagnostics,
    );
    check_unique(
        document,
        "roleServices entry for role",
        spec.config.role_services.iter().enumerate().map(|(i, r)| {
            (
                format!("/spec/config/roleServices/{i}/roleID"),
                r.role_id.as_str(),
            )
        }),
        diagnostics,
    );

    let role_ids: Vec<String> = spec.roles.iter().map(|r| r.id.clone()).collect();
    let service_ids: Vec<String> = spec.services.iter().map(|s| s.id.clone()).collect();
    let role_ids: Vec<&str> = role_ids.iter().map(String::as_str).collect();
    let service_ids: Vec<&str> = service_ids.iter().map(String::as_str).collect();
    let unknown = |what: &str, id: &str, pointer: String, known: &[&str]| {
        let diagnostic = Diagnostic::error(format!("{what} \"{id}\" is not defined in this app"))
            .at(document.origin(&pointer));
        match did_you_mean(id, known.iter().copied()) {
            Some(help) => diagnostic.help(help),
            None => diagnostic.help(format!("defined: {}", known.join(", "))),
        }
    };
    for (i, id) in spec.config.selected_roles.iter().enumerate() {
        if !role_ids.contains(&id.as_str()) {
            diagnostics.push(unknown(
                "selected role",
                id,
                format!("/spec/config/selectedRoles/{i}"),
                &role_ids,
            ));
        }
    }
    let mut role_services: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (i, entry) in spec.config.role_services.iter().enumerate() {
        if !role_ids.contains(&entry.role_id.as_str()) {
            diagnostics.push(unknown(
                "role",
                &entry.role_id,
                format!("/spec/config/roleServices/{i}/roleID"),
                &role_ids,
            ));
        }
        for (j, service) in entry.service_ids.iter().enumerate() {
            if !service_ids.contains(&service.as_str()) {
                diagnostics.push(unknown(
                    "service",
                    service,
                    format!("/spec/config/roleServices/{i}/serviceIDs/{j}"),
                    &service_ids,
                ));
            }
        }
        check_unique(
            document,
            "service",
            entry.service_ids.iter().enumerate().map(|(j, s)| {
                (
                    format!("/spec/config/roleServices/{i}/serviceIDs/{j}"),
                    s.as_str(),
                )
            }),
            diagnostics,
        );
        role_services.insert(&entry.role_id, entry.service_ids.clone());
    }

    let mut services = Vec::new();
    for (i, service) in spec.services.into_iter().enumerate() {
        let endpoint = service.endpoint.map(|e| {
            if e.is_dashboard && e.url_scheme.is_empty() {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "service \"{}\" is a dashboard and so needs endpoint.urlScheme",
                        service.id
                    ))
                    .at(document.origin(&format!("/spec/services/{i}/endpoint/isDashboard"))),
                );
            }
            if e.has_auth_token {
                diagnostics.push(
                    Diagnostic::warning(format!(
                        "service \"{}\" asks for an auth token: a random token cannot be rendered deterministically, so configmeta.json carries an empty authToken and no token annotation is set",
                        service.id
                    ))
                    .at(document.origin(&format!("/spec/services/{i}/endpoint/hasAuthToken")))
                    .help("protect the endpoint with a Secret you manage (SOPS, Sealed Secrets, External Secrets)"),
                );
            }
            Endpoint {
                port: e.port,
                url_scheme: e.url_scheme,
                path: e.path,
                is_dashboard: e.is_dashboard,
                has_auth_token: e.has_auth_token,
            }
        });
        services.push(Service {
            name: service.label.map(|l| l.name).unwrap_or_default(),
            id: service.id,
            endpoint,
            exported_service: service.exported_service,
        });
    }

    let mut extensions = spec.kdrender.roles;
    for id in extensions.keys() {
        if !role_ids.contains(&id.as_str()) {
            let mut diagnostic = Diagnostic::error(format!(
                "spec.kdrender.roles names \"{id}\", which is not a role of this app"
            ))
            .at(document.key_origin(&format!(
                "/spec/kdrender/roles/{}",
                crate::document::pointer_escape(id)
            )));
            if let Some(help) = did_you_mean(id, role_ids.iter().copied()) {
                diagnostic = diagnostic.help(help);
            }
            diagnostics.push(diagnostic);
        }
    }
    let default_package = spec.default_config_package.flatten();
    let default_events = spec.default_event_list.as_deref().map(events);
    let mut roles = Vec::new();
    for (i, role) in spec.roles.into_iter().enumerate() {
        let at = |field: &str| document.origin(&format!("/spec/roles/{i}/{field}"));
        let image = role
            .image_repo_tag
            .clone()
            .or_else(|| spec.default_image_repo_tag.clone());
        if image.is_none() {
            diagnostics.push(
                Diagnostic::error(format!(
                    "role \"{}\" has no image: set imageRepoTag on it or defaultImageRepoTag on the app",
                    role.id
                ))
                .at(document.origin(&format!("/spec/roles/{i}"))),
            );
        }
        if role.container_spec.tty && !role.container_spec.stdin {
            diagnostics.push(
                Diagnostic::error(format!(
                    "role \"{}\" sets containerSpec.tty without stdin",
                    role.id
                ))
                .at(at("containerSpec/tty")),
            );
        }
        let mut min_resources = BTreeMap::new();
        for (name, value) in &role.min_resources {
            match Quantity::from_json(value) {
                Ok(q) => {
                    min_resources.insert(name.clone(), q);
                }
                Err(message) => diagnostics.push(
                    Diagnostic::error(message.to_string()).at(at(&format!("minResources/{name}"))),
                ),
            }
        }
        let min_storage = role
            .min_storage
            .as_ref()
            .and_then(|m| m.size.as_ref())
            .and_then(|size| {
                Quantity::from_json(size)
                    .map_err(|message| {
                        diagnostics
                            .push(Diagnostic::error(message.to_string()).at(at("minStorage/size")))
                    })
                    .ok()
            });
        let cardinality = match parse_cardinality(&role.cardinality) {
            Some(c) if c.minimum <= MAX_MEMBERS => c,
            _ => {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "cardinality \"{}\" asks for more than the {MAX_MEMBERS} members a cluster may have",
                        role.cardinality
                    ))
                    .at(at("cardinality")),
                );
                Cardinality {
                    minimum: 0,
                    open: true,
                }
            }
        };
        let config_package = match role.config_package {
            Some(explicit) => explicit,
            None => default_package.clone(),
        }
        .map(|p| ConfigPackage {
            url: p.package_url,
            new_layout: p.use_new_setup_layout,
        });
        let extension = extensions.remove(&role.id).unwrap_or_default();
        let extension_at = format!(
            "/spec/kdrender/roles/{}",
            crate::document::pointer_escape(&role.id)
        );
        for (j, var) in extension.env.iter().enumerate() {
            if let Err(message) = names::check_env_name(&var.name) {
                diagnostics.push(
                    Diagnostic::error(message.to_string())
                        .at(document.origin(&format!("{extension_at}/env/{j}/name"))),
                );
            }
        }
        let container = ContainerExtension {
            command: extension.command,
            args: extension.args,
            env: extension
                .env
                .into_iter()
                .map(|v| (v.name, v.value))
                .collect(),
            readiness_probe: extension.readiness_probe,
            liveness_probe: extension.liveness_probe,
            working_dir: extension.working_dir,
            pod_security_context: extension.pod_security_context,
        };
        roles.push(AppRole {
            container,
            sync_wave: extension.sync_wave,
            services: exposed_services(&role_services, &role.id, &service_ids),
            id: role.id,
            cardinality,
            image: image.unwrap_or_default(),
            config_package,
            persist_dirs: role
                .persist_dirs
                .or_else(|| spec.default_persist_dirs.clone())
                .unwrap_or_default(),
            events: role
                .event_list
                .as_deref()
                .map(events)
                .or(default_events)
                .unwrap_or(Events::ALL),
            min_resources,
            min_storage,
            ephemeral_mode_supported: role.min_storage.is_some_and(|m| m.ephemeral_mode_supported),
            stdin: role.container_spec.stdin,
            tty: role.container_spec.tty,
            origin: document.origin(&format!("/spec/roles/{i}/id")),
        });
    }

    let config_files = spec
        .kdrender
        .config_files
        .map(|folder| (folder, document.origin("/spec/kdrender/configFiles")));

    if diagnostics.error_count() > errors_before {
        return None;
    }
    Some(App {
        name: raw.metadata.name,
        source,
        origin: document.origin("/metadata/name"),
        folder: document.folder.clone(),
        config_files,
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
    })
}

/// The services a role exposes, in the order the app lists its services.
fn exposed_services(map: &BTreeMap<&str, Vec<String>>, role: &str, order: &[&str]) -> Vec<String> {
    let Some(ids) = map.get(role) else {
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
pub fn parse_cardinality(text: &str) -> Option<Cardinality> {
    let (digits, open) = match text.strip_suffix('+') {
        Some(digits) => (digits, true),
        None => (text, false),
    };
    Some(Cardinality {
        minimum: digits.parse().ok()?,
        open,
    })
}
