//! The plan as text, for reviewers: a summary first ([`fleet`]), then each group of clusters that
//! change alike, shown once: its rollout plan (what restarts and why, what running members hear
//! of in place, whose `configmeta.json` changes in place, what scales, starts and is pruned), its
//! warnings, then every object added, removed or changed, with a unified diff per changed object
//! (with `--stat`, counts per object instead). ANSI colour only when asked for (or on a
//! terminal).
//!
//! Everything printed goes through [`visible`]: a character a terminal would act on or not show
//! (escape sequences, carriage returns, bidi overrides, zero-width characters) is written as a
//! `\u{…}` escape, so that a change cannot hide or fake lines of its own plan.

use std::fmt::Write as _;

mod fleet;

use super::Base;
use super::fleet::Group;
use super::inplace::{Notify, Refresh};
use super::plan::Plan;
use super::reasons::{FileChange, Lines, Reason};
use super::summary::Summary;
use crate::visible::visible;

/// The report being written. Every piece goes through [`visible`] and, with colour on, is wrapped
/// in its ANSI style, so the only escape sequences and line breaks in the output are its own.
struct Report {
    out: String,
    color: bool,
}

impl Report {
    fn piece(&mut self, style: Option<&str>, text: &str) {
        let text = visible(text);
        match style {
            Some(code) if self.color => {
                let _ = write!(self.out, "\u{1b}[{code}m{text}\u{1b}[0m");
            }
            _ => self.out.push_str(&text),
        }
    }

    fn line(&mut self, text: &str) {
        self.piece(None, text);
        self.out.push('\n');
    }

    fn styled_line(&mut self, style: &str, text: &str) {
        self.piece(Some(style), text);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        self.out.push('\n');
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
            let what = file_change(*change, members.as_deref(), from.as_ref(), to.as_ref());
            with_lines(
                format!("config file {path} {what} (template {template})"),
                lines,
            )
        }
        Reason::Setting {
            setting,
            field,
            from,
            to,
            lines,
        } => format!("{setting}: {field}: {}", shown(from, to, lines)),
        Reason::App {
            field,
            from,
            to,
            lines,
        } => format!("app {field}: {}", shown(from, to, lines)),
        Reason::Membership {
            cluster,
            role,
            from,
            to,
            added,
            removed,
        } => membership(&format!("{cluster}/{role}"), (*from, *to), added, removed),
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
            shown(from, to, &None)
        ),
        Reason::Flavor {
            cluster,
            role,
            field,
            from,
            to,
        } => format!(
            "flavor of {cluster}/{role}: {field}: {}",
            shown(from, to, &None)
        ),
        Reason::Patch { at, change } => format!("patch {at} {change}"),
        Reason::Other { detail } => detail.clone(),
    }
}

/// `text`, then the lines that changed, if any.
fn with_lines(text: String, lines: &Option<Lines>) -> String {
    match lines {
        Some(lines) => format!("{text}: {}", values(None, None, Some(lines))),
        None => text,
    }
}

/// A change's values, or the lines that changed.
fn shown(from: &Option<String>, to: &Option<String>, lines: &Option<Lines>) -> String {
    values(from.as_ref(), to.as_ref(), lines.as_ref())
}

/// What happened to a config file: `added`, `mode 0644 → 0755`, `changed for members 0, 2`…
fn file_change(
    change: FileChange,
    members: Option<&[usize]>,
    from: Option<&String>,
    to: Option<&String>,
) -> String {
    match (change, members) {
        (FileChange::Mode, _) => format!("mode {}", values(from, to, None)),
        (change, Some(members)) => format!(
            "{change} for member{} {}",
            if members.len() == 1 { "" } else { "s" },
            list(members)
        ),
        (change, None) => change.to_string(),
    }
}

/// `members of C/R: 2 → 3; added …; removed …`.
fn membership(
    role: &str,
    (from, to): (usize, usize),
    added: &[String],
    removed: &[String],
) -> String {
    let mut text = format!("members of {role}: {from} → {to}");
    if !added.is_empty() {
        let _ = write!(text, "; added {}", added.join(", "));
    }
    if !removed.is_empty() {
        let _ = write!(text, "; removed {}", removed.join(", "));
    }
    text
}

/// The report: the header, the summary, then each group of clusters that change alike, with the
/// first one's rollout plan, warnings and objects (with `stat`, counts per object instead).
pub fn render(plan: &Plan, groups: &[Group], base: &Base<'_>, color: bool, stat: bool) -> String {
    let mut report = Report {
        out: String::new(),
        color,
    };
    let from = match base.commit {
        Some(commit) => format!("{} ({})", base.revision, super::git::short(commit)),
        None => format!("{} (no commits yet)", base.revision),
    };
    report.line(&format!(
        "kdrender diff: {from} → working tree, {}",
        base.shown_path()
    ));
    if plan.is_empty() {
        report.blank();
        report.line("No changes: the working tree renders exactly what the base renders.");
        return report.out;
    }
    fleet::summary(&mut report, &Summary::of(plan, groups));
    for group in groups {
        fleet::header(&mut report, group);
        if stat {
            fleet::stat(&mut report, &group.plan);
        } else {
            rollout_plan(&mut report, &group.plan);
            warnings(&mut report, &group.plan);
            objects(&mut report, &group.plan);
        }
    }
    report.out
}

/// Changes Kubernetes refuses in place, or that lose data.
fn warnings(report: &mut Report, plan: &Plan) {
    if plan.warnings.is_empty() {
        return;
    }
    report.blank();
    report.styled_line("1", "Warnings");
    for warning in &plan.warnings {
        report.piece(None, "  ");
        report.piece(Some("31;1"), "!");
        report.line(&format!(" {}: {}", warning.object, warning.message));
    }
}

