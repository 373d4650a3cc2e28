//! KubeDirectorCluster rules and defaulting (KubeDirector's cluster webhook, done offline).
//!
//! Rules: the app exists where `appCatalog` says to look; every role is a role of the app and
//! appears once; selected roles with a minimum above zero are present; `members` matches the
//! cardinality (`N` exactly, `N+` at least) and all roles together stay within 1000 members;
//! requests meet the app's `minResources` and never exceed the limits; storage meets
//! `minStorage`; quantities, labels and annotations are well formed. Defaulting: `members` from
//! the cardinality, the service type and storage class from the settings, `defaultSecret` into
//! roles without a secret.
//!
//! What only a live controller could honour (auth tokens, encrypted secret keys, file injections
//! fetched at run time, connections to objects outside the repository) is reported as a warning
//! and left out, as documented; nothing is dropped silently.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::load::Document;
use crate::model::{
    App, AppSource, BlockStorage, Cluster, ClusterRole, Secret, ServiceType, Settings, Storage,
    VolumeProjection,
};
use crate::names;
use crate::quantity::Quantity;
use crate::raw;

use super::check_metadata_map;

/// KubeDirector's cap on the members of one cluster.
pub const MAX_MEMBERS: u32 = 1000;

/// Mount paths the renderer itself uses in every container.
const RESERVED_MOUNTS: [&str; 4] = ["/etc/guestconfig", "/etc/kdrender", "/tmp", "/run"];

/// Storage class names, which Kubernetes refuses at apply time unless they are DNS-1123
/// subdomains.
fn check_storage_classes(
    role: &raw::ClusterRole,
    at: &dyn Fn(&str) -> crate::source::Origin,
    diagnostics: &mut Diagnostics,
) {
    let classes = [
        (
            "storage",
            role.storage
                .as_ref()
                .and_then(|s| s.storage_class_name.as_deref()),
        ),
        (
            "blockStorage",
            role.block_storage
                .as_ref()
                .and_then(|b| b.storage_class_name.as_deref()),
        ),
    ];
    for (field, class) in classes {
        if let Some(class) = class
            && let Err(problem) = names::check_dns1123_subdomain(class)
        {
            diagnostics.push(
                Diagnostic::error(format!(
                    "role \"{}\": storage class name {problem} (a DNS-1123 subdomain)",
                    role.id
                ))
                .at(at(&format!("{field}/storageClassName"))),
            );
        }
    }
}

/// Finds the cluster's app, honouring `appCatalog`: `local` looks below the rendered folder,
/// `system` in the catalog folders, and no value looks locally first.
pub fn find_app(
    raw: &raw::Cluster,
    document: &Document,
    known: &[(AppSource, String)],
    diagnostics: &mut Diagnostics,
) -> Option<(AppSource, String)> {
    let name = &raw.spec.app;
    if let Some(key) = super::named_app(document, known) {
        return Some(key);
    }
    let where_ = match raw.spec.app_catalog.as_deref() {
        Some("local") => "below the rendered folder (appCatalog: local)",
        Some("system") => "in the catalog folders (appCatalog: system)",
        _ => "below the rendered folder or in the catalog folders",
    };
    let mut diagnostic = Diagnostic::error(format!("no app named \"{name}\" {where_}"))
        .at(document.origin("/spec/app"));
    let names: Vec<&str> = known.iter().map(|(_, n)| n.as_str()).collect();
    if let Some(help) = did_you_mean(name, names.iter().copied()) {
        diagnostic = diagnostic.help(help);
    } else if names.is_empty() {
        diagnostic = diagnostic.help(
            "no KubeDirectorApp was found at all; the settings' catalog folders name where to look",
        );
    }
    diagnostics.push(diagnostic);
    None
}

