//! The fleet parts of the text: the summary the review leads with, each group's header (its
//! clusters, or their count and the first few), and `--stat`'s counts per object.

use super::Report;
use crate::diff::fleet::{Group, Stat};
use crate::diff::plan::{ObjectRef, Plan};
use crate::diff::summary::{Summary, pod_outcomes};

/// A group lists its clusters whole up to this many; beyond, the first [`FIRST_CLUSTERS`] and
/// the count of the rest.
const LISTED_CLUSTERS: usize = 8;
const FIRST_CLUSTERS: usize = 5;

/// The summary: clusters, objects, StatefulSets, warnings.
pub(super) fn summary(report: &mut Report, summary: &Summary) {
    report.blank();
    report.styled_line("1", "Summary");
    for (what, figures) in summary.lines() {
        report.line(&format!("  {what:<13} {figures}"));
    }
}

/// The group's clusters; for several, that their change is shown once, for the first.
pub(super) fn header(report: &mut Report, group: &Group) {
    report.blank();
    let names: Vec<String> = group.clusters.iter().map(ToString::to_string).collect();
    match names.as_slice() {
        [one] => report.styled_line("1", &format!("Cluster {one}")),
        [first, ..] => {
            let listed = if names.len() <= LISTED_CLUSTERS {
                names.join(", ")
            } else {
                let shown = names.get(..FIRST_CLUSTERS).unwrap_or_default();
                let rest = names.len().saturating_sub(FIRST_CLUSTERS);
                format!("{} and {rest} more", shown.join(", "))
            };
            report.styled_line("1", &format!("{} clusters: {listed}", names.len()));
            report.line(&format!(
                "  the same change in each, shown for {first}; names, ids and rollout hashes are each cluster's own"
            ));
        }
        [] => {}
    }
}

/// `--stat`: one line per object added, removed or changed, then the group's totals.
pub(super) fn stat(report: &mut Report, plan: &Plan) {
    let mut rows: Vec<(&ObjectRef, String)> = Vec::new();
    let mut total = Stat::default();
    for changed in &plan.changed {
        let stat = Stat::of_diff(&changed.diff);
        total.insertions = total.insertions.saturating_add(stat.insertions);
        total.deletions = total.deletions.saturating_add(stat.deletions);
        rows.push((
            &changed.object,
            format!("+{} -{}", stat.insertions, stat.deletions),
        ));
    }
    rows.extend(plan.added.iter().map(|o| (o, "added".to_string())));
    rows.extend(plan.removed.iter().map(|o| (o, "removed".to_string())));
    rows.sort();
    let outcomes: Vec<_> = pod_outcomes(plan).collect();
    let named = |o: &ObjectRef| format!("{}/{}", o.kind, o.name);
    let width = rows.iter().map(|(o, _)| named(o).chars().count()).max();
    for (object, counts) in &rows {
        let mut line = format!(
            "  {:<width$} | {counts}",
            named(object),
            width = width.unwrap_or(0)
        );
        for (_, outcome) in outcomes.iter().filter(|(o, _)| o == object) {
            line.push_str(&format!(", {}", outcome.label()));
        }
        report.line(&line);
    }
    report.line(&format!(
        "  {} added, {} removed, {} changed; {} insertion{}(+), {} deletion{}(-)",
        plan.added.len(),
        plan.removed.len(),
        plan.changed.len(),
        total.insertions,
        plural(total.insertions),
        total.deletions,
        plural(total.deletions),
    ));
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
