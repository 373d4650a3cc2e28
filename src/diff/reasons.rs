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

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::hash::ANNOTATION;
use crate::render::names::{
    self, APP_CONTAINER, FILES_VOLUME, INIT_CONTAINER, PERSISTED_CLAIM, VERSION_LABEL,
};
use crate::render::{FileFact, Kind, Object, RolloutFacts};

/// One reason for a restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// A config file the role's pods mount: added, removed, its content changed (`members`
    /// lists the ordinals whose copy changed, for per-member files) or its mode (`from` and `to`
    /// are the octal modes).
    File {
        path: String,
        template: String,
        change: FileChange,
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
        setting: Setting,
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

/// What happened to a config file; the names are part of the JSON format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileChange {
    Added,
    Removed,
    /// Its content.
    Changed,
    /// Its file mode.
    Mode,
}

impl FileChange {
    pub fn name(self) -> &'static str {
        match self {
            FileChange::Added => "added",
            FileChange::Removed => "removed",
            FileChange::Changed => "changed",
            FileChange::Mode => "mode",
        }
    }
}

/// The setting of the inputs a pod-template field belongs to, in the words of the inputs; the
/// names are part of the JSON format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    PersistDirs,
    Storage,
    Labels,
    Annotations,
    Probes,
    Image,
    Resources,
    Env,
    Command,
    Ports,
    Security,
    Volumes,
    /// Anything else of the pod.
    Pod,
}

impl Setting {
    pub fn name(self) -> &'static str {
        match self {
            Setting::PersistDirs => "persistDirs",
            Setting::Storage => "storage",
            Setting::Labels => "labels",
            Setting::Annotations => "annotations",
            Setting::Probes => "probes",
            Setting::Image => "image",
            Setting::Resources => "resources",
            Setting::Env => "env",
            Setting::Command => "command",
            Setting::Ports => "ports",
            Setting::Security => "security",
            Setting::Volumes => "volumes",
            Setting::Pod => "pod",
        }
    }
}

macro_rules! serialize_by_name {
    ($($kind:ty),*) => {$(
        impl Serialize for $kind {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }

        impl std::fmt::Display for $kind {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    )*};
}

serialize_by_name!(FileChange, Setting);

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
                let more = list.len().saturating_sub(MAX_LINES - 1);
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

/// The value at a JSON pointer, `null` where there is none (as indexing a `Value` gives).
pub fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&Value::Null)
}

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
    reasons.retain(|reason| !told_by_app_version(reason, &app));
    let files = Files::compared(before, after, base, head);
    reasons.extend(file_reasons(&files, old, new));
    reasons.extend(app);
    reasons.extend(events_reason(old, new));
    if let (Some(old), Some(new)) = (&old.membership, &new.membership) {
        reasons.extend(membership_reasons(old, new, &after.cluster));
    }
    if reasons.is_empty() {
        reasons.push(Reason::Other {
            detail: "the rollout hash changed without a change in what it covers (a new kdrender hash scheme)".into(),
        });
    }
    reasons
}

/// The pod label `app.kubernetes.io/version` carries the app's version: one reason for both.
fn told_by_app_version(reason: &Reason, app: &[Reason]) -> bool {
    let Reason::Setting {
        field, from, to, ..
    } = reason
    else {
        return false;
    };
    *field == format!("metadata.labels.{VERSION_LABEL}")
        && app.iter().any(|a| {
            matches!(a, Reason::App { field: f, from: af, to: at, .. }
                if f == "version" && af == from && at == to)
        })
}

/// The role started or stopped taking membership events.
fn events_reason(old: &RolloutFacts, new: &RolloutFacts) -> Option<Reason> {
    match (&old.membership, &new.membership) {
        (None, Some(_)) => Some(Reason::Events { membership: true }),
        (Some(_), None) => Some(Reason::Events { membership: false }),
        _ => None,
    }
}

/// The StatefulSet's pod template without its rollout hash, which is what is being explained.
fn without_hash(template: &Value) -> Value {
    let mut template = template.clone();
    if let Some(annotations) = template
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(ANNOTATION);
    }
    template
}

/// The changed fields of the pod template and the volume claim templates.
fn template_changes(before: &Object, after: &Object) -> Vec<Change> {
    let templates = (
        without_hash(at(&before.value, "/spec/template")),
        without_hash(at(&after.value, "/spec/template")),
    );
    let mut changes = Vec::new();
    for (path, pointer) in [("", "/spec"), ("metadata", "/metadata")] {
        let (b, a) = (at(&templates.0, pointer), at(&templates.1, pointer));
        differences(path, b, a, &mut changes);
    }
    let claims = "/spec/volumeClaimTemplates";
    let (b, a) = (at(&before.value, claims), at(&after.value, claims));
    differences("volumeClaimTemplates", b, a, &mut changes);
    changes
}

