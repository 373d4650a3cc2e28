//! What reaches running members without a restart, as the setup runner (`render/setup.sh`)
//! delivers it in the members of roles with a setup package, once the kubelet has updated the
//! cluster's configmeta ConfigMap in their pods:
//!
//! - a [`Refresh`] per cluster whose `configmeta.json` changes: rewritten in the running members
//!   of those roles (the others keep the document they started with), with what changed;
//! - a [`Notify`] per such role: the startscript events its running members get, exactly as the
//!   runner sends them — `--reconnect` when the connected clusters changed, then role by role
//!   (in order of role id) `--delnodes` and `--addnodes` with the FQDNs removed and added, for
//!   the events the role takes.
//!
//! Running members are those a role has on both sides (ordinals below the smaller count).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::plan::ObjectRef;
use super::reasons::{Index, Reason, at, document_reasons};
use crate::render::names::{CONFIGMETA_KEY, CONNECTIONS_KEY, MEMBERSHIP_KEY};
use crate::render::{Kind, Object};

/// A role whose running members' startscript hears of the change.
#[derive(Clone, Debug, Serialize)]
pub struct Notify {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub role: String,
    /// The ordinals of the members that run before and after the change.
    pub members: Vec<u64>,
    pub events: Vec<Event>,
}

/// One call of the startscript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// `reconnect`, `delnodes` or `addnodes`.
    pub event: &'static str,
    /// The role whose members came or went (`null` for `reconnect`).
    pub role: Option<String>,
    pub fqdns: Vec<String>,
    /// The startscript's arguments, as the runner passes them.
    pub arguments: Vec<String>,
}

/// A cluster whose `configmeta.json` changes in running members.
#[derive(Clone, Debug, Serialize)]
pub struct Refresh {
    /// The cluster's configmeta ConfigMap.
    #[serde(flatten)]
    pub object: ObjectRef,
    /// Roles whose running members get the new document in place (they have a setup package).
    pub refreshed: Vec<String>,
    /// Roles whose running members keep the document they started with (no setup package, and
    /// no restart).
    pub stale: Vec<String>,
    pub changes: Vec<Reason>,
}

/// A role's StatefulSet on both sides, the members it runs on both, and the events its running
/// members' setup runner takes (`None`: they run none, the role had no setup package).
struct Running<'a> {
    after: &'a Object,
    members: u64,
    runner: Option<Vec<String>>,
}

impl Running<'_> {
    fn role(&self) -> String {
        self.after.role.clone().unwrap_or_default()
    }
}

/// The notifications and refreshes of every cluster rendered on both sides.
pub fn in_place(base: &Index<'_>, head: &Index<'_>) -> (Vec<Notify>, Vec<Refresh>) {
    let (mut notifies, mut refreshes) = (Vec::new(), Vec::new());
    for (key, after) in head {
        if key.0 != Kind::ConfigMap || at(&after.value, "/data").get(CONFIGMETA_KEY).is_none() {
            continue;
        }
        let Some(before) = base.get(key) else {
            continue;
        };
        let running = running_roles(after, base, head);
        refreshes.extend(refresh(before, after, &running));
        let (old, new) = (data(before), data(after));
        for role in &running {
            let Some(takes) = &role.runner else {
                continue;
            };
            let events = events(&old, &new, takes);
            if !events.is_empty() {
                notifies.push(Notify {
                    object: ObjectRef::of(role.after),
                    role: role.role(),
                    members: (0..role.members).collect(),
                    events,
                });
            }
        }
    }
    (notifies, refreshes)
}

