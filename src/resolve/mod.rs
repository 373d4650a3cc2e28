//! Resolve: from the model to each cluster's topology, with every name settled and checked.
//!
//! A cluster's namespace, its object names, its members' pod and Service names, FQDNs and node
//! ids are all decided here, once. Names derive from the cluster's and roles' names
//! ([`members`]), shortened or prefixed where Kubernetes' rules demand it, or are those a live
//! KubeDirector gave the cluster when an Adoption pins them ([`adoption`]). Node ids count
//! 1…N as KubeDirector counts them ([`node_ids`]). Label values are checked against
//! Kubernetes' rules; two clusters with the same name in one namespace are an error, as are
//! connections to clusters that are not rendered.

mod adoption;
mod diags;
mod members;
mod node_ids;

use std::collections::BTreeMap;

use crate::diag::{Diagnostics, Stage};
use crate::model::{Adoption, App, AppRole, Cluster, ClusterRole, Model, ServiceType};
use crate::names;
use crate::source::SourceMap;

/// The labels every object carries that resolve checks: they come from names in the inputs.
const KDCLUSTER_LABEL: &str = "kubedirector.hpe.com/kdcluster";
const KDAPP_LABEL: &str = "kubedirector.hpe.com/kdapp";

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
    /// The names and node ids a live KubeDirector gave the cluster, when they are kept.
    pub adoption: Option<&'m Adoption>,
    /// The member Services' type: the cluster's, else the adopted one, else the settings'.
    pub service_type: ServiceType,
    /// `<headless>.<namespace>.svc.<cluster domain>`.
    pub domain: String,
    /// Every role of the app, in the app's order, members or not.
    pub roles: Vec<RoleTopology<'m>>,
}

/// A cluster that resolved soundly: what the checks across clusters read. Its [`Topology`] is
/// built again where the cluster is rendered (from the same model, so the same topology), and
/// dropped with its objects: a run never holds every cluster's members at once.
#[derive(Debug)]
pub struct Resolved<'m> {
    pub cluster: &'m Cluster,
    pub app: &'m App,
    pub namespace: String,
    /// Members of all its roles.
    pub members: usize,
    /// Indices (into the list of resolved clusters) of connected clusters that are rendered too,
    /// in that list's order.
    pub connections: Vec<usize>,
}

impl<'m> Resolved<'m> {
    /// The cluster's topology, as resolve built and checked it.
    pub fn topology(&self, model: &'m Model) -> Topology<'m> {
        build(model, self.cluster, self.app)
    }
}

#[derive(Debug)]
pub struct RoleTopology<'m> {
    pub app_role: &'m AppRole,
    /// The cluster's settings for this role; `None` when the cluster leaves the role out.
    pub cluster_role: Option<&'m ClusterRole>,
    /// The StatefulSet's name (`<cluster>-<role>`, or KubeDirector's when adopted), also the
    /// PodDisruptionBudget's.
    pub name: String,
    pub members: Vec<Member>,
}

/// One member of a role. A run holds every member of every cluster from resolve to the end of
/// the render, so its names share one allocation: the pod's name is the beginning of its FQDN,
/// and its Service's name is stored only where it is not the pod's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub ordinal: u32,
    pub node_id: u32,
    /// `<pod>.<cluster's domain>`.
    fqdn: String,
    /// The pod's name: the first `pod_length` bytes of `fqdn`.
    pod_length: usize,
    /// The member's own Service, where its name is not the pod's.
    service: Option<String>,
}

impl Member {
    pub fn new(ordinal: u32, node_id: u32, pod: String, domain: &str, service: String) -> Member {
        let pod_length = pod.len();
        let service = (service != pod).then_some(service);
        let mut fqdn = pod;
        fqdn.reserve_exact(domain.len() + 1);
        fqdn.push('.');
        fqdn.push_str(domain);
        Member {
            ordinal,
            node_id,
            fqdn,
            pod_length,
            service,
        }
    }

    /// The pod's name, which is also its host name.
    pub fn name(&self) -> &str {
        self.fqdn.get(..self.pod_length).unwrap_or_default()
    }

    pub fn fqdn(&self) -> &str {
        &self.fqdn
    }

    /// The member's own Service (rendered when its role has endpoints).
    pub fn service(&self) -> &str {
        self.service.as_deref().unwrap_or_else(|| self.name())
    }
}

