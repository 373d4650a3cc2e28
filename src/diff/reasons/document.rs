//! What changed in a cluster's `configmeta.json`, the document running members of roles with a
//! setup package get anew in place: the app's configuration, membership ([`super::membership`])
//! and each role's flavor, of this cluster and of connected ones.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::fields::{at, brief, differences};
use super::membership::{connected, membership_reasons};
use super::{Reason, app_reasons};

/// The changes between two versions of a cluster's shared `configmeta.json`, one reason each;
/// a change none of them names is one `other` reason with the first field that differs.
pub fn document_reasons(cluster: &str, old: &Value, new: &Value) -> Vec<Reason> {
    let mut reasons = app_reasons(&app_part(old), &app_part(new));
    reasons.extend(membership_reasons(old, new, cluster));
    reasons.extend(flavor_reasons(cluster, old, new));
    let (old_connected, new_connected) = (connected(old), connected(new));
    for (name, before) in &old_connected {
        if let Some(after) = new_connected.get(name) {
            reasons.extend(flavor_reasons(name, before, after));
        }
    }
    if reasons.is_empty() && old != new {
        let mut changes = Vec::new();
        differences("", old, new, &mut changes);
        let field = changes.first().map_or("", |c| c.field.as_str());
        reasons.push(Reason::Other {
            detail: format!("configmeta.json: {field}"),
        });
    }
    reasons
}

/// The app's configuration as `configmeta.json` carries it, named as in the app.
fn app_part(document: &Value) -> Value {
    json!({
        "configMeta": at(document, "/nodegroups/1/config_metadata"),
        "version": at(document, "/nodegroups/1/catalog_entry_version"),
        "distroID": at(document, "/nodegroups/1/distro_id"),
    })
}

/// The flavor fields that changed, for the roles of one cluster that have members on both
/// sides (a role that comes or goes is a membership change).
fn flavor_reasons(cluster: &str, old: &Value, new: &Value) -> Vec<Reason> {
    let roles = |document: &Value| -> BTreeSet<String> {
        at(document, "/nodegroups/1/roles")
            .as_object()
            .map(|roles| roles.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (before, after) = (roles(old), roles(new));
    let mut reasons = Vec::new();
    for role in before.intersection(&after) {
        let pointer = format!("/nodegroups/1/roles/{role}/flavor");
        let mut changes = Vec::new();
        differences("", at(old, &pointer), at(new, &pointer), &mut changes);
        reasons.extend(changes.into_iter().map(|c| Reason::Flavor {
            cluster: cluster.to_string(),
            role: role.clone(),
            field: c.field,
            from: brief(&c.before),
            to: brief(&c.after),
        }));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(memory: &str, tuning: &str) -> Value {
        json!({
            "nodegroups": {"1": {
                "distro_id": "d", "catalog_entry_version": "1.0",
                "config_metadata": {"tuning": tuning},
                "roles": {"r": {"fqdns": ["r-0.x"], "node_ids": ["1"], "flavor": {"memory": memory, "cores": "1"}}},
            }},
            "cluster": {"name": "c"},
        })
    }

    #[test]
    fn the_apps_configuration_and_flavors_are_named() {
        let reasons = document_reasons(
            "c",
            &document("1024", "standard"),
            &document("2048", "fast"),
        );
        assert_eq!(
            reasons,
            [
                Reason::App {
                    field: "configMeta.tuning".into(),
                    from: Some("standard".into()),
                    to: Some("fast".into()),
                    lines: None,
                },
                Reason::Flavor {
                    cluster: "c".into(),
                    role: "r".into(),
                    field: "memory".into(),
                    from: Some("1024".into()),
                    to: Some("2048".into()),
                },
            ]
        );
    }

    #[test]
    fn any_other_change_is_named_by_its_first_field() {
        let old = document("1024", "standard");
        let mut new = old.clone();
        new["cluster"]["name"] = json!("d");
        assert_eq!(
            document_reasons("c", &old, &new),
            [Reason::Other {
                detail: "configmeta.json: cluster.name".into()
            }]
        );
        assert!(document_reasons("c", &old, &old).is_empty());
    }
}