/// The configmeta ConfigMap's data as text by key.
fn data(configmap: &Object) -> BTreeMap<String, String> {
    at(&configmap.value, "/data")
        .as_object()
        .map(|data| {
            data.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The StatefulSets of the ConfigMap's cluster that run members on both sides, in name order.
fn running_roles<'a>(configmap: &Object, base: &Index<'a>, head: &Index<'a>) -> Vec<Running<'a>> {
    let replicas = |o: &Object| at(&o.value, "/spec/replicas").as_u64().unwrap_or(0);
    head.iter()
        .filter(|(key, o)| {
            key.0 == Kind::StatefulSet
                && o.namespace == configmap.namespace
                && o.cluster == configmap.cluster
        })
        .filter_map(|(key, after)| {
            let before = base.get(key)?;
            let members = replicas(before).min(replicas(after));
            let runner = before.rollout.as_ref().and_then(|r| r.setup_events.clone());
            (members > 0).then_some(Running {
                after,
                members,
                runner,
            })
        })
        .collect()
}

/// The cluster's document, if it changes and members run, with the roles whose running members
/// get it.
fn refresh(before: &Object, after: &Object, running: &[Running<'_>]) -> Option<Refresh> {
    fn text(object: &Object) -> &str {
        let text = at(&object.value, &format!("/data/{CONFIGMETA_KEY}"));
        text.as_str().unwrap_or_default()
    }
    let (old, new) = (text(before), text(after));
    // The same text is the same document: most changes leave it alone, and parsing both
    // sides was a fifth of comparing a cluster.
    if old == new || running.is_empty() {
        return None;
    }
    let parse = |text: &str| serde_json::from_str(text).unwrap_or(Value::Null);
    let (old, new): (Value, Value) = (parse(old), parse(new));
    if old == new {
        return None;
    }
    let (refreshed, stale): (Vec<&Running<'_>>, Vec<&Running<'_>>) =
        running.iter().partition(|r| r.runner.is_some());
    Some(Refresh {
        object: ObjectRef::of(after),
        refreshed: refreshed.into_iter().map(Running::role).collect(),
        stale: stale.into_iter().map(Running::role).collect(),
        changes: document_reasons(&after.cluster, &old, &new),
    })
}

/// The startscript events for running members whose runner takes `takes`, from the ConfigMap's data on both
/// sides: `--reconnect`, then `--delnodes` and `--addnodes` per role in order of role id.
fn events(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
    takes: &[String],
) -> Vec<Event> {
    let text =
        |data: &BTreeMap<String, String>, key: &str| data.get(key).cloned().unwrap_or_default();
    let mut events = Vec::new();
    if text(old, CONNECTIONS_KEY) != text(new, CONNECTIONS_KEY) {
        events.push(Event {
            event: "reconnect",
            role: None,
            fqdns: Vec::new(),
            arguments: vec!["--reconnect".into()],
        });
    }
    let (before, after) = (
        members(&text(old, MEMBERSHIP_KEY)),
        members(&text(new, MEMBERSHIP_KEY)),
    );
    let roles: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let none = Vec::new();
    for role in roles {
        let (b, a) = (
            before.get(role).unwrap_or(&none),
            after.get(role).unwrap_or(&none),
        );
        for (event, fqdns) in [("delnodes", missing(b, a)), ("addnodes", missing(a, b))] {
            if !fqdns.is_empty() && takes.iter().any(|t| t == event) {
                events.push(membership_event(event, role, fqdns));
            }
        }
    }
    events
}

fn membership_event(event: &'static str, role: &str, fqdns: Vec<String>) -> Event {
    Event {
        event,
        role: Some(role.to_string()),
        arguments: [
            &format!("--{event}"),
            "--nodegroup",
            "1",
            "--role",
            role,
            "--fqdns",
            &fqdns.join(","),
        ]
        .map(String::from)
        .to_vec(),
        fqdns,
    }
}

/// The FQDNs of `from` that `other` lacks, in `from`'s order.
fn missing(from: &[String], other: &[String]) -> Vec<String> {
    from.iter()
        .filter(|f| !other.contains(f))
        .cloned()
        .collect()
}

/// The `<role> <fqdn>` lines of the membership key, by role.
fn members(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        if let Some((role, fqdn)) = line.split_once(' ') {
            roles
                .entry(role.to_string())
                .or_default()
                .push(fqdn.to_string());
        }
    }
    roles
}