impl Topology<'_> {
    pub fn role(&self, id: &str) -> Option<&RoleTopology<'_>> {
        self.roles.iter().find(|r| r.app_role.id == id)
    }

    /// Members of all roles.
    pub fn member_count(&self) -> usize {
        self.roles.iter().map(|r| r.members.len()).sum()
    }

    /// Roles that have members: the ones that get a StatefulSet.
    pub fn active_roles(&self) -> impl Iterator<Item = &RoleTopology<'_>> {
        self.roles.iter().filter(|r| !r.members.is_empty())
    }

    /// Stable identity of the cluster: KubeDirector's (the object's UID) when adopted, else a
    /// hash of its namespace and name.
    pub fn cluster_id(&self) -> String {
        if let Some(adoption) = self.adoption {
            return adoption.id.clone();
        }
        cluster_id(&self.namespace, &self.cluster.name)
    }
}

/// The stable identity of the cluster `name` in `namespace`, as a UUID (also what `diff` reads
/// back to tell a cluster's own id from the rest of its objects).
pub fn cluster_id(namespace: &str, name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{namespace}/{name}").as_bytes());
    // The first 16 bytes in hex, grouped as a UUID is: 4-2-2-2-6 bytes.
    let mut id = String::with_capacity(36);
    for (i, byte) in digest.iter().take(16).enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push_str(&format!("{byte:02x}"));
    }
    id
}

/// Resolves every cluster; clusters with naming problems are reported and left out. A run
/// beyond its budgets (clusters, members) resolves nothing.
pub fn resolve<'m>(
    model: &'m Model,
    sources: &SourceMap,
    diagnostics: &mut Diagnostics,
) -> Vec<Resolved<'m>> {
    if let Some(cluster) = model.clusters.get(MAX_CLUSTERS) {
        diagnostics.push(diags::too_many_clusters(MAX_CLUSTERS, cluster.origin));
        return Vec::new();
    }
    let mut resolved: Vec<Resolved<'m>> = Vec::with_capacity(model.clusters.len());
    let mut by_name: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut members_in_run = 0usize;
    for (cluster, sound, local) in checked(model) {
        diagnostics.extend(local);
        let Some(sound) = sound else {
            continue;
        };
        members_in_run = members_in_run.saturating_add(sound.members);
        if members_in_run > MAX_MEMBERS {
            let at = cluster.origin;
            diagnostics.push(diags::too_many_members_in_run(
                MAX_MEMBERS,
                &cluster.name,
                at,
            ));
            return Vec::new();
        }
        let key = (sound.namespace.clone(), cluster.name.clone());
        if let Some(other) = by_name.get(&key).and_then(|&i| resolved.get(i)) {
            let other = sources.describe(other.cluster.origin);
            let at = cluster.origin;
            diagnostics.push(diags::duplicate_cluster(&cluster.name, &key.0, at, other));
            continue;
        }
        by_name.insert(key, resolved.len());
        resolved.push(sound);
    }
    link_connections(&mut resolved, &by_name, diagnostics);
    check_listed_members(&resolved, diagnostics);
    resolved
}

/// Each cluster, resolved (`None` where its topology is not sound) with what checking it
/// reported, in the model's order. What every cluster asks for bounds what the topologies
/// hold: when that is within the run's member budget, they are checked on every core at once;
/// otherwise one at a time, as the caller asks for them, so that building stops where the
/// budget is passed. Each topology is dropped once checked.
fn checked<'m>(
    model: &'m Model,
) -> Box<dyn Iterator<Item = (&'m Cluster, Option<Resolved<'m>>, Diagnostics)> + 'm> {
    let check = move |cluster: &'m Cluster| {
        let mut local = Diagnostics::default();
        local.enter(Stage::Resolve);
        let sound = topology(model, cluster, &mut local).map(|topology| Resolved {
            cluster,
            app: topology.app,
            members: topology.member_count(),
            namespace: topology.namespace,
            connections: Vec::new(),
        });
        (cluster, sound, local)
    };
    let asked: usize = (model.clusters.iter().flat_map(|c| &c.roles))
        .map(|role| usize::try_from(role.members).unwrap_or(usize::MAX))
        .fold(0, usize::saturating_add);
    if asked <= MAX_MEMBERS {
        let clusters: Vec<&'m Cluster> = model.clusters.iter().collect();
        let checked = crate::parallel::map(&clusters, |cluster: &&'m Cluster| check(cluster));
        Box::new(checked.into_iter())
    } else {
        Box::new(model.clusters.iter().map(check))
    }
}