pub fn validate(
    raw: raw::Cluster,
    document: &Document,
    app: &App,
    settings: &Settings,
    diagnostics: &mut Diagnostics,
) -> Option<Cluster> {
    let errors_before = diagnostics.error_count();
    let spec = raw.spec;
    let name = raw.metadata.name;

    if let Err(message) = names::check_dns1123_subdomain(&name) {
        diagnostics.push(
            Diagnostic::error(format!("cluster name {message}"))
                .at(document.origin("/metadata/name")),
        );
    }
    if let Some(namespace) = &raw.metadata.namespace
        && let Err(message) = names::check_dns1123_label(namespace)
    {
        diagnostics.push(
            Diagnostic::error(format!("namespace {message}"))
                .at(document.origin("/metadata/namespace")),
        );
    }
    if spec.naming_scheme.as_deref() == Some("UID") {
        diagnostics.push(
            Diagnostic::warning(
                "namingScheme UID gives random names in KubeDirector; kdrender always names objects <cluster>-<role>",
            )
            .at(document.origin("/spec/namingScheme")),
        );
    }
    for (field, what) in [("configmaps", "ConfigMaps"), ("secrets", "Secrets")] {
        let list = if field == "configmaps" {
            &spec.connections.configmaps
        } else {
            &spec.connections.secrets
        };
        if !list.is_empty() {
            let why = if field == "secrets" {
                "secret values never go into the configmeta ConfigMap"
            } else {
                "they live outside the repository, which is all kdrender reads"
            };
            diagnostics.push(
                Diagnostic::warning(format!(
                    "connections.{field} ({}) are not embedded in configmeta.json: {why}",
                    list.join(", ")
                ))
                .at(document.origin(&format!("/spec/connections/{field}")))
                .help(format!("mount the {what} into the roles instead (role.secret, or a config-file template)")),
            );
        }
    }

    // Roles: known, unique, and every selected role with a minimum present.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut misspelt: Vec<&str> = Vec::new();
    for (i, role) in spec.roles.iter().enumerate() {
        let at = document.origin(&format!("/spec/roles/{i}/id"));
        if app.role(&role.id).is_none() {
            misspelt.push(&role.id);
            let ids: Vec<&str> = app.roles.iter().map(|r| r.id.as_str()).collect();
            let mut diagnostic = Diagnostic::error(format!(
                "role \"{}\" is not a role of app \"{}\"",
                role.id, app.name
            ))
            .at(at)
            .label("unknown role");
            diagnostic = match did_you_mean(&role.id, ids.iter().copied()) {
                Some(help) => diagnostic.help(help),
                None => diagnostic.help(format!("the app's roles: {}", ids.join(", "))),
            };
            diagnostics.push(diagnostic);
        }
        if seen.insert(&role.id, i).is_some() {
            diagnostics
                .push(Diagnostic::error(format!("role \"{}\" appears twice", role.id)).at(at));
        }
    }
    for selected in &app.selected_roles {
        let Some(app_role) = app.role(selected) else {
            continue;
        };
        // A misspelt role already reported as unknown is the same mistake, reported once.
        let reported = misspelt
            .iter()
            .any(|id| did_you_mean(id, [selected.as_str()]).is_some());
        if app_role.cardinality.minimum > 0 && !seen.contains_key(selected.as_str()) && !reported {
            diagnostics.push(
                Diagnostic::error(format!(
                    "role \"{selected}\" is missing: app \"{}\" needs at least {} member(s) of it",
                    app.name, app_role.cardinality.minimum
                ))
                .at(document.key_origin("/spec/roles")),
            );
        }
    }

    let mut total_members: u64 = 0;
    let mut roles = Vec::new();
    for (i, role) in spec.roles.into_iter().enumerate() {
        let Some(app_role) = app.role(&role.id) else {
            continue;
        };
        let base = format!("/spec/roles/{i}");
        let at = |field: &str| document.origin(&format!("{base}/{field}"));
        let cardinality = app_role.cardinality;
        let members = role.members.unwrap_or(cardinality.minimum);
        let fits = if cardinality.open {
            members >= cardinality.minimum
        } else {
            members == cardinality.minimum
        };
        if !fits {
            let rule = if cardinality.open {
                format!("at least {}", cardinality.minimum)
            } else {
                format!("exactly {}", cardinality.minimum)
            };
            diagnostics.push(
                Diagnostic::error(format!(
                    "role \"{}\" has {members} member(s), but app \"{}\" gives it cardinality \"{cardinality}\" ({rule})",
                    role.id, app.name
                ))
                .at(if role.members.is_some() { at("members") } else { at("id") }),
            );
        }
        total_members += u64::from(members);

        let limits = quantities(
            document,
            &format!("{base}/resources/limits"),
            &role.resources.limits,
            diagnostics,
        );
        let requests = quantities(
            document,
            &format!("{base}/resources/requests"),
            &role.resources.requests,
            diagnostics,
        );
        for (resource, request) in &requests {
            if let Some(limit) = limits.get(resource)
                && request > limit
            {
                diagnostics.push(
                        Diagnostic::error(format!(
                            "role \"{}\" requests {request} of {resource}, more than its limit of {limit}",
                            role.id
                        ))
                        .at(at(&format!("resources/requests/{resource}"))),
                    );
            }
        }
        for (resource, minimum) in &app_role.min_resources {
            if minimum.is_zero() {
                continue;
            }
            // Kubernetes defaults a missing request to the limit.
            let asked = requests.get(resource).or_else(|| limits.get(resource));
            if asked.is_none_or(|asked| asked < minimum) {
                let asked = asked.map_or("nothing".to_string(), |q| q.to_string());
                diagnostics.push(
                    Diagnostic::error(format!(
                        "role \"{}\" requests {asked} of {resource}; app \"{}\" needs at least {minimum}",
                        role.id, app.name
                    ))
                    .at(at("resources")),
                );
            }
        }

        check_storage_classes(&role, &at, diagnostics);
        let storage = role.storage.as_ref().and_then(|s| {
            let size = quantity(
                document,
                &format!("{base}/storage/size"),
                &s.size,
                diagnostics,
            )?;
            if !size.is_positive() {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "role \"{}\": storage size must be above zero",
                        role.id
                    ))
                    .at(at("storage/size")),
                );
            }
            Some(Storage {
                size,
                class: s
                    .storage_class_name
                    .clone()
                    .or_else(|| settings.default_storage_class.clone()),
            })
        });
        if let Some(minimum) = &app_role.min_storage {
            match &storage {
                Some(storage) if &storage.size < minimum => diagnostics.push(
                    Diagnostic::error(format!(
                        "role \"{}\" has {} of storage; app \"{}\" needs at least {minimum}",
                        role.id, storage.size, app.name
                    ))
                    .at(at("storage/size")),
                ),
                None if !app_role.ephemeral_mode_supported && members > 0 => diagnostics.push(
                    Diagnostic::error(format!(
                        "role \"{}\" has no storage; app \"{}\" needs at least {minimum}",
                        role.id, app.name
                    ))
                    .at(at("id")),
                ),
                _ => {}
            }
        }
        let block_storage = role.block_storage.as_ref().and_then(|b| {
            let size = match &b.size {
                Some(size) => quantity(
                    document,
                    &format!("{base}/blockStorage/size"),
                    size,
                    diagnostics,
                )?,
                None => Quantity::gibibyte(),
            };
            Some(BlockStorage {
                class: b
                    .storage_class_name
                    .clone()
                    .or_else(|| settings.default_storage_class.clone()),
                path_prefix: b.path_prefix.clone(),
                devices: b.num_devices,
                size,
            })
        });
        let shared_memory = role.shared_memory.as_ref().and_then(|value| {
            let size = quantity(
                document,
                &format!("{base}/sharedMemory"),
                value,
                diagnostics,
            )?;
            if !size.is_positive() {
                diagnostics.push(
                    Diagnostic::error("sharedMemory must be above zero").at(at("sharedMemory")),
                );
            }
            Some(size)
        });

        for (j, var) in role.env.iter().enumerate() {
            if let Err(message) = names::check_env_name(&var.name) {
                diagnostics
                    .push(Diagnostic::error(message.to_string()).at(at(&format!("env/{j}/name"))));
            } else if var.name == "POD_NAME" {
                diagnostics.push(
                    Diagnostic::error("POD_NAME is set by kdrender (the member's pod name) and cannot be overridden")
                        .at(at(&format!("env/{j}/name"))),
                );
            }
        }
        for (field, map) in [
            ("podLabels", &role.pod_labels),
            ("serviceLabels", &role.service_labels),
        ] {
            if map.contains_key("app.kubernetes.io/instance") {
                diagnostics.push(
                    Diagnostic::error("app.kubernetes.io/instance is set by Argo CD for resource tracking; kdrender never emits it")
                        .at(document.key_origin(&format!("{base}/{field}/app.kubernetes.io~1instance"))),
                );
            }
        }
        for (field, map, labels) in [
            ("podLabels", &role.pod_labels, true),
            ("podAnnotations", &role.pod_annotations, false),
            ("serviceLabels", &role.service_labels, true),
            ("serviceAnnotations", &role.service_annotations, false),
        ] {
            check_metadata_map(
                document,
                &format!("{base}/{field}"),
                map,
                labels,
                diagnostics,
            );
        }
        if !role.file_injections.is_empty() {
            diagnostics.push(
                Diagnostic::warning(format!(
                    "role \"{}\": fileInjections are not rendered: kdrender works offline and fetches nothing",
                    role.id
                ))
                .at(at("fileInjections"))
                .help("put the files in the app's config-file templates, or bake them into the image"),
            );
        }
        if !role.secret_keys.is_empty() {
            diagnostics.push(
                Diagnostic::warning(format!(
                    "role \"{}\": secretKeys are not rendered: secret values never go into the configmeta ConfigMap",
                    role.id
                ))
                .at(document.key_origin(&format!("{base}/secretKeys")))
                .without_snippet()
                .help("keep the values in a Secret and mount it with the role's `secret` field"),
            );
        }
        let mut mount_paths: Vec<(&str, String)> = Vec::new();
        for (j, projection) in role.volume_projections.iter().enumerate() {
            mount_paths.push((
                &projection.mount_path,
                format!("volumeProjections/{j}/mountPath"),
            ));
        }
        if let Some(secret) = &role.secret {
            mount_paths.push((&secret.mount_path, "secret/mountPath".to_string()));
        }
        for (k, (path, field)) in mount_paths.iter().enumerate() {
            let clash_reserved = RESERVED_MOUNTS
                .iter()
                .any(|r| path.trim_end_matches('/') == *r || path.starts_with(&format!("{r}/")));
            let clash_other = mount_paths[..k].iter().any(|(p, _)| p == path);
            if clash_reserved || clash_other || *path == "/dev/shm" {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "role \"{}\": mount path {path} is already in use",
                        role.id
                    ))
                    .at(at(field))
                    .help(format!(
                        "kdrender itself mounts {}",
                        RESERVED_MOUNTS.join(", ")
                    )),
                );
            }
        }

        roles.push((
            app.roles
                .iter()
                .position(|r| r.id == role.id)
                .unwrap_or(usize::MAX),
            ClusterRole {
                members,
                limits,
                requests,
                storage,
                block_storage,
                env: role.env.into_iter().map(|v| (v.name, v.value)).collect(),
                pod_labels: role.pod_labels,
                pod_annotations: role.pod_annotations,
                service_labels: role.service_labels,
                service_annotations: role.service_annotations,
                affinity: role.affinity,
                shared_memory,
                secret: role
                    .secret
                    .or_else(|| spec.default_secret.clone())
                    .map(secret),
                service_account: role.service_account_name,
                volume_projections: role
                    .volume_projections
                    .into_iter()
                    .map(|p| VolumeProjection {
                        claim: p.pvc_name,
                        mount_path: p.mount_path,
                        read_only: p.read_only,
                    })
                    .collect(),
                origin: document.origin(&format!("{base}/id")),
                id: role.id,
            },
        ));
    }
    if total_members > u64::from(MAX_MEMBERS) {
        diagnostics.push(
            Diagnostic::error(format!(
                "cluster \"{name}\" has {total_members} members in all; at most {MAX_MEMBERS} are allowed"
            ))
            .at(document.key_origin("/spec/roles")),
        );
    }

    if diagnostics.error_count() > errors_before {
        return None;
    }
    roles.sort_by_key(|(position, _)| *position);
    Some(Cluster {
        name,
        namespace: raw.metadata.namespace,
        app: app.name.clone(),
        app_key: (app.source, app.name.clone()),
        service_type: spec
            .service_type
            .as_deref()
            .and_then(ServiceType::parse)
            .unwrap_or(settings.default_service_type),
        connected_clusters: spec
            .connections
            .clusters
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    c.clone(),
                    document.origin(&format!("/spec/connections/clusters/{i}")),
                )
            })
            .collect(),
        roles: roles.into_iter().map(|(_, role)| role).collect(),
        origin: document.origin("/metadata/name"),
    })
}

