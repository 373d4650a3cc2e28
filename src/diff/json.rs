//! The plan as JSON, for bots: the same facts as the text, in a documented, versioned shape.
//!
//! Keys are sorted (serde_json's maps are ordered), lists keep the plan's order (namespace,
//! cluster, kind, name), and nothing depends on where the repository or the temporary export
//! lie. `version` changes only if a field changes meaning or disappears; new fields may be
//! added within a version. docs/diff.md documents every field. `summary` and `groups` (the
//! clusters that change alike, [`fleet`]) sit beside the flat lists, which keep every cluster.

use serde_json::{Value, json};

use super::Base;
use super::fleet::{self, Group, Stat};
use super::plan::Plan;
use super::summary::Summary;

/// The version of the JSON format. Version 2: `rollout.notifies` and `rollout.refreshes`; the
/// reasons `app`, `membership`, `node-ids` and `endpoint` moved from restarts to refreshes (they
/// no longer restart anything), `events` went away, and `flavor` came.
pub const VERSION: u32 = 2;

/// The document; with `stat`, changed objects come with counts instead of their `diff`.
pub fn render(plan: &Plan, groups: &[Group], base: &Base<'_>, stat: bool) -> String {
    let mut value = json!({
        "version": VERSION,
        "changed": !plan.is_empty(),
        "base": {"revision": base.revision, "commit": base.commit},
        "path": base.shown_path(),
        "rollout": {
            "restarts": plan.restarts,
            "notifies": plan.notifies,
            "refreshes": plan.refreshes,
            "scales": plan.scales,
            "creates": plan.creates,
            "adopts": plan.adopts,
            "prunes": plan.removed,
        },
        "warnings": plan.warnings,
        "objects": {
            "added": plan.added,
            "removed": plan.removed,
            "changed": plan.changed,
        },
        "summary": Summary::of(plan, groups).json(),
        "groups": fleet::json(groups),
    });
    if stat {
        without_diffs(&mut value);
    }
    // Serialising a Value of strings, numbers and ordered maps cannot fail.
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// `--stat`: the changed objects with the lines their diffs add and remove, instead of the
/// diffs.
fn without_diffs(value: &mut Value) {
    if let Some(changed) = value
        .pointer_mut("/objects/changed")
        .and_then(Value::as_array_mut)
    {
        for object in changed.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(Value::String(diff)) = object.remove("diff") {
                let stat = Stat::of_diff(&diff);
                object.insert("insertions".into(), json!(stat.insertions));
                object.insert("deletions".into(), json!(stat.deletions));
            }
        }
    }
}
