//! Why a StatefulSet restarts, in a reviewer's terms.
//!
//! A StatefulSet restarts when its pod template changes, which kdrender makes happen exactly
//! when its rollout hash changes (`crate::hash`). The reasons are read off the hash's inputs, one
//! by one, on both sides:
//!
//! - the pod template (less the hash annotation) and the volume claim templates: each changed
//!   field, with the setting it belongs to (image, resources, env, storage, command, probes, …);
//! - the role's config files, from its `<statefulset>-files` ConfigMap (per-member keys are
//!   `<pod>.<key>`): each file by its path in the container and the template it comes from;
//! - the app-wide input (`configMeta`, `version`, `distroID`), as hashed;
//! - for roles that take addnodes/delnodes events, the membership, as hashed: members (count,
//!   FQDNs added and removed), node ids and endpoints, of this cluster and connected ones.
//!
//! Mounts and volumes that only carry config files are explained by the files, and the init
//! step's copies of the app container's image and resources by the app container, so one change
//! gives one reason.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::hash::ANNOTATION;
use crate::render::names::{
    self, APP_CONTAINER, FILES_VOLUME, INIT_CONTAINER, PERSISTED_CLAIM, VERSION_LABEL,
};
use crate::render::{FileFact, Kind, Object, RolloutFacts};