fn setting_reasons(
    before: &Object,
    after: &Object,
    old: &RolloutFacts,
    new: &RolloutFacts,
) -> Vec<Reason> {
    let changes = template_changes(before, after);
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
    changes
        .iter()
        .filter(|c| !file_mount(&c.field) && !follows_app(c, &changes))
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

/// The init step runs the app container's image with its resources: a change of the init
/// step's that the app container makes too is one change, one reason.
fn follows_app(change: &Change, changes: &[Change]) -> bool {
    let (app_container, init_container) = (app_container_field(), init_container_field());
    field_follows_app(&change.field)
        && changes.iter().any(|c| {
            c.field.strip_prefix(app_container.as_str())
                == change.field.strip_prefix(init_container.as_str())
                && c.before == change.before
                && c.after == change.after
        })
}

fn field_follows_app(field: &str) -> bool {
    field
        .strip_prefix(init_container_field().as_str())
        .is_some_and(|rest| rest == ".image" || rest.starts_with(".resources"))
}

/// The setting a pod-template field belongs to, in the words of the inputs.
fn setting_of(change: &Change) -> Setting {
    let field = change.field.as_str();
    let has = |part: &str| field.contains(part);
    // The persisted volume: its mounts and the init step that seeds it follow `persistDirs`.
    let persisted = |v: &Value| {
        v.get("name").and_then(Value::as_str) == Some(PERSISTED_CLAIM) && v.get("subPath").is_some()
    };
    if field.starts_with(&format!("{}.command", init_container_field()))
        || (has("volumeMounts[") && (persisted(&change.before) || persisted(&change.after)))
    {
        return Setting::PersistDirs;
    }
    if field.starts_with("volumeClaimTemplates") {
        Setting::Storage
    } else if field.starts_with("metadata.labels") {
        Setting::Labels
    } else if field.starts_with("metadata.annotations") {
        Setting::Annotations
    } else if has("Probe") {
        Setting::Probes
    } else if has(".image") {
        Setting::Image
    } else if has(".resources") {
        Setting::Resources
    } else if has(".env[") || has(".env.") || field.ends_with(".env") || has(".envFrom") {
        Setting::Env
    } else if has(".command") || has(".args") || has(".workingDir") || has(".lifecycle") {
        Setting::Command
    } else if has(".ports") {
        Setting::Ports
    } else if has("securityContext") || has("capabilities") {
        Setting::Security
    } else if field.starts_with("volumes") || has("volumeMounts") || has("volumeDevices") {
        Setting::Volumes
    } else {
        Setting::Pod
    }
}

/// Leaf differences between two values, as `(field path, before, after)`. Lists of objects
/// are matched by a field that names their items (`containers[app]`, `env[JAVA_OPTS]`,
/// `volumeMounts[/etc/x]`), other lists by position.
pub fn differences(path: &str, before: &Value, after: &Value, out: &mut Vec<Change>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                differences(
                    &join(path, key),
                    b.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(b), Value::Array(a)) => match identity(b, a) {
            Some(field) => named_item_differences(path, field, b, a, out),
            None if b.len() == a.len() => {
                for (i, (x, y)) in b.iter().zip(a).enumerate() {
                    differences(&join(path, &format!("[{i}]")), x, y, out);
                }
            }
            None => out.push(Change::new(path, before, after)),
        },
        _ => out.push(Change::new(path, before, after)),
    }
}

/// A field path with one more segment: `a.b`, or `a[x]` for list items.
fn join(path: &str, segment: &str) -> String {
    if path.is_empty() {
        segment.to_string()
    } else if segment.starts_with('[') {
        format!("{path}{segment}")
    } else {
        format!("{path}.{segment}")
    }
}