/// What restarts and why, what running members get in place, what scales, starts and is pruned.
fn rollout_plan(report: &mut Report, plan: &Plan) {
    report.blank();
    report.styled_line("1", "Rollout plan");
    if plan.restarts.is_empty()
        && plan.notifies.is_empty()
        && plan.refreshes.is_empty()
        && plan.scales.is_empty()
        && plan.creates.is_empty()
        && plan.adopts.is_empty()
        && plan.removed.is_empty()
    {
        report.line(
            "  nothing restarts, scales, starts or is pruned, and no running member hears of it",
        );
    }
    for restart in &plan.restarts {
        report.piece(None, "  ");
        report.piece(Some("33"), "restart");
        report.line(&format!(
            "  {}/{} (cluster {}, role {})",
            restart.object.namespace, restart.object.name, restart.object.cluster, restart.role
        ));
        for r in &restart.reasons {
            report.line(&format!("           - {}", reason(r)));
        }
    }
    for notify in &plan.notifies {
        notify_lines(report, notify);
    }
    for refresh in &plan.refreshes {
        refresh_lines(report, refresh);
    }
    for scale in &plan.scales {
        report.piece(None, "  ");
        report.piece(Some("36"), "scale");
        report.line(&format!(
            "    {}/{}: {} → {} members",
            scale.object.namespace, scale.object.name, scale.from, scale.to
        ));
    }
    for create in &plan.creates {
        report.piece(None, "  ");
        report.piece(Some("32"), "create");
        report.line(&format!(
            "   {}/{} (cluster {})",
            create.namespace, create.name, create.cluster
        ));
    }
    for adopt in &plan.adopts {
        report.piece(None, "  ");
        report.piece(Some("32"), "adopt");
        report.line(&adoption_line(adopt));
    }
    for prune in &plan.removed {
        report.piece(None, "  ");
        report.piece(Some("31"), "prune");
        report.line(&format!("    {prune}"));
    }
}

/// A StatefulSet that takes over a live KubeDirector role: what it takes over.
fn adoption_line(adopt: &super::adoption::Adopt) -> String {
    let object = &adopt.object;
    let mut line = format!(
        "    {}/{} (cluster {}, role {}): takes over KubeDirector's {} {}",
        object.namespace,
        object.name,
        object.cluster,
        adopt.role,
        if adopt.pods.len() == 1 { "pod" } else { "pods" },
        super::adoption::shown(&adopt.pods),
    );
    if !adopt.claims.is_empty() {
        let volumes = if adopt.claims.len() == 1 {
            "its volume"
        } else {
            "the volumes"
        };
        let claims = super::adoption::shown(&adopt.claims);
        let _ = write!(line, " and binds {volumes} {claims} again");
    }
    line
}

/// A role whose running members' startscript is called in place, and with what.
fn notify_lines(report: &mut Report, notify: &Notify) {
    report.piece(None, "  ");
    report.piece(Some("35"), "notify");
    report.line(&format!(
        "   {}/{} (cluster {}, role {}): in place, in member{} {}",
        notify.object.namespace,
        notify.object.name,
        notify.object.cluster,
        notify.role,
        if notify.members.len() == 1 { "" } else { "s" },
        list(&notify.members)
    ));
    for event in &notify.events {
        report.line(&format!(
            "           - startscript {}",
            event.arguments.join(" ")
        ));
    }
}

/// A cluster whose `configmeta.json` changes in running members, and what changes.
fn refresh_lines(report: &mut Report, refresh: &Refresh) {
    let keep = |roles: &[String]| {
        format!(
            "the running members of {} keep the one they started with (no setup package)",
            roles.join(", ")
        )
    };
    let whose = match (refresh.refreshed.is_empty(), refresh.stale.is_empty()) {
        (false, true) => format!(
            "rewritten in place in the running members of {}",
            refresh.refreshed.join(", ")
        ),
        (false, false) => format!(
            "rewritten in place in the running members of {}; {}",
            refresh.refreshed.join(", "),
            keep(&refresh.stale)
        ),
        (true, false) => format!("changes; {}", keep(&refresh.stale)),
        (true, true) => "changes; the members that restart start with the new one".to_string(),
    };
    report.piece(None, "  ");
    report.piece(Some("35"), "refresh");
    report.line(&format!(
        "  {}/{} (cluster {}): configmeta.json {}",
        refresh.object.namespace, refresh.object.name, refresh.object.cluster, whose
    ));
    for change in &refresh.changes {
        report.line(&format!("           - {}", reason(change)));
    }
}

/// Numbers, comma-separated.
fn list(numbers: &[impl ToString]) -> String {
    numbers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The objects added, removed and changed, with a unified diff of each changed one.
fn objects(report: &mut Report, plan: &Plan) {
    report.blank();
    report.line(&format!(
        "Objects: {} added, {} removed, {} changed",
        plan.added.len(),
        plan.removed.len(),
        plan.changed.len()
    ));
    for added in &plan.added {
        report.line(&format!("  + {added}"));
    }
    for removed in &plan.removed {
        report.line(&format!("  - {removed}"));
    }
    for changed in &plan.changed {
        let name = format!(
            "{}/{}/{}",
            changed.object.namespace, changed.object.kind, changed.object.name
        );
        report.blank();
        report.styled_line("1", &format!("--- base/{name}"));
        report.styled_line("1", &format!("+++ working-tree/{name}"));
        // Split on newlines only (not `lines()`, which would drop a carriage return before one).
        for line in changed.diff.split_terminator('\n') {
            match line.chars().next() {
                Some('+') => report.styled_line("32", line),
                Some('-') => report.styled_line("31", line),
                Some('@') => report.styled_line("36", line),
                _ => report.line(line),
            }
        }
    }
}