/// One cluster's topology, checked: `None` when a name is invalid or its Adoption does not fit
/// it (reported).
fn topology<'m>(
    model: &'m Model,
    cluster: &'m Cluster,
    diagnostics: &mut Diagnostics,
) -> Option<Topology<'m>> {
    // Validation keeps a cluster only when its app passed.
    let app = model.app_of(cluster)?;
    let errors_before = diagnostics.error_count();
    let topology = build(model, cluster, app);
    if let Some(adoption) = topology.adoption {
        adoption::check(adoption, app, cluster, diagnostics);
    }
    check_labels(cluster, app, diagnostics);
    if topology.roles.iter().all(|r| r.members.is_empty()) {
        diagnostics.push(diags::no_members(&cluster.name, cluster.origin));
    }
    if diagnostics.error_count() > errors_before {
        return None;
    }
    Some(topology)
}

/// One cluster's topology, unchecked: its namespace, Service, domain and roles.
fn build<'m>(model: &'m Model, cluster: &'m Cluster, app: &'m App) -> Topology<'m> {
    let namespace = cluster
        .namespace
        .clone()
        .unwrap_or_else(|| model.settings.namespace.clone());
    let adopted = model
        .adoptions
        .get(&(namespace.clone(), cluster.name.clone()));
    let names = members::Names::of(cluster, adopted, &namespace, &model.settings);
    let node_ids = node_ids::count(app, cluster, adopted);
    let roles: Vec<RoleTopology<'m>> = (app.roles.iter().zip(node_ids))
        .map(|(app_role, ids)| names.role(app_role, cluster, &ids))
        .collect();
    Topology {
        cluster,
        app,
        namespace,
        service_type: adopted
            .and_then(|a| a.service_type)
            .unwrap_or(cluster.service_type),
        headless: names.headless,
        domain: names.domain,
        adoption: adopted,
        roles,
    }
}

/// The labels every object carries, from the cluster's and the app's names, are valid label
/// values. (The app's version labels objects only when it is one: `App::version_label`.)
fn check_labels(cluster: &Cluster, app: &App, diagnostics: &mut Diagnostics) {
    for (label, value, at) in [
        (KDCLUSTER_LABEL, cluster.name.as_str(), cluster.origin),
        (KDAPP_LABEL, app.name.as_str(), app.origin),
    ] {
        if let Err(problem) = names::check_label_value(value) {
            diagnostics.push(diags::bad_label(label, &problem, at));
        }
    }
}

/// Connections: only clusters rendered together, in the same namespace, can be embedded.
fn link_connections(
    resolved: &mut [Resolved<'_>],
    by_name: &BTreeMap<(String, String), usize>,
    diagnostics: &mut Diagnostics,
) {
    for cluster in resolved {
        let mut connections = Vec::new();
        for (name, origin) in &cluster.cluster.connected_clusters {
            let namespace = &cluster.namespace;
            match by_name.get(&(namespace.clone(), name.clone())) {
                Some(&i) if name != &cluster.cluster.name => connections.push(i),
                Some(_) => diagnostics.push(diags::connects_to_itself(*origin)),
                None => diagnostics.push(diags::connection_not_rendered(name, namespace, *origin)),
            }
        }
        connections.sort_unstable();
        connections.dedup();
        cluster.connections = connections;
    }
}

/// Refuses a cluster whose `configmeta.json` would list more members (its own and its connected
/// clusters') than a ConfigMap can hold, before any of it is rendered.
fn check_listed_members(resolved: &[Resolved<'_>], diagnostics: &mut Diagnostics) {
    for cluster in resolved {
        let listed = (cluster.connections.iter())
            .filter_map(|&i| resolved.get(i))
            .map(|connected| connected.members)
            .fold(cluster.members, usize::saturating_add);
        if listed > MAX_LISTED_MEMBERS {
            let (name, at) = (&cluster.cluster.name, cluster.cluster.origin);
            let diagnostic = diags::too_many_listed_members(name, listed, MAX_LISTED_MEMBERS, at);
            diagnostics.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Member;

    #[test]
    fn a_member_reads_its_names_back_from_one_allocation() {
        let domain = "db.prod.svc.cluster.local";
        let member = Member::new(2, 7, "db-worker-2".into(), domain, "db-worker-2".into());
        assert_eq!(member.name(), "db-worker-2");
        assert_eq!(member.fqdn(), "db-worker-2.db.prod.svc.cluster.local");
        assert_eq!(member.service(), "db-worker-2");
        assert_eq!((member.ordinal, member.node_id), (2, 7));
        // A Service named otherwise (KubeDirector's `s-` prefix, or one an Adoption pins) is
        // kept as given, and the pod's names are unchanged by it.
        let adopted = Member::new(0, 1, "kdss-x7-0".into(), domain, "s-kdss-x7-0".into());
        assert_eq!(adopted.service(), "s-kdss-x7-0");
        assert_eq!(adopted.name(), "kdss-x7-0");
        assert_eq!(adopted.fqdn(), "kdss-x7-0.db.prod.svc.cluster.local");
    }
}