/// One reason for a restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// A config file the role's pods mount: `change` is `added`, `removed`, `changed` (its
    /// content; `members` lists the ordinals whose copy changed, for per-member files) or `mode`
    /// (`from` and `to` are the octal modes).
    File {
        path: String,
        template: String,
        change: &'static str,
        members: Option<Vec<usize>>,
        from: Option<String>,
        to: Option<String>,
        /// For a content change: the lines removed and added (of the first member listed, for
        /// per-member files).
        lines: Option<Lines>,
    },
    /// A field of the pod template or of the volume claim templates, with the setting of the
    /// inputs it comes from. `from` and `to` are the values (`null` when absent), shortened to
    /// 120 characters; for multi-line text they are `null` and `lines` says what changed.
    Setting {
        setting: &'static str,
        field: String,
        from: Option<String>,
        to: Option<String>,
        lines: Option<Lines>,
    },
    /// The app-wide configuration every role consumes: `configMeta.<key>`, `version` or
    /// `distroID`; values as for settings.
    App {
        field: String,
        from: Option<String>,
        to: Option<String>,
        lines: Option<Lines>,
    },
    /// The role started or stopped taking addnodes/delnodes events (the app's `eventList`), so
    /// membership entered or left its hash.
    Events { membership: bool },
    /// The members of a role (of this cluster or a connected one) changed.
    Membership {
        cluster: String,
        role: String,
        from: usize,
        to: usize,
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// The same members got other node ids (the role moved in the app's list of roles).
    NodeIds {
        cluster: String,
        role: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    /// A role's service endpoint (`scheme://…:port`) changed.
    Endpoint {
        cluster: String,
        role: String,
        service: String,
        from: Option<String>,
        to: Option<String>,
    },
    /// The hash changed for a reason none of the above names (a new hash scheme).
    Other { detail: String },
}

/// The lines a multi-line text lost and gained, at most [`MAX_LINES`] each (then a last entry
/// `… N more`), each shortened to 120 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lines {
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

pub const MAX_LINES: usize = 10;

impl Lines {
    fn between(before: &str, after: &str) -> Lines {
        let mut lines = Lines {
            removed: Vec::new(),
            added: Vec::new(),
        };
        for change in similar::TextDiff::from_lines(before, after).iter_all_changes() {
            let text = shorten(change.value().trim_end_matches(['\n', '\r']));
            match change.tag() {
                similar::ChangeTag::Delete => lines.removed.push(text),
                similar::ChangeTag::Insert => lines.added.push(text),
                similar::ChangeTag::Equal => {}
            }
        }
        for list in [&mut lines.removed, &mut lines.added] {
            if list.len() > MAX_LINES {
                let more = list.len() - (MAX_LINES - 1);
                list.truncate(MAX_LINES - 1);
                list.push(format!("… {more} more"));
            }
        }
        lines
    }
}

/// A value for display: `(from, to, lines)`, with `lines` instead of values for multi-line text.
fn shown(before: &Value, after: &Value) -> (Option<String>, Option<String>, Option<Lines>) {
    let text = |v: &Value| v.as_str().filter(|s| s.contains('\n')).map(str::to_string);
    match (text(before), text(after)) {
        (None, None) => (brief(before), brief(after), None),
        (b, a) => {
            let b = b.or_else(|| brief(before)).unwrap_or_default();
            let a = a.or_else(|| brief(after)).unwrap_or_default();
            (None, None, Some(Lines::between(&b, &a)))
        }
    }
}

/// One field that differs: its path and both values (`null` when absent).
pub struct Change {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

impl Change {
    fn new(field: &str, before: &Value, after: &Value) -> Change {
        Change {
            field: field.to_string(),
            before: before.clone(),
            after: after.clone(),
        }
    }
}

/// The objects of one side, by (kind, namespace, name).
pub type Index<'a> = BTreeMap<(Kind, String, String), &'a Object>;

/// A field of the app container, as [`differences`] names it.
fn app_container_field() -> String {
    format!("containers[{APP_CONTAINER}]")
}

/// A field of the init step, as [`differences`] names it.
fn init_container_field() -> String {
    format!("initContainers[{INIT_CONTAINER}]")
}

/// Why `after` (the same StatefulSet as `before`, whose pod template changed) restarts.
pub fn restart_reasons(
    before: &Object,
    after: &Object,
    base: &Index<'_>,
    head: &Index<'_>,
) -> Vec<Reason> {
    let empty = RolloutFacts::default();
    let old = before.rollout.as_deref().unwrap_or(&empty);
    let new = after.rollout.as_deref().unwrap_or(&empty);
    let app = app_reasons(&old.app, &new.app);
    let mut reasons = setting_reasons(before, after, old, new);
    // The pod label `app.kubernetes.io/version` carries the app's version: one reason for both.
    let version_label = format!("metadata.labels.{VERSION_LABEL}");
    reasons.retain(|reason| match reason {
        Reason::Setting {
            field, from, to, ..
        } if *field == version_label => !app.iter().any(|a| {
            matches!(a, Reason::App { field: f, from: af, to: at, .. }
                if f == "version" && af == from && at == to)
        }),
        _ => true,
    });
    reasons.extend(file_reasons(before, after, old, new, base, head));
    reasons.extend(app);
    match (&old.membership, &new.membership) {
        (Some(o), Some(n)) => reasons.extend(membership_reasons(o, n, &after.cluster)),
        (None, Some(_)) => reasons.push(Reason::Events { membership: true }),
        (Some(_), None) => reasons.push(Reason::Events { membership: false }),
        (None, None) => {}
    }
    if reasons.is_empty() {
        reasons.push(Reason::Other {
            detail: "the rollout hash changed without a change in what it covers (a new kdrender hash scheme)".into(),
        });
    }
    reasons
}

fn setting_reasons(
    before: &Object,
    after: &Object,
    old: &RolloutFacts,
    new: &RolloutFacts,
) -> Vec<Reason> {
    let (b, a) = (&before.value["spec"], &after.value["spec"]);
    let strip = |template: &Value| {
        let mut template = template.clone();
        if let Some(annotations) = template["metadata"]["annotations"].as_object_mut() {
            annotations.remove(ANNOTATION);
        }
        template
    };
    let (bt, at) = (strip(&b["template"]), strip(&a["template"]));
    let mut changes = Vec::new();
    differences("", &bt["spec"], &at["spec"], &mut changes);
    differences("metadata", &bt["metadata"], &at["metadata"], &mut changes);
    differences(
        "volumeClaimTemplates",
        &b["volumeClaimTemplates"],
        &a["volumeClaimTemplates"],
        &mut changes,
    );

    // Mounts and volumes that carry config files: the files explain them.
    let mounts: Vec<String> = old
        .files
        .iter()
        .chain(&new.files)
        .map(|f| format!(".volumeMounts[{}]", f.target))
        .collect();
    let files_volumes = format!("volumes[{FILES_VOLUME}");
    let file_mount = |field: &str| {
        field.starts_with(&files_volumes)
            || mounts
                .iter()
                .any(|m| field.ends_with(m.as_str()) || field.contains(&format!("{m}.")))
    };
    // The init step runs the app container's image with its resources: one change, one reason.
    let (app_container, init_container) = (app_container_field(), init_container_field());
    let follows_app = |change: &Change| {
        field_follows_app(&change.field)
            && changes.iter().any(|c| {
                c.field.strip_prefix(app_container.as_str())
                    == change.field.strip_prefix(init_container.as_str())
                    && c.before == change.before
                    && c.after == change.after
            })
    };
    changes
        .iter()
        .filter(|c| !file_mount(&c.field) && !follows_app(c))
        .map(|c| {
            let (from, to, lines) = shown(&c.before, &c.after);
            Reason::Setting {
                setting: setting_of(c),
                field: c.field.clone(),
                from,
                to,
                lines,
            }
        })
        .collect()
}

fn field_follows_app(field: &str) -> bool {
    field
        .strip_prefix(init_container_field().as_str())
        .is_some_and(|rest| rest == ".image" || rest.starts_with(".resources"))
}

/// The setting a pod-template field belongs to, in the words of the inputs.
fn setting_of(change: &Change) -> &'static str {
    let field = change.field.as_str();
    let has = |part: &str| field.contains(part);
    // The persisted volume `p`: its mounts and the init step that seeds it follow `persistDirs`.
    let persisted = |v: &Value| v["name"] == PERSISTED_CLAIM && v.get("subPath").is_some();
    if field.starts_with(&format!("{}.command", init_container_field()))
        || (has("volumeMounts[") && (persisted(&change.before) || persisted(&change.after)))
    {
        return "persistDirs";
    }
    if field.starts_with("volumeClaimTemplates") {
        "storage"
    } else if field.starts_with("metadata.labels") {
        "labels"
    } else if field.starts_with("metadata.annotations") {
        "annotations"
    } else if has("Probe") {
        "probes"
    } else if has(".image") {
        "image"
    } else if has(".resources") {
        "resources"
    } else if has(".env[") || has(".env.") || field.ends_with(".env") || has(".envFrom") {
        "env"
    } else if has(".command") || has(".args") || has(".workingDir") || has(".lifecycle") {
        "command"
    } else if has(".ports") {
        "ports"
    } else if has("securityContext") || has("capabilities") {
        "security"
    } else if field.starts_with("volumes") || has("volumeMounts") || has("volumeDevices") {
        "volumes"
    } else {
        "pod"
    }
}

/// Leaf differences between two values, as `(field path, before, after)`. Lists of objects
/// are matched by a field that names their items (`containers[app]`, `env[JAVA_OPTS]`,
/// `volumeMounts[/etc/x]`), other lists by position.
pub fn differences(path: &str, before: &Value, after: &Value, out: &mut Vec<Change>) {
    if before == after {
        return;
    }
    let join = |segment: &str| {
        if path.is_empty() {
            segment.to_string()
        } else if segment.starts_with('[') {
            format!("{path}{segment}")
        } else {
            format!("{path}.{segment}")
        }
    };
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                differences(
                    &join(key),
                    b.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(b), Value::Array(a)) => match identity(b, a) {
            Some(field) => {
                let name = |v: &Value| {
                    v.pointer(field)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let names: BTreeSet<String> = b.iter().chain(a).map(name).collect();
                for n in names {
                    let find = |list: &[Value]| {
                        list.iter()
                            .find(|v| name(v) == n)
                            .cloned()
                            .unwrap_or(Value::Null)
                    };
                    differences(&join(&format!("[{n}]")), &find(b), &find(a), out);
                }
            }
            None if b.len() == a.len() => {
                for (i, (x, y)) in b.iter().zip(a).enumerate() {
                    differences(&join(&format!("[{i}]")), x, y, out);
                }
            }
            None => out.push(Change::new(path, before, after)),
        },
        _ => out.push(Change::new(path, before, after)),
    }
}

/// The field (a JSON pointer) that names the items of two lists of objects, if one is present
/// and unique in every item of both: `mountPath` for volume mounts (which share volume names),
/// `devicePath` for devices, `name`, then `metadata.name` for volume claim templates.
fn identity(before: &[Value], after: &[Value]) -> Option<&'static str> {
    let unique = |list: &[Value], field: &str| {
        let mut seen = BTreeSet::new();
        list.iter().all(|v| {
            v.pointer(field)
                .and_then(Value::as_str)
                .is_some_and(|s| seen.insert(s.to_string()))
        })
    };
    if before.is_empty() && after.is_empty() {
        return None;
    }
    ["/mountPath", "/devicePath", "/name", "/metadata/name"]
        .into_iter()
        .find(|field| unique(before, field) && unique(after, field))
}

