//! The plan in figures, which the review leads with: clusters changed and in how many distinct
//! ways, objects added, removed and changed, what happens to StatefulSets' pods, warnings by
//! kind.
//!
//! What happens to a StatefulSet's pods is the plan's own classification, read in one place
//! ([`pod_outcomes`]), never derived again here.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::fleet::Group;
use super::plan::{ObjectRef, Plan, WarningKind};

/// What the plan says happens to a changed StatefulSet's running pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PodOutcome {
    /// Replaced one by one (its pod template changed).
    Restarted,
    /// Kept running; their setup runner is told of a membership or connection change.
    NotifiedInPlace,
}

impl PodOutcome {
    /// Every outcome, in the order the summary lists them.
    pub const ALL: [PodOutcome; 2] = [PodOutcome::Restarted, PodOutcome::NotifiedInPlace];

    /// The key the JSON uses.
    pub fn key(self) -> &'static str {
        match self {
            PodOutcome::Restarted => "restarted",
            PodOutcome::NotifiedInPlace => "notified_in_place",
        }
    }

    /// The words the text uses.
    pub fn label(self) -> &'static str {
        match self {
            PodOutcome::Restarted => "restarted",
            PodOutcome::NotifiedInPlace => "notified in place",
        }
    }
}

/// Each StatefulSet the plan classifies, with its outcome as the plan classifies it.
pub fn pod_outcomes(plan: &Plan) -> impl Iterator<Item = (&ObjectRef, PodOutcome)> + '_ {
    let restarted = plan
        .restarts
        .iter()
        .map(|restart| (&restart.object, PodOutcome::Restarted));
    let notified = plan
        .notifies
        .iter()
        .map(|notify| (&notify.object, PodOutcome::NotifiedInPlace));
    restarted.chain(notified)
}

/// The figures of a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Clusters with any change, and the distinct changes among them (groups).
    pub clusters: usize,
    pub groups: usize,
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    /// StatefulSets by what happens to their pods, every outcome listed (zero or not).
    pub pods: BTreeMap<PodOutcome, usize>,
    pub scaled: usize,
    pub created: usize,
    /// StatefulSets removed.
    pub pruned: usize,
    /// Warnings by kind (only the kinds that occur).
    pub warnings: BTreeMap<WarningKind, usize>,
}

impl Summary {
    pub fn of(plan: &Plan, groups: &[Group]) -> Summary {
        let mut pods: BTreeMap<PodOutcome, usize> = PodOutcome::ALL
            .iter()
            .map(|&outcome| (outcome, 0))
            .collect();
        for (_, outcome) in pod_outcomes(plan) {
            let count = pods.entry(outcome).or_default();
            *count = count.saturating_add(1);
        }
        let mut warnings: BTreeMap<WarningKind, usize> = BTreeMap::new();
        for warning in &plan.warnings {
            let count = warnings.entry(warning.warning).or_default();
            *count = count.saturating_add(1);
        }
        Summary {
            clusters: groups.iter().map(|group| group.clusters.len()).sum(),
            groups: groups.len(),
            added: plan.added.len(),
            removed: plan.removed.len(),
            changed: plan.changed.len(),
            pods,
            scaled: plan.scales.len(),
            created: plan.creates.len(),
            pruned: plan
                .removed
                .iter()
                .filter(|object| object.kind == "StatefulSet")
                .count(),
            warnings,
        }
    }

    pub fn warning_count(&self) -> usize {
        self.warnings.values().sum()
    }

