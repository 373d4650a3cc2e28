//! Resolve: from the model to each cluster's topology, with every name settled and checked.
//!
//! A cluster's namespace, its object names, its members' pod names, FQDNs and node ids are all
//! decided here, once, and checked against Kubernetes' rules: a StatefulSet name longer than 52
//! characters breaks its pods' `controller-revision-hash` label, Service names are DNS-1035
//! labels, label values have at most 63 characters. Two clusters with the same name in one
//! namespace are an error, as are connections to clusters that are not rendered.
//!
//! Node ids are derived, not counted: a member's id is `1000 × (role position in the app) +
//! ordinal + 1`, so it never depends on the size of another role.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{App, AppRole, Cluster, ClusterRole, Model};
use crate::names;
use crate::source::SourceMap;

/// The longest StatefulSet name whose pods still get a valid `controller-revision-hash` label
/// (`<name>-<10-character hash>` must fit in 63).
pub const MAX_STATEFULSET_NAME: usize = 52;

/// Most clusters one run renders. Every cluster costs a few kilobytes of output even without
/// members, so a few megabytes of tiny cluster documents must not fan out into gigabytes.
pub const MAX_CLUSTERS: usize = 10_000;
/// Most members, over all clusters, one run renders (each is a pod, a node section, usually a
/// Service, and an entry in its cluster's `configmeta.json`).
pub const MAX_MEMBERS: usize = 50_000;
/// Most members one cluster's `configmeta.json` may list, its own and those of the clusters it
/// connects to (each embedded whole). Each takes a few hundred bytes: more could never fit the
/// 1 MiB ConfigMap, and are refused before anything is rendered.
pub const MAX_LISTED_MEMBERS: usize = 5_000;

#[derive(Debug)]
pub struct Topology<'m> {
    pub cluster: &'m Cluster,
    pub app: &'m App,
    pub namespace: String,
    /// Name of the headless Service, which is also the DNS subdomain of every member.
    pub headless: String,
    /// `<headless>.<namespace>.svc.<cluster domain>`.
    pub domain: String,
    /// Every role of the app, in the app's order, members or not.
    pub roles: Vec<RoleTopology<'m>>,
    /// Indices (into the list of topologies) of connected clusters that are rendered too.
    pub connections: Vec<usize>,
}

#[derive(Debug)]
pub struct RoleTopology<'m> {
    pub app_role: &'m AppRole,
    /// The cluster's settings for this role; `None` when the cluster leaves the role out.
    pub cluster_role: Option<&'m ClusterRole>,
    /// `<cluster>-<role>`, also the StatefulSet's and the PodDisruptionBudget's name.
    pub name: String,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub ordinal: u32,
    /// Pod name, which is also the per-member Service's name and the host name.
    pub name: String,
    pub fqdn: String,
    pub node_id: u32,
}

impl Topology<'_> {
    pub fn role(&self, id: &str) -> Option<&RoleTopology<'_>> {
        self.roles.iter().find(|r| r.app_role.id == id)
    }

    /// Roles that have members: the ones that get a StatefulSet.
    pub fn active_roles(&self) -> impl Iterator<Item = &RoleTopology<'_>> {
        self.roles.iter().filter(|r| !r.members.is_empty())
    }

    /// Stable identity of the cluster (KubeDirector used the object's UID).
    pub fn cluster_id(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{}/{}", self.namespace, self.cluster.name).as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }
}