/// The differences of two lists whose items are named by `field`, item by item.
fn named_item_differences(
    path: &str,
    field: &str,
    before: &[Value],
    after: &[Value],
    out: &mut Vec<Change>,
) {
    let name = |v: &Value| {
        v.pointer(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let names: BTreeSet<String> = before.iter().chain(after).map(name).collect();
    for n in names {
        let find = |list: &[Value]| {
            list.iter()
                .find(|v| name(v) == n)
                .cloned()
                .unwrap_or(Value::Null)
        };
        differences(
            &join(path, &format!("[{n}]")),
            &find(before),
            &find(after),
            out,
        );
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

/// The config files of a restarting StatefulSet on both sides: the data of its files ConfigMaps
/// and how many members exist on both sides.
struct Files<'a> {
    before: &'a Object,
    after: &'a Object,
    /// The files ConfigMaps' data (`None` for a StatefulSet without one).
    old: Option<&'a Map<String, Value>>,
    new: Option<&'a Map<String, Value>>,
    /// Members that exist on both sides; a new member's own file restarts nobody.
    both: usize,
}

impl<'a> Files<'a> {
    fn compared(
        before: &'a Object,
        after: &'a Object,
        base: &Index<'a>,
        head: &Index<'a>,
    ) -> Files<'a> {
        let replicas = |object: &Object| {
            usize::try_from(at(&object.value, "/spec/replicas").as_u64().unwrap_or(0)).unwrap_or(0)
        };
        Files {
            before,
            after,
            old: files_data(base, before),
            new: files_data(head, after),
            both: replicas(before).min(replicas(after)),
        }
    }

    /// A shared file's text before and after.
    fn shared(&self, old_key: &str, new_key: &str) -> (String, String) {
        (text(self.old, old_key), text(self.new, new_key))
    }

    /// Member `ordinal`'s copy of a per-member file, before and after.
    fn member(&self, ordinal: usize, old_key: &str, new_key: &str) -> (String, String) {
        let key = |o: &Object, k: &str| names::member_key(&names::pod(&o.name, ordinal), k);
        (
            text(self.old, &key(self.before, old_key)),
            text(self.new, &key(self.after, new_key)),
        )
    }
}

/// A file's text in a files ConfigMap's data (empty where there is none).
fn text(data: Option<&Map<String, Value>>, key: &str) -> String {
    data.and_then(|data| data.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn files_data<'a>(index: &Index<'a>, statefulset: &Object) -> Option<&'a Map<String, Value>> {
    index
        .get(&(
            Kind::ConfigMap,
            statefulset.namespace.clone(),
            names::files_configmap(&statefulset.name),
        ))
        .and_then(|o| o.value.get("data"))
        .and_then(Value::as_object)
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

impl Reason {
    fn file(fact: &FileFact, change: FileChange, detail: FileDetail) -> Reason {
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
    }
}

/// The files added, changed and removed.
fn file_reasons(files: &Files<'_>, old: &RolloutFacts, new: &RolloutFacts) -> Vec<Reason> {
    let mut reasons = Vec::new();
    for fact in &new.files {
        match old.files.iter().find(|f| f.target == fact.target) {
            None => reasons.push(Reason::file(fact, FileChange::Added, FileDetail::default())),
            Some(previous) => {
                reasons.extend(content_reason(files, previous, fact));
                reasons.extend(mode_reason(previous, fact));
            }
        }
    }
    for previous in &old.files {
        if !new.files.iter().any(|f| f.target == previous.target) {
            reasons.push(Reason::file(
                previous,
                FileChange::Removed,
                FileDetail::default(),
            ));
        }
    }
    reasons
}

/// A file whose content changed: for per-member files, in the members that exist on both sides.
fn content_reason(files: &Files<'_>, previous: &FileFact, fact: &FileFact) -> Option<Reason> {
    if previous.per_member != fact.per_member {
        return Some(Reason::file(
            fact,
            FileChange::Changed,
            FileDetail::default(),
        ));
    }
    let detail = if fact.per_member {
        let copies = |i: usize| files.member(i, &previous.key, &fact.key);
        let changed: Vec<usize> = (0..files.both)
            .filter(|&i| {
                let (b, a) = copies(i);
                b != a
            })
            .collect();
        let (b, a) = copies(*changed.first()?);
        FileDetail {
            members: Some(changed),
            lines: Some(Lines::between(&b, &a)),
            ..FileDetail::default()
        }
    } else {
        let (b, a) = files.shared(&previous.key, &fact.key);
        if b == a {
            return None;
        }
        FileDetail {
            lines: Some(Lines::between(&b, &a)),
            ..FileDetail::default()
        }
    };
    Some(Reason::file(fact, FileChange::Changed, detail))
}

fn mode_reason(previous: &FileFact, fact: &FileFact) -> Option<Reason> {
    (previous.mode != fact.mode).then(|| {
        let modes = (mode_text(previous.mode), mode_text(fact.mode));
        Reason::file(
            fact,
            FileChange::Mode,
            FileDetail {
                modes: Some(modes),
                ..FileDetail::default()
            },
        )
    })
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
#[derive(Default)]
struct RoleMembers {
    members: Vec<(String, String)>,
    endpoints: BTreeMap<String, String>,
}

/// The `index`th item of a list, `null` where there is none.
fn item(list: &Value, index: usize) -> &Value {
    list.get(index).unwrap_or(&Value::Null)
}

/// A scalar of the membership as text.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl RoleMembers {
    /// Reads `{"members": [[fqdn, node id]], "endpoints": {service: [scheme, port]}}`.
    fn read(role: &Value) -> RoleMembers {
        let members = role
            .get("members")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|m| (scalar_text(item(m, 0)), scalar_text(item(m, 1))))
                    .collect()
            })
            .unwrap_or_default();
        let endpoints = role
            .get("endpoints")
            .and_then(Value::as_object)
            .map(|services| {
                services
                    .iter()
                    .map(|(service, e)| (service.clone(), endpoint_text(e)))
                    .collect()
            })
            .unwrap_or_default();
        RoleMembers { members, endpoints }
    }

    fn fqdns(&self) -> Vec<String> {
        self.members.iter().map(|m| m.0.clone()).collect()
    }

    fn node_ids(&self) -> Vec<String> {
        self.members.iter().map(|m| m.1.clone()).collect()
    }
}