    /// The summary's lines, without indentation: clusters, objects, StatefulSets, warnings.
    pub fn lines(&self) -> [(&'static str, String); 4] {
        let pods: Vec<String> = self
            .pods
            .iter()
            .map(|(outcome, count)| format!("{count} {}", outcome.label()))
            .collect();
        let warnings = if self.warnings.is_empty() {
            "none".to_string()
        } else {
            let kinds: Vec<String> = self
                .warnings
                .iter()
                .map(|(kind, count)| format!("{count} {}", kind_name(*kind)))
                .collect();
            format!("{}: {}", self.warning_count(), kinds.join(", "))
        };
        [
            (
                "clusters",
                format!(
                    "{} changed, {} distinct change{}",
                    self.clusters,
                    self.groups,
                    if self.groups == 1 { "" } else { "s" }
                ),
            ),
            (
                "objects",
                format!(
                    "{} added, {} removed, {} changed",
                    self.added, self.removed, self.changed
                ),
            ),
            (
                "StatefulSets",
                format!(
                    "{}; {} scaled, {} created, {} pruned",
                    pods.join(", "),
                    self.scaled,
                    self.created,
                    self.pruned
                ),
            ),
            ("warnings", warnings),
        ]
    }

    /// The summary as JSON.
    pub fn json(&self) -> Value {
        let mut statefulsets: serde_json::Map<String, Value> = self
            .pods
            .iter()
            .map(|(outcome, count)| (outcome.key().to_string(), json!(count)))
            .collect();
        statefulsets.insert("scaled".into(), json!(self.scaled));
        statefulsets.insert("created".into(), json!(self.created));
        statefulsets.insert("pruned".into(), json!(self.pruned));
        let warnings: serde_json::Map<String, Value> = self
            .warnings
            .iter()
            .map(|(kind, count)| (kind_name(*kind).to_string(), json!(count)))
            .collect();
        json!({
            "clusters": self.clusters,
            "groups": self.groups,
            "objects": {"added": self.added, "removed": self.removed, "changed": self.changed},
            "statefulsets": statefulsets,
            "warnings": {"total": self.warning_count(), "by_kind": warnings},
        })
    }
}

/// A warning kind's name, as the JSON format spells it.
fn kind_name(kind: WarningKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::plan::{Restart, Warning};

    fn object(kind: &str, name: &str) -> ObjectRef {
        ObjectRef {
            namespace: "prod".into(),
            cluster: "db".into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    #[test]
    fn the_figures_follow_the_plans_own_lists() {
        let mut plan = Plan::default();
        plan.restarts.push(Restart {
            object: object("StatefulSet", "db-worker"),
            role: "worker".into(),
            reasons: Vec::new(),
        });
        plan.removed = vec![object("Service", "db-x"), object("StatefulSet", "db-x")];
        for field in ["spec.selector", "spec.serviceName"] {
            plan.warnings.push(Warning {
                object: object("StatefulSet", "db-worker"),
                warning: WarningKind::ImmutableField,
                field: Some(field.into()),
                message: String::new(),
            });
        }
        plan.notifies.push(crate::diff::inplace::Notify {
            object: object("StatefulSet", "db-coordinator"),
            role: "coordinator".into(),
            members: vec![0, 1],
            events: Vec::new(),
        });
        let summary = Summary::of(&plan, &[]);
        assert_eq!(summary.pods.get(&PodOutcome::Restarted), Some(&1));
        assert_eq!(summary.pods.get(&PodOutcome::NotifiedInPlace), Some(&1));
        assert_eq!(summary.json()["statefulsets"]["notified_in_place"], 1);
        assert_eq!(summary.pruned, 1);
        let lines = summary.lines();
        assert_eq!(lines[1].1, "0 added, 2 removed, 0 changed");
        assert_eq!(
            lines[2].1,
            "1 restarted, 1 notified in place; 0 scaled, 0 created, 1 pruned"
        );
        assert_eq!(lines[3].1, "2: 2 immutable-field");
        assert_eq!(summary.json()["warnings"]["by_kind"]["immutable-field"], 2);
        // Every outcome is listed, even when none occurs.
        let empty = Summary::of(&Plan::default(), &[]);
        assert_eq!(
            empty.lines()[2].1,
            "0 restarted, 0 notified in place; 0 scaled, 0 created, 0 pruned"
        );
        assert_eq!(empty.lines()[3].1, "none");
    }
}