/// Resolves every cluster; clusters with naming problems are reported and left out.
pub fn resolve<'m>(
    model: &'m Model,
    sources: &SourceMap,
    diagnostics: &mut Diagnostics,
) -> Vec<Topology<'m>> {
    let settings = &model.settings;
    let mut topologies: Vec<Topology<'m>> = Vec::new();
    let mut by_name: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut members_in_run = 0usize;
    if let Some(cluster) = model.clusters.get(MAX_CLUSTERS) {
        diagnostics.push(
            Diagnostic::error(format!(
                "more than {MAX_CLUSTERS} clusters to render in one run (this is cluster {})",
                MAX_CLUSTERS + 1
            ))
            .at(cluster.origin)
            .help("split the repository into several Applications or folders"),
        );
        return Vec::new();
    }
    for cluster in &model.clusters {
        let errors_before = diagnostics.error_count();
        let app = model.app_of(cluster);
        let namespace = cluster
            .namespace
            .clone()
            .unwrap_or_else(|| settings.namespace.clone());
        let headless = names::munge(&cluster.name);
        let name_error = |message: String| Diagnostic::error(message).at(cluster.origin);
        let headless_ok = names::check_dns1035_label(&headless).is_ok();
        if let Err(message) = names::check_dns1035_label(&headless) {
            diagnostics.push(
                name_error(format!(
                    "cluster name \"{}\" cannot name its Service: {message} (DNS-1035)",
                    cluster.name
                ))
                .help("Service names are at most 63 characters and begin with a letter; rename the cluster"),
            );
        }
        for (label, value) in [
            ("kubedirector.hpe.com/kdcluster", cluster.name.as_str()),
            ("kubedirector.hpe.com/kdapp", app.name.as_str()),
            ("app.kubernetes.io/version", app.version.as_str()),
        ] {
            if let Err(message) = names::check_label_value(value) {
                diagnostics.push(
                    Diagnostic::error(format!("the {label} label would be invalid: {message}")).at(
                        if label.ends_with("kdapp") || label.ends_with("version") {
                            app.origin
                        } else {
                            cluster.origin
                        },
                    ),
                );
            }
        }
        let domain = format!("{headless}.{namespace}.svc.{}", settings.cluster_domain);
        let mut roles = Vec::new();
        for (position, app_role) in app.roles.iter().enumerate() {
            let cluster_role = cluster.roles.iter().find(|r| r.id == app_role.id);
            let name = format!("{headless}-{}", names::munge(&app_role.id));
            let count = cluster_role.map_or(0, |r| r.members);
            if count > 0 {
                if name.len() > MAX_STATEFULSET_NAME {
                    diagnostics.push(
                        Diagnostic::error(format!(
                            "StatefulSet name \"{name}\" is {} characters long; at most {MAX_STATEFULSET_NAME} are allowed",
                            name.len()
                        ))
                        .at(cluster_role.map_or(cluster.origin, |r| r.origin))
                        .help("longer names break the pods' controller-revision-hash label (63 characters); shorten the cluster name"),
                    );
                }
                let pod = format!("{name}-{}", count - 1);
                // A cluster name that cannot name a Service was reported above.
                if headless_ok && let Err(message) = names::check_dns1035_label(&pod) {
                    diagnostics.push(name_error(format!("member Service name {message}")));
                }
            }
            let members = (0..count)
                .map(|ordinal| {
                    let pod = format!("{name}-{ordinal}");
                    Member {
                        fqdn: format!("{pod}.{domain}"),
                        name: pod,
                        ordinal,
                        node_id: (position as u32) * 1000 + ordinal + 1,
                    }
                })
                .collect();
            roles.push(RoleTopology {
                app_role,
                cluster_role,
                name,
                members,
            });
        }
        if roles.iter().all(|r| r.members.is_empty()) {
            diagnostics.push(
                Diagnostic::warning(format!(
                    "cluster \"{}\" has no members; only its headless Service and configmeta are rendered",
                    cluster.name
                ))
                .at(cluster.origin),
            );
        }
        if diagnostics.error_count() > errors_before {
            continue;
        }
        let members: usize = roles.iter().map(|r| r.members.len()).sum();
        members_in_run = members_in_run.saturating_add(members);
        if members_in_run > MAX_MEMBERS {
            diagnostics.push(
                Diagnostic::error(format!(
                    "the clusters of this run have more than {MAX_MEMBERS} members in all (reached at cluster \"{}\")",
                    cluster.name
                ))
                .at(cluster.origin)
                .help("split the repository into several Applications or folders"),
            );
            return Vec::new();
        }
        if let Some(&other) = by_name.get(&(namespace.clone(), cluster.name.clone())) {
            let other: &Topology<'_> = &topologies[other];
            diagnostics.push(
                Diagnostic::error(format!(
                    "two clusters are named \"{}\" in namespace \"{namespace}\"",
                    cluster.name
                ))
                .at(cluster.origin)
                .help(format!(
                    "the other one is at {}",
                    sources.describe(other.cluster.origin)
                )),
            );
            continue;
        }
        by_name.insert((namespace.clone(), cluster.name.clone()), topologies.len());
        topologies.push(Topology {
            cluster,
            app,
            namespace,
            headless,
            domain,
            roles,
            connections: Vec::new(),
        });
    }

    // Connections: only clusters rendered together, in the same namespace, can be embedded.
    let index = by_name;
    for topology in &mut topologies {
        let mut connections = Vec::new();
        for (name, origin) in &topology.cluster.connected_clusters {
            match index.get(&(topology.namespace.clone(), name.clone())) {
                Some(&i) if name != &topology.cluster.name => connections.push(i),
                Some(_) => diagnostics.push(
                    Diagnostic::warning("a cluster cannot connect to itself; ignored").at(*origin),
                ),
                None => diagnostics.push(
                    Diagnostic::warning(format!(
                        "connected cluster \"{name}\" is not rendered from this repository in namespace \"{}\"; it is left out of configmeta.json",
                        topology.namespace
                    ))
                    .at(*origin),
                ),
            }
        }
        connections.sort_unstable();
        connections.dedup();
        topology.connections = connections;
    }
    check_listed_members(&topologies, diagnostics);
    topologies
}

/// Refuses a cluster whose `configmeta.json` would list more members (its own and its connected
/// clusters') than a ConfigMap can hold, before any of it is rendered.
fn check_listed_members(topologies: &[Topology<'_>], diagnostics: &mut Diagnostics) {
    let members = |t: &Topology<'_>| t.roles.iter().map(|r| r.members.len()).sum::<usize>();
    for topology in topologies {
        let listed = topology
            .connections
            .iter()
            .filter_map(|&i| topologies.get(i))
            .map(members)
            .fold(members(topology), usize::saturating_add);
        if listed > MAX_LISTED_MEMBERS {
            diagnostics.push(
                Diagnostic::error(format!(
                    "cluster \"{}\" and the clusters it connects to have {listed} members, more than the {MAX_LISTED_MEMBERS} its configmeta.json can list",
                    topology.cluster.name
                ))
                .at(topology.cluster.origin)
                .help("a connected cluster is embedded whole in configmeta.json, which must fit a 1 MiB ConfigMap; connect fewer clusters"),
            );
        }
    }
}
