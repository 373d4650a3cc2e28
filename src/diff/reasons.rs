//! Why a StatefulSet restarts, and what changes in place in its members' `configmeta.json`, in a
//! reviewer's terms.
//!
//! A StatefulSet restarts when its pod template changes, which kdrender makes happen exactly
//! when its rollout hash changes (`crate::hash`). The reasons are read off the hash's inputs, one
//! by one, on both sides:
//!
//! - the pod template (less the hash annotation) and the volume claim templates: each changed
//!   field ([`fields`]), with the setting it belongs to (image, resources, env, storage,
//!   command, probes, setup, …);
//! - the role's config files, from its `<statefulset>-files` ConfigMap (per-member keys are
//!   `<pod>.<key>`): each file by its path in the container and the template it comes from
//!   ([`files`]).
//!
//! Mounts and volumes that only carry config files are explained by the files, and the init
//! step's copies of the app container's image and resources by the app container, so one change
//! gives one reason.
//!
//! What reaches running members in place is explained from the cluster's `configmeta.json` on
//! both sides ([`document_reasons`]): the app's configuration (`configMeta`, version, distro id),
//! members (count, FQDNs added and removed), node ids and endpoints ([`membership`]) and flavors,
//! of this cluster and of connected ones ([`document`]).

mod document;
mod fields;
mod files;
mod membership;

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::hash::ANNOTATION;
use crate::render::names::{
    APP_CONTAINER, CONFIGCLI_CONTAINER, DNS_CONTAINER, FILES_VOLUME, INIT_CONTAINER,
    PERSISTED_CLAIM, SETUP_VOLUME,
};
use crate::render::{Kind, Object, RolloutFacts};
use fields::{Change, brief, differences, shorten};
use files::{Files, file_reasons};

pub use document::document_reasons;
pub use fields::at;

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
    /// The app-wide configuration in `configmeta.json`: `configMeta.<key>`, `version` or
    /// `distroID`; values as for settings.
    App {
        field: String,
        from: Option<String>,
        to: Option<String>,
        lines: Option<Lines>,
    },
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
    /// A field of a role's `flavor` (`cores`, `memory`, `storage`, …) changed.
    Flavor {
        cluster: String,
        role: String,
        field: String,
        from: Option<String>,
        to: Option<String>,
    },
    /// A patch of the settings (`spec.patches`) that applies to the StatefulSet was added,
    /// removed or changed (`at` is where it is written, on the side that has it); the fields it
    /// changed are reasons of their own.
    Patch { at: String, change: PatchChange },
    /// A change none of the above names: the rollout hash (a new hash scheme), or a part of
    /// `configmeta.json`.
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

/// What happened to a patch that applies to a StatefulSet; the names are part of the JSON format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchChange {
    /// It applies now and did not before.
    Applied,
    /// It applied before and no longer does.
    Removed,
}

impl PatchChange {
    pub fn name(self) -> &'static str {
        match self {
            PatchChange::Applied => "applied",
            PatchChange::Removed => "removed",
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
    /// The setup package: the postStart hook and startup probe of the setup runner, and the init
    /// step that copies configcli in.
    Setup,
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
            Setting::Setup => "setup",
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

serialize_by_name!(FileChange, PatchChange, Setting);

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
    let mut reasons = patch_reasons(old, new);
    reasons.extend(setting_reasons(before, after, old, new));
    let files = Files::compared(before, after, base, head);
    reasons.extend(file_reasons(&files, old, new));
    if reasons.is_empty() {
        reasons.push(Reason::Other {
            detail: "the rollout hash changed without a change in what it covers (a new kdrender hash scheme)".into(),
        });
    }
    reasons
}

/// Patches that apply on one side only (a changed patch is the old one removed and the new one
/// applied); the fields they change are told by the other reasons.
fn patch_reasons(old: &RolloutFacts, new: &RolloutFacts) -> Vec<Reason> {
    let missing_from = |facts: &RolloutFacts, patch: &crate::render::PatchFact| {
        !facts.patches.iter().any(|p| p.written == patch.written)
    };
    let removed = old
        .patches
        .iter()
        .filter(|p| missing_from(new, p))
        .map(|p| (p, PatchChange::Removed));
    let applied = new
        .patches
        .iter()
        .filter(|p| missing_from(old, p))
        .map(|p| (p, PatchChange::Applied));
    removed
        .chain(applied)
        .map(|(patch, change)| Reason::Patch {
            at: patch.at.clone(),
            change,
        })
        .collect()
}

/// The pod template's metadata without its rollout hash, which is what is being explained.
/// Only the metadata is copied: the spec holds no hash.
fn metadata_without_hash(template: &Value) -> Value {
    let mut metadata = at(template, "/metadata").clone();
    if let Some(annotations) = metadata
        .pointer_mut("/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(ANNOTATION);
    }
    metadata
}

/// The changed fields of the pod template and the volume claim templates.
fn template_changes(before: &Object, after: &Object) -> Vec<Change> {
    let template = "/spec/template";
    let templates = (at(&before.value, template), at(&after.value, template));
    let mut changes = Vec::new();
    let (b, a) = (at(templates.0, "/spec"), at(templates.1, "/spec"));
    differences("", b, a, &mut changes);
    let (b, a) = (
        metadata_without_hash(templates.0),
        metadata_without_hash(templates.1),
    );
    differences("metadata", &b, &a, &mut changes);
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

/// The init steps run the app container's image with its resources: a change of an init
/// step's that the app container makes too is one change, one reason.
fn follows_app(change: &Change, changes: &[Change]) -> bool {
    let app_container = app_container_field();
    field_follows_app(&change.field).is_some_and(|rest| {
        changes.iter().any(|c| {
            c.field.strip_prefix(app_container.as_str()) == Some(rest)
                && c.before == change.before
                && c.after == change.after
        })
    })
}

/// The field of an init step's image or resources, without the init step's name.
fn field_follows_app(field: &str) -> Option<&str> {
    [
        init_container_field(),
        format!("initContainers[{DNS_CONTAINER}]"),
    ]
    .iter()
    .find_map(|step| field.strip_prefix(step.as_str()))
    .filter(|rest| *rest == ".image" || rest.starts_with(".resources"))
}

/// The setup runner's parts: its postStart hook and startup probe, the init step that copies
/// configcli in, and the folder they share.
fn is_setup(change: &Change) -> bool {
    let field = change.field.as_str();
    let names_setup = |v: &Value| v.get("name").and_then(Value::as_str) == Some(SETUP_VOLUME);
    field.starts_with(&format!("{}.lifecycle", app_container_field()))
        || field.starts_with(&format!("{}.startupProbe", app_container_field()))
        || field.starts_with(&format!("initContainers[{CONFIGCLI_CONTAINER}]"))
        || names_setup(&change.before)
        || names_setup(&change.after)
        || field.starts_with(&format!("volumes[{SETUP_VOLUME}]"))
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
    if is_setup(change) {
        return Setting::Setup;
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

/// The app-wide configuration's changes, fields named as in the app (`configMeta.<key>`).
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            (
                "containers[app].lifecycle.postStart.exec.command[4]",
                "setup",
            ),
            ("containers[app].startupProbe", "setup"),
            ("initContainers[kdrender-configcli].image", "setup"),
            ("volumes[kdrender-setup]", "setup"),
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
}