fn secret(raw: raw::Secret) -> Secret {
    Secret {
        name: raw.name,
        mount_path: raw.mount_path,
        default_mode: raw.default_mode,
        read_only: raw.read_only,
    }
}

/// A quantity, or an error naming the field (malformed, or beyond Kubernetes' range).
fn quantity(
    document: &Document,
    pointer: &str,
    value: &serde_json::Value,
    diagnostics: &mut Diagnostics,
) -> Option<Quantity> {
    Quantity::from_json(value)
        .map_err(|message| {
            diagnostics.push(
                Diagnostic::error(format!("{}: {message}", super::schema::field_name(pointer)))
                    .at(document.origin(pointer)),
            )
        })
        .ok()
}

/// Requests or limits: Kubernetes refuses negative amounts, and configmeta.json's figures
/// would come out negative.
fn quantities(
    document: &Document,
    pointer: &str,
    map: &BTreeMap<String, serde_json::Value>,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<String, Quantity> {
    map.iter()
        .filter_map(|(name, value)| {
            let at = format!("{pointer}/{}", crate::document::pointer_escape(name));
            let amount = quantity(document, &at, value, diagnostics)?;
            if amount.is_negative() {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "{}: {amount} is negative; Kubernetes refuses negative resource amounts",
                        super::schema::field_name(&at)
                    ))
                    .at(document.origin(&at)),
                );
                return None;
            }
            Some((name.clone(), amount))
        })
        .collect()
}