/// An endpoint as hashed, `[scheme, port]`, as a reviewer reads it.
fn endpoint_text(endpoint: &Value) -> String {
    let scheme = item(endpoint, 0).as_str().unwrap_or_default();
    let port = scalar_text(item(endpoint, 1));
    if scheme.is_empty() {
        format!("port {port}")
    } else {
        format!("{scheme}, port {port}")
    }
}

/// Reads `{role: {"members": …, "endpoints": …}}`.
fn roles_of(value: &Value) -> BTreeMap<String, RoleMembers> {
    value
        .as_object()
        .map(|roles| {
            roles
                .iter()
                .map(|(id, role)| (id.clone(), RoleMembers::read(role)))
                .collect()
        })
        .unwrap_or_default()
}

/// The membership changes of this cluster and of each connected one.
fn membership_reasons(old: &Value, new: &Value, cluster: &str) -> Vec<Reason> {
    let mut reasons = cluster_membership_reasons(cluster, at(old, "/cluster"), at(new, "/cluster"));
    let connected = |v: &Value| v.get("connections").and_then(Value::as_object).cloned();
    let (old_connected, new_connected) = (
        connected(old).unwrap_or_default(),
        connected(new).unwrap_or_default(),
    );
    let names: BTreeSet<&String> = old_connected.keys().chain(new_connected.keys()).collect();
    for name in names {
        reasons.extend(cluster_membership_reasons(
            name,
            old_connected.get(name).unwrap_or(&Value::Null),
            new_connected.get(name).unwrap_or(&Value::Null),
        ));
    }
    reasons
}

/// The membership changes of one cluster's roles: members, else node ids; and endpoints.
fn cluster_membership_reasons(cluster: &str, old: &Value, new: &Value) -> Vec<Reason> {
    let (before, after) = (roles_of(old), roles_of(new));
    let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let none = RoleMembers::default();
    let mut reasons = Vec::new();
    for id in ids {
        let (b, a) = (
            before.get(id).unwrap_or(&none),
            after.get(id).unwrap_or(&none),
        );
        let (bf, af) = (b.fqdns(), a.fqdns());
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
            reasons.push(Reason::NodeIds {
                cluster: cluster.to_string(),
                role: id.clone(),
                from: b.node_ids(),
                to: a.node_ids(),
            });
        }
        reasons.extend(endpoint_reasons(cluster, id, b, a));
    }
    reasons
}

/// A role's changed endpoints. A role that appears or disappears brings or takes its endpoints
/// along: its membership says so already.
fn endpoint_reasons(cluster: &str, role: &str, b: &RoleMembers, a: &RoleMembers) -> Vec<Reason> {
    if b.members.is_empty() || a.members.is_empty() {
        return Vec::new();
    }
    let services: BTreeSet<&String> = b.endpoints.keys().chain(a.endpoints.keys()).collect();
    services
        .into_iter()
        .filter_map(|service| {
            let (from, to) = (b.endpoints.get(service), a.endpoints.get(service));
            (from != to).then(|| Reason::Endpoint {
                cluster: cluster.to_string(),
                role: role.to_string(),
                service: service.clone(),
                from: from.cloned(),
                to: to.cloned(),
            })
        })
        .collect()
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
            assert_eq!(setting_of(&change).name(), setting, "{field}");
        }
    }

    #[test]
    fn a_mount_of_the_persisted_volume_follows_persist_dirs() {
        let mount = json!({"name": "p", "mountPath": "/logs", "subPath": "logs"});
        let change = Change::new("containers[app].volumeMounts[/logs]", &Value::Null, &mount);
        assert_eq!(setting_of(&change), Setting::PersistDirs);
        let secret = json!({"name": "secret", "mountPath": "/s"});
        let change = Change::new("containers[app].volumeMounts[/s]", &Value::Null, &secret);
        assert_eq!(setting_of(&change), Setting::Volumes);
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