/// A value as a reviewer reads it (`None` when absent); long ones are shortened.
pub fn brief(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(shorten(s)),
        other => Some(shorten(&other.to_string())),
    }
}

/// At most 120 characters.
fn shorten(text: &str) -> String {
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(119).collect::<String>())
    } else {
        text.to_string()
    }
}

fn files_data<'a>(
    index: &Index<'a>,
    statefulset: &Object,
) -> Option<&'a serde_json::Map<String, Value>> {
    index
        .get(&(
            Kind::ConfigMap,
            statefulset.namespace.clone(),
            names::files_configmap(&statefulset.name),
        ))
        .and_then(|o| o.value["data"].as_object())
}

fn mode_text(mode: Option<u32>) -> String {
    // A ConfigMap volume's files are 0644 unless a mode is given.
    format!("{:04o}", mode.unwrap_or(0o644))
}

/// What a file reason says beyond the file and the kind of change.
#[derive(Default)]
struct FileDetail {
    members: Option<Vec<usize>>,
    modes: Option<(String, String)>,
    lines: Option<Lines>,
}

fn file_reasons(
    before: &Object,
    after: &Object,
    old_facts: &RolloutFacts,
    facts: &RolloutFacts,
    base: &Index<'_>,
    head: &Index<'_>,
) -> Vec<Reason> {
    let empty = serde_json::Map::new();
    let old = files_data(base, before).unwrap_or(&empty);
    let new = files_data(head, after).unwrap_or(&empty);
    let replicas = |object: &Object| {
        usize::try_from(object.value["spec"]["replicas"].as_u64().unwrap_or(0)).unwrap_or(0)
    };
    // Members that exist on both sides; a new member's own file restarts nobody.
    let both = replicas(before).min(replicas(after));
    let reason = |fact: &FileFact, change: &'static str, detail: FileDetail| {
        let (from, to) = detail.modes.unzip();
        Reason::File {
            path: fact.target.clone(),
            template: fact.template.clone(),
            change,
            members: detail.members,
            from,
            to,
            lines: detail.lines,
        }
    };
    let mut reasons = Vec::new();
    for fact in &facts.files {
        let Some(previous) = old_facts.files.iter().find(|f| f.target == fact.target) else {
            reasons.push(reason(fact, "added", FileDetail::default()));
            continue;
        };
        if previous.per_member != fact.per_member {
            reasons.push(reason(fact, "changed", FileDetail::default()));
        } else {
            let text = |data: &serde_json::Map<String, Value>, key: &str| {
                data.get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            if fact.per_member {
                let key =
                    |o: &Object, i: usize, k: &str| names::member_key(&names::pod(&o.name, i), k);
                let copies = |i: usize| {
                    (
                        text(old, &key(before, i, &previous.key)),
                        text(new, &key(after, i, &fact.key)),
                    )
                };
                let changed: Vec<usize> = (0..both)
                    .filter(|&i| {
                        let (b, a) = copies(i);
                        b != a
                    })
                    .collect();
                if let Some(&first) = changed.first() {
                    let (b, a) = copies(first);
                    reasons.push(reason(
                        fact,
                        "changed",
                        FileDetail {
                            members: Some(changed),
                            lines: Some(Lines::between(&b, &a)),
                            ..FileDetail::default()
                        },
                    ));
                }
            } else {
                let (b, a) = (text(old, &previous.key), text(new, &fact.key));
                if b != a {
                    reasons.push(reason(
                        fact,
                        "changed",
                        FileDetail {
                            lines: Some(Lines::between(&b, &a)),
                            ..FileDetail::default()
                        },
                    ));
                }
            }
        }
        if previous.mode != fact.mode {
            let modes = (mode_text(previous.mode), mode_text(fact.mode));
            reasons.push(reason(
                fact,
                "mode",
                FileDetail {
                    modes: Some(modes),
                    ..FileDetail::default()
                },
            ));
        }
    }
    for previous in &old_facts.files {
        if !facts.files.iter().any(|f| f.target == previous.target) {
            reasons.push(reason(previous, "removed", FileDetail::default()));
        }
    }
    reasons
}

