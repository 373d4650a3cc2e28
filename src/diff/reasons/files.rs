//! Config files that changed, read off the roles' files ConfigMaps on both sides: added,
//! removed, their content (for per-member files, in the members that exist on both sides) or
//! their mode.

use serde_json::{Map, Value};

use super::fields::at;
use super::{FileChange, Index, Lines, Reason};
use crate::render::names;
use crate::render::{FileFact, Kind, Object, RolloutFacts};

/// The config files of a restarting StatefulSet on both sides: the data of its files ConfigMaps
/// and how many members exist on both sides.
pub(super) struct Files<'a> {
    before: &'a Object,
    after: &'a Object,
    /// The files ConfigMaps' data (`None` for a StatefulSet without one).
    old: Option<&'a Map<String, Value>>,
    new: Option<&'a Map<String, Value>>,
    /// Members that exist on both sides; a new member's own file restarts nobody.
    both: usize,
}

impl<'a> Files<'a> {
    pub(super) fn compared(
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
pub(super) fn file_reasons(
    files: &Files<'_>,
    old: &RolloutFacts,
    new: &RolloutFacts,
) -> Vec<Reason> {
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
