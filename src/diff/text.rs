//! The plan as text, for reviewers: the rollout plan first (what restarts and why, what scales,
//! starts and is pruned), then warnings, then every object added, removed or changed, with a
//! unified diff per changed object. ANSI colour only when asked for (or on a terminal).

use std::fmt::Write as _;

use super::Base;
use super::plan::Plan;
use super::reasons::{Lines, Reason};

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

fn values(from: Option<&String>, to: Option<&String>, lines: Option<&Lines>) -> String {
    if let Some(lines) = lines {
        let mut shown: Vec<String> = lines.removed.iter().map(|l| format!("-{l}")).collect();
        shown.extend(lines.added.iter().map(|l| format!("+{l}")));
        return if shown.is_empty() {
            "changed".to_string()
        } else {
            format!("lines {}", shown.join(" | "))
        };
    }
    match (from, to) {
        (Some(f), Some(t)) => format!("{f} → {t}"),
        (None, Some(t)) => format!("added ({t})"),
        (Some(f), None) => format!("removed (was {f})"),
        (None, None) => "changed".to_string(),
    }
}

/// One reason as a line of text.
pub fn reason(reason: &Reason) -> String {
    match reason {
        Reason::File {
            path,
            template,
            change,
            members,
            from,
            to,
            lines,
        } => {
            let what = match (*change, members) {
                ("mode", _) => format!("mode {}", values(from.as_ref(), to.as_ref(), None)),
                (change, Some(list)) => format!(
                    "{change} for member{} {}",
                    if list.len() == 1 { "" } else { "s" },
                    list.iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                (change, None) => change.to_string(),
            };
            match lines {
                Some(lines) => format!(
                    "config file {path} {what} (template {template}): {}",
                    values(None, None, Some(lines))
                ),
                None => format!("config file {path} {what} (template {template})"),
            }
        }
        Reason::Setting {
            setting,
            field,
            from,
            to,
            lines,
        } => format!(
            "{setting}: {field}: {}",
            values(from.as_ref(), to.as_ref(), lines.as_ref())
        ),
        Reason::App {
            field,
            from,
            to,
            lines,
        } => format!(
            "app {field}: {}",
            values(from.as_ref(), to.as_ref(), lines.as_ref())
        ),
        Reason::Events { membership: true } => {
            "the role now takes addnodes/delnodes events: membership changes restart it".into()
        }
        Reason::Events { membership: false } => {
            "the role no longer takes addnodes/delnodes events: membership changes no longer restart it".into()
        }
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
        Reason::NodeIds {
            cluster,
            role,
            from,
            to,
        } => format!(
            "node ids of {cluster}/{role}: {} → {}",
            from.join(", "),
            to.join(", ")
        ),
        Reason::Endpoint {
            cluster,
            role,
            service,
            from,
            to,
        } => format!(
            "endpoint {service} of {cluster}/{role}: {}",
            values(from.as_ref(), to.as_ref(), None)
        ),
        Reason::Other { detail } => detail.clone(),
    }
}

pub fn render(plan: &Plan, base: &Base<'_>, color: bool) -> String {
    let paint = Paint { on: color };
    let mut out = String::new();
    let from = match base.commit {
        Some(commit) => format!("{} ({})", base.revision, super::git::short(commit)),
        None => format!("{} (no commits yet)", base.revision),
    };
    let _ = writeln!(
        out,
        "kdrender diff: {from} → working tree, {}",
        base.shown_path()
    );
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
        for r in &restart.reasons {
            let _ = writeln!(out, "           - {}", reason(r));
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