fn app_reasons(old: &Value, new: &Value) -> Vec<Reason> {
    let mut changes = Vec::new();
    differences("", old, new, &mut changes);
    changes
        .iter()
        .map(|c| {
            let (from, to, lines) = shown(&c.before, &c.after);
            Reason::App {
                field: c.field.clone(),
                from,
                to,
                lines,
            }
        })
        .collect()
}

/// One role's membership as hashed: members as `(fqdn, node id)`, endpoints by service.
struct RoleMembers {
    members: Vec<(String, String)>,
    endpoints: BTreeMap<String, String>,
}

/// Reads `{role: {"members": [[fqdn, node id]], "endpoints": {service: [scheme, port]}}}`.
fn roles_of(value: &Value) -> BTreeMap<String, RoleMembers> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let Some(roles) = value.as_object() else {
        return BTreeMap::new();
    };
    roles
        .iter()
        .map(|(id, role)| {
            let members = role["members"]
                .as_array()
                .map(|list| list.iter().map(|m| (text(&m[0]), text(&m[1]))).collect())
                .unwrap_or_default();
            let endpoints = role["endpoints"]
                .as_object()
                .map(|services| {
                    services
                        .iter()
                        .map(|(service, e)| {
                            let scheme = e[0].as_str().unwrap_or_default();
                            let port = text(&e[1]);
                            let shown = if scheme.is_empty() {
                                format!("port {port}")
                            } else {
                                format!("{scheme}, port {port}")
                            };
                            (service.clone(), shown)
                        })
                        .collect()
                })
                .unwrap_or_default();
            (id.clone(), RoleMembers { members, endpoints })
        })
        .collect()
}

