//! The plan as JSON, for bots: the same facts as the text, in a documented, versioned shape.
//!
//! Keys are sorted (serde_json's maps are ordered), lists keep the plan's order (namespace,
//! cluster, kind, name), and nothing depends on where the repository or the temporary export
//! lie. `version` changes only if a field changes meaning or disappears; new fields may be
//! added within a version. The README documents every field.

use serde_json::json;

use super::Base;
use super::plan::Plan;

/// The version of the JSON format. Version 2: `rollout.notifies` and `rollout.refreshes`; the
/// reasons `app`, `membership`, `node-ids` and `endpoint` moved from restarts to refreshes (they
/// no longer restart anything), `events` went away, and `flavor` came.
pub const VERSION: u32 = 2;

pub fn render(plan: &Plan, base: &Base<'_>) -> String {
    let value = json!({
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
    });
    // Serialising a Value of strings, numbers and ordered maps cannot fail.
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
