//! The plan as text for reviewers (optionally coloured) and as JSON for bots.
//!
//! JSON format (`version` 1; keys sorted; lists in plan order):
//!
//! ```text
//! { "version": 1, "changed": bool,
//!   "base": {"revision": "HEAD", "commit": "<sha>" | null}, "path": "<PATH in the repository>",
//!   "rollout": { "restarts": [{namespace, cluster, kind, name, role, reasons: [...]}],
//!                "scales": [{namespace, cluster, kind, name, from, to}],
//!                "creates": [object], "prunes": [object] },
//!   "warnings": [{namespace, cluster, kind, name, warning, message}],
//!   "objects": { "added": [object], "removed": [object], "changed": [{..object, diff}] } }
//! ```
//!
//! A reason is `{"kind": "file", path, template, change, members?}`, `{"kind": "setting",
//! field, from, to}`, `{"kind": "app", field, from, to}`, `{"kind": "membership", cluster, role,
//! from, to, added, removed}` or `{"kind": "other", detail}`.

use std::fmt::Write as _;

use serde_json::json;

use super::plan::{Plan, Reason};

/// Where the comparison starts from, for the header.
pub struct Base<'a> {
    pub revision: &'a str,
    pub commit: Option<&'a str>,
    pub path: &'a str,
}

pub fn json(plan: &Plan, base: &Base<'_>) -> String {
    let value = json!({
        "version": 1,
        "changed": !plan.is_empty(),
        "base": {"revision": base.revision, "commit": base.commit},
        "path": base.path,
        "rollout": {
            "restarts": plan.restarts,
            "scales": plan.scales,
            "creates": plan.creates,
            "prunes": plan.removed,
        },
        "warnings": plan.warnings,
        "objects": {
            "added": plan.added,
            "removed": plan.removed,
            "changed": plan.changed,
        },
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_string()
        }
    }
}

fn reason_text(reason: &Reason) -> String {
    let values = |from: &Option<String>, to: &Option<String>| match (from, to) {
        (Some(f), Some(t)) => format!("{f} → {t}"),
        (None, Some(t)) => format!("added: {t}"),
        (Some(f), None) => format!("removed (was {f})"),
        (None, None) => "changed".to_string(),
    };
    match reason {
        Reason::File {
            path,
            template,
            change,
            members,
        } => {
            let whom = match members {
                Some(list) => format!(
                    " for member{} {}",
                    if list.len() == 1 { "" } else { "s" },
                    list.iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => String::new(),
            };
            format!("config file {path} {change}{whom} (template {template})")
        }
        Reason::Setting { field, from, to } => format!("{field}: {}", values(from, to)),
        Reason::App { field, from, to } => format!("app {field}: {}", values(from, to)),
        Reason::Membership {
            cluster,
            role,
            from,
            to,
            added,
            removed,
        } => {
            let mut text = format!("members of {cluster}/{role}: {from} → {to}");
            if !added.is_empty() {
                let _ = write!(text, "; added {}", added.join(", "));
            }
            if !removed.is_empty() {
                let _ = write!(text, "; removed {}", removed.join(", "));
            }
            text
        }
        Reason::Other { detail } => detail.clone(),
    }
}

pub fn text(plan: &Plan, base: &Base<'_>, color: bool) -> String {
    let paint = Paint { on: color };
    let mut out = String::new();
    let from = match base.commit {
        Some(commit) => format!("{} ({})", base.revision, super::git::short(commit)),
        None => format!("{} (no commits yet)", base.revision),
    };
    let shown_path = if base.path.is_empty() { "." } else { base.path };
    let _ = writeln!(out, "kdrender diff: {from} → working tree, {shown_path}");
    if plan.is_empty() {
        let _ = writeln!(
            out,
            "\nNo changes: the working tree renders exactly what the base renders."
        );
        return out;
    }

    let _ = writeln!(out, "\n{}", paint.wrap("1", "Rollout plan"));
    if plan.restarts.is_empty()
        && plan.scales.is_empty()
        && plan.creates.is_empty()
        && plan.removed.is_empty()
    {
        let _ = writeln!(out, "  nothing restarts, scales, starts or is pruned");
    }
    for restart in &plan.restarts {
        let _ = writeln!(
            out,
            "  {}  {}/{} (cluster {}, role {})",
            paint.wrap("33", "restart"),
            restart.object.namespace,
            restart.object.name,
            restart.object.cluster,
            restart.role
        );
        for reason in &restart.reasons {
            let _ = writeln!(out, "           - {}", reason_text(reason));
        }
    }
    for scale in &plan.scales {
        let _ = writeln!(
            out,
            "  {}    {}/{}: {} → {} members",
            paint.wrap("36", "scale"),
            scale.object.namespace,
            scale.object.name,
            scale.from,
            scale.to
        );
    }
    for create in &plan.creates {
        let _ = writeln!(
            out,
            "  {}   {}/{} (cluster {})",
            paint.wrap("32", "create"),
            create.namespace,
            create.name,
            create.cluster
        );
    }
    for prune in &plan.removed {
        let _ = writeln!(out, "  {}    {}", paint.wrap("31", "prune"), prune);
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\n{}", paint.wrap("1", "Warnings"));
        for warning in &plan.warnings {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                paint.wrap("31;1", "!"),
                warning.object,
                warning.message
            );
        }
    }
    let _ = writeln!(
        out,
        "\nObjects: {} added, {} removed, {} changed",
        plan.added.len(),
        plan.removed.len(),
        plan.changed.len()
    );
    for added in &plan.added {
        let _ = writeln!(out, "  + {added}");
    }
    for removed in &plan.removed {
        let _ = writeln!(out, "  - {removed}");
    }
    for changed in &plan.changed {
        let name = format!(
            "{}/{}/{}",
            changed.object.namespace, changed.object.kind, changed.object.name
        );
        let _ = writeln!(out, "\n{}", paint.wrap("1", &format!("--- base/{name}")));
        let _ = writeln!(
            out,
            "{}",
            paint.wrap("1", &format!("+++ working-tree/{name}"))
        );
        for line in changed.diff.lines() {
            let painted = match line.chars().next() {
                Some('+') => paint.wrap("32", line),
                Some('-') => paint.wrap("31", line),
                Some('@') => paint.wrap("36", line),
                _ => line.to_string(),
            };
            let _ = writeln!(out, "{painted}");
        }
    }
    out
}