fn membership_reasons(old: &Value, new: &Value, cluster: &str) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let mut compare = |cluster: &str, o: &Value, n: &Value| {
        let (before, after) = (roles_of(o), roles_of(n));
        let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        let none = RoleMembers {
            members: Vec::new(),
            endpoints: BTreeMap::new(),
        };
        for id in ids {
            let (b, a) = (
                before.get(id).unwrap_or(&none),
                after.get(id).unwrap_or(&none),
            );
            let fqdns = |r: &RoleMembers| r.members.iter().map(|m| m.0.clone()).collect::<Vec<_>>();
            let (bf, af) = (fqdns(b), fqdns(a));
            if bf != af {
                reasons.push(Reason::Membership {
                    cluster: cluster.to_string(),
                    role: id.clone(),
                    from: bf.len(),
                    to: af.len(),
                    added: af.iter().filter(|f| !bf.contains(f)).cloned().collect(),
                    removed: bf.iter().filter(|f| !af.contains(f)).cloned().collect(),
                });
            } else if b.members != a.members {
                let ids = |r: &RoleMembers| r.members.iter().map(|m| m.1.clone()).collect();
                reasons.push(Reason::NodeIds {
                    cluster: cluster.to_string(),
                    role: id.clone(),
                    from: ids(b),
                    to: ids(a),
                });
            }
            let services: BTreeSet<&String> =
                b.endpoints.keys().chain(a.endpoints.keys()).collect();
            for service in services {
                let (from, to) = (b.endpoints.get(service), a.endpoints.get(service));
                // A role that appears or disappears brings or takes its endpoints along: its
                // membership says so already.
                if from != to && !b.members.is_empty() && !a.members.is_empty() {
                    reasons.push(Reason::Endpoint {
                        cluster: cluster.to_string(),
                        role: id.clone(),
                        service: service.clone(),
                        from: from.cloned(),
                        to: to.cloned(),
                    });
                }
            }
        }
    };
    compare(cluster, &old["cluster"], &new["cluster"]);
    let connected = |v: &Value| v["connections"].as_object().cloned().unwrap_or_default();
    let (old_connected, new_connected) = (connected(old), connected(new));
    let names: BTreeSet<&String> = old_connected.keys().chain(new_connected.keys()).collect();
    for name in names {
        compare(
            name,
            old_connected.get(name).unwrap_or(&Value::Null),
            new_connected.get(name).unwrap_or(&Value::Null),
        );
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_name_fields_by_path_and_list_items_by_name() {
        let before = json!({"containers": [{"name": "app", "image": "a:1", "env": [{"name": "X", "value": "1"}]}], "dns": ["a"]});
        let after = json!({"containers": [{"name": "app", "image": "a:2", "env": [{"name": "X", "value": "2"}, {"name": "Y", "value": "3"}]}], "dns": ["a"]});
        let mut out = Vec::new();
        differences("", &before, &after, &mut out);
        let fields: Vec<&str> = out.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "containers[app].env[X].value",
                "containers[app].env[Y]",
                "containers[app].image"
            ]
        );
        assert_eq!(
            (&out[2].before, &out[2].after),
            (&json!("a:1"), &json!("a:2"))
        );
    }

    #[test]
    fn volume_mounts_are_named_by_their_path() {
        let before = json!([{"name": "config-files", "mountPath": "/etc/a"}]);
        let after = json!([{"name": "config-files-755", "mountPath": "/etc/a"}]);
        let mut out = Vec::new();
        differences("volumeMounts", &before, &after, &mut out);
        assert_eq!(out[0].field, "volumeMounts[/etc/a].name");
    }

    #[test]
    fn settings_are_named_in_the_inputs_words() {
        for (field, setting) in [
            ("containers[app].image", "image"),
            ("initContainers[kdrender-init].image", "image"),
            ("containers[app].resources.limits.cpu", "resources"),
            ("containers[app].env[JAVA_OPTS].value", "env"),
            ("containers[app].env[X]", "env"),
            ("containers[app].command[1]", "command"),
            ("containers[app].readinessProbe.periodSeconds", "probes"),
            (
                "volumeClaimTemplates[p].spec.resources.requests.storage",
                "storage",
            ),
            ("metadata.labels.team", "labels"),
            ("containers[app].ports[web].containerPort", "ports"),
            ("securityContext.runAsUser", "security"),
            ("volumes[secret]", "volumes"),
            ("dnsConfig.searches[0]", "pod"),
            ("initContainers[kdrender-init].command[2]", "persistDirs"),
        ] {
            let change = Change::new(field, &Value::Null, &json!("x"));
            assert_eq!(setting_of(&change), setting, "{field}");
        }
    }

    #[test]
    fn a_mount_of_the_persisted_volume_follows_persist_dirs() {
        let mount = json!({"name": "p", "mountPath": "/logs", "subPath": "logs"});
        let change = Change::new("containers[app].volumeMounts[/logs]", &Value::Null, &mount);
        assert_eq!(setting_of(&change), "persistDirs");
        let secret = json!({"name": "secret", "mountPath": "/s"});
        let change = Change::new("containers[app].volumeMounts[/s]", &Value::Null, &secret);
        assert_eq!(setting_of(&change), "volumes");
    }

    #[test]
    fn multi_line_values_are_shown_as_the_lines_that_changed() {
        let (from, to, lines) = shown(&json!("a\nb\nc\n"), &json!("a\nB\nc\nd\n"));
        assert_eq!((from, to), (None, None));
        assert_eq!(
            lines,
            Some(Lines {
                removed: vec!["b".into()],
                added: vec!["B".into(), "d".into()]
            })
        );
        let many: String = (0..30).map(|i| format!("{i}\n")).collect();
        let lines = Lines::between("", &many);
        assert_eq!(lines.added.len(), MAX_LINES);
        assert_eq!(lines.added[MAX_LINES - 1], "… 21 more");
        assert_eq!(
            shown(&json!("1"), &json!(2)),
            (Some("1".into()), Some("2".into()), None)
        );
    }

    #[test]
    fn membership_names_members_node_ids_and_endpoints() {
        let old = json!({"cluster": {
            "a": {"members": [["a-0.x", 1001], ["a-1.x", 1002]], "endpoints": {"web": ["http", 8080]}},
            "b": {"members": [["b-0.x", 2001]], "endpoints": {}},
        }, "connections": {}});
        let new = json!({"cluster": {
            "a": {"members": [["a-0.x", 1001], ["a-1.x", 1002], ["a-2.x", 1003]], "endpoints": {"web": ["https", 8443]}},
            "b": {"members": [["b-0.x", 3001]], "endpoints": {}},
        }, "connections": {"other": {"z": {"members": [["z-0.y", 1001]], "endpoints": {}}}}});
        let reasons = membership_reasons(&old, &new, "c");
        assert_eq!(
            reasons,
            [
                Reason::Membership {
                    cluster: "c".into(),
                    role: "a".into(),
                    from: 2,
                    to: 3,
                    added: vec!["a-2.x".into()],
                    removed: vec![],
                },
                Reason::Endpoint {
                    cluster: "c".into(),
                    role: "a".into(),
                    service: "web".into(),
                    from: Some("http, port 8080".into()),
                    to: Some("https, port 8443".into()),
                },
                Reason::NodeIds {
                    cluster: "c".into(),
                    role: "b".into(),
                    from: vec!["2001".into()],
                    to: vec!["3001".into()],
                },
                Reason::Membership {
                    cluster: "other".into(),
                    role: "z".into(),
                    from: 0,
                    to: 1,
                    added: vec!["z-0.y".into()],
                    removed: vec![],
                },
            ]
        );
    }
}
