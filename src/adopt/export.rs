//! What `kubectl get kubedirectorcluster NAME -o yaml` prints, as far as adopting needs it: the
//! cluster's identity, the two settings that name objects, and KubeDirector's status
//! (`KubeDirectorClusterStatus` in bluek8s/kubedirector's
//! `pkg/apis/kubedirector/v1beta1/kubedirectorcluster_types.go`). Every field may be absent or
//! `null` (Go writes a nil list as `null`); the rules in `settled` say which must be there.
//! Everything else the export holds is ignored.

use serde::{Deserialize, Deserializer};

use crate::document::{Node, Value};

/// Absent and `null` both mean the default.
fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

#[derive(Debug, Default, Deserialize)]
pub struct Cluster {
    #[serde(default, deserialize_with = "or_default")]
    pub metadata: Metadata,
    #[serde(default, deserialize_with = "or_default")]
    pub spec: Spec,
    #[serde(default)]
    pub status: Option<Status>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    #[serde(default, deserialize_with = "or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "or_default")]
    pub namespace: String,
    #[serde(default, deserialize_with = "or_default")]
    pub uid: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    #[serde(default, deserialize_with = "or_default")]
    pub service_type: String,
    #[serde(default, deserialize_with = "or_default")]
    pub naming_scheme: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(default, deserialize_with = "or_default")]
    pub state: String,
    #[serde(default, deserialize_with = "or_default")]
    pub cluster_service: String,
    #[serde(rename = "lastNodeID", default, deserialize_with = "or_default")]
    pub last_node_id: i64,
    #[serde(default, deserialize_with = "or_default")]
    pub roles: Vec<RoleStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleStatus {
    #[serde(default, deserialize_with = "or_default")]
    pub id: String,
    #[serde(default, deserialize_with = "or_default")]
    pub stateful_set: String,
    #[serde(default, deserialize_with = "or_default")]
    pub members: Vec<MemberStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberStatus {
    #[serde(default, deserialize_with = "or_default")]
    pub pod: String,
    #[serde(default, deserialize_with = "or_default")]
    pub service: String,
    #[serde(default, deserialize_with = "or_default")]
    pub pvc: String,
    #[serde(default, deserialize_with = "or_default")]
    pub state: String,
    #[serde(rename = "nodeID", default, deserialize_with = "or_default")]
    pub node_id: i64,
    #[serde(default, deserialize_with = "or_default")]
    pub state_detail: StateDetail,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateDetail {
    #[serde(default, deserialize_with = "or_default")]
    pub pending_notify_cmds: Vec<serde_json::Value>,
}

/// A KubeDirectorCluster found in the export: where it is (a JSON pointer into its document:
/// `""`, or `/items/<i>` in a list) and its tree.
pub struct Found<'d> {
    pub pointer: String,
    pub node: &'d Node,
}

/// What the export holds besides clusters, for the report.
pub struct Other {
    pub pointer: String,
    pub kind: String,
}

pub const CLUSTER_KIND: &str = "KubeDirectorCluster";

/// The clusters of one document: the document itself, or the items of a `List` (what kubectl
/// prints for several objects) or `KubeDirectorClusterList`.
pub fn clusters<'d>(document: &'d Node, found: &mut Vec<Found<'d>>, others: &mut Vec<Other>) {
    let kind = document.get("kind").and_then(Node::as_str).unwrap_or("");
    let items = document.get("items").map(|items| &items.value);
    match (kind, items) {
        (CLUSTER_KIND, _) => found.push(Found {
            pointer: String::new(),
            node: document,
        }),
        ("List" | "KubeDirectorClusterList", Some(Value::Seq(items))) => {
            for (i, item) in items.iter().enumerate() {
                let pointer = format!("/items/{i}");
                match item.get("kind").and_then(Node::as_str) {
                    Some(CLUSTER_KIND) => found.push(Found {
                        pointer,
                        node: item,
                    }),
                    other => others.push(Other {
                        pointer,
                        kind: other.unwrap_or("").to_string(),
                    }),
                }
            }
        }
        _ => others.push(Other {
            pointer: String::new(),
            kind: kind.to_string(),
        }),
    }
}
