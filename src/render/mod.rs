//! Render: each cluster's topology into Kubernetes objects, built as data (never as YAML text).
//!
//! Per cluster: a headless Service; a ConfigMap with `configmeta.json` (and the setup runner for
//! apps with a setup package); and for each role with members a StatefulSet, a ConfigMap of its
//! config files, a Service per member when the role has endpoints, a PodDisruptionBudget when
//! it has more than one member, and a NetworkPolicy when the settings ask for one. Each
//! StatefulSet goes to [`crate::hash`] with its role's inputs, which stamps its rollout hash.
//! Every name these objects use is in [`names`], every message render reports in `diags`.

mod affinity;
pub mod configmeta;
mod diags;
mod dns;
pub mod files;
mod init;
pub mod names;
mod nesting;
mod network;
pub mod sandbox;
mod security;
mod services;
mod tmpfs;
pub(crate) mod value;
mod volumes;
pub mod workload;

use std::collections::BTreeMap;

use crate::render::value::value;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::diag::{Diagnostic, Diagnostics};
use crate::hash;
use crate::model::{AppSource, ClusterRole, Settings};
use crate::names::MAX_DNS_NAME;
use crate::patch;
use crate::resolve::{RoleTopology, Topology};
use crate::source::{Origin, SourceMap};

pub use files::TemplateSet;
pub use volumes::{OwnMount, own_app_mounts};

/// Kubernetes refuses ConfigMaps whose data exceeds 1 MiB.
pub const MAX_CONFIGMAP_BYTES: usize = 1 << 20;

/// The kinds of object kdrender renders, in install order: what nothing depends on
/// (NetworkPolicies, PodDisruptionBudgets), what pods read (ConfigMaps), Services, then the
/// StatefulSets whose pods use them all. Serialised as the kind's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Kind {
    NetworkPolicy,
    PodDisruptionBudget,
    ConfigMap,
    Service,
    StatefulSet,
}

impl Kind {
    /// The kind's name, as in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NetworkPolicy => "NetworkPolicy",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::ConfigMap => "ConfigMap",
            Kind::Service => "Service",
            Kind::StatefulSet => "StatefulSet",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rendered object and where it came from.
#[derive(Clone, Debug)]
pub struct Object {
    pub value: Value,
    pub kind: Kind,
    pub name: String,
    pub namespace: String,
    pub cluster: String,
    /// The role it belongs to, if any.
    pub role: Option<String>,
    /// The cluster document, for messages about the object.
    pub origin: Origin,
    /// For StatefulSets: what explains a rollout in a reviewer's terms (`kdrender diff`).
    pub rollout: Option<Box<RolloutFacts>>,
    /// The settings' patches applied to it (their positions in `spec.patches`).
    pub patches: Vec<usize>,
}

/// What `kdrender diff` needs to explain what happens to a role's pods beyond what the
/// StatefulSet holds: its config files (the rollout hash's input other than the pod and claim
/// templates), and what its setup runner tells the startscript in place.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RolloutFacts {
    /// The role's config files, in the role's files ConfigMap.
    pub files: Vec<FileFact>,
    /// For a role with a setup package, the KubeDirector events it takes (`configure`,
    /// `addnodes`, `delnodes`); `None` without one (no setup runner, no notifications).
    pub setup_events: Option<Vec<String>>,
    /// The settings' patches applied to the StatefulSet before its hash was computed.
    pub patches: Vec<PatchFact>,
}

/// A patch applied to a StatefulSet, as `kdrender diff` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchFact {
    /// Where it is written (`kdrender.yaml:12:3`).
    pub at: String,
    /// The patch as written (canonical JSON): two versions of a patch differ here.
    pub written: String,
}

/// One config file of a role, as `kdrender diff` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFact {
    /// Key in the files ConfigMap (per member: `<pod>.<key>`).
    pub key: String,
    /// Path inside the container.
    pub target: String,
    /// The template it is rendered from, named as in messages (relative to the rendered folder).
    pub template: String,
    pub per_member: bool,
    pub mode: Option<u32>,
}

/// Labels and annotations shared by one cluster's objects.
pub struct Meta<'a> {
    topology: &'a Topology<'a>,
    settings: &'a Settings,
}

impl Meta<'_> {
    fn ours(&self, role: Option<&RoleTopology<'_>>) -> Map<String, Value> {
        let topology = self.topology;
        let mut labels = Map::new();
        labels.insert(names::NAME_LABEL.into(), value!(&topology.app.name));
        if let Some(version) = topology.app.version_label() {
            labels.insert(names::VERSION_LABEL.into(), value!(version));
        }
        labels.insert(names::MANAGED_BY_LABEL.into(), value!("kdrender"));
        labels.insert(names::APP_LABEL.into(), value!(&topology.app.name));
        labels.insert(names::CLUSTER_LABEL.into(), value!(&topology.cluster.name));
        labels.insert(
            names::APP_CATALOG_LABEL.into(),
            value!(app_catalog(topology.app.source)),
        );
        if let Some(role) = role {
            labels.insert(names::COMPONENT_LABEL.into(), value!(&role.app_role.id));
            labels.insert(names::ROLE_LABEL.into(), value!(&role.app_role.id));
        }
        labels
    }

    fn merged(
        layers: &[&BTreeMap<String, String>],
        ours: Map<String, Value>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for layer in layers {
            for (k, v) in *layer {
                out.insert(k.clone(), value!(v));
            }
        }
        out.extend(ours);
        out
    }

    /// The annotations kdrender sets itself; they win over the settings' and the cluster's.
    fn our_annotations(&self, role: Option<&RoleTopology<'_>>) -> Map<String, Value> {
        let mut annotations = Map::new();
        annotations.insert(
            names::PRETTY_NAME_ANNOTATION.into(),
            value!(&self.topology.app.pretty_name),
        );
        if let Some(wave) = role.and_then(|r| r.app_role.sync_wave) {
            // Argo CD reads the wave as a string.
            annotations.insert(names::SYNC_WAVE_ANNOTATION.into(), value!(wave.to_string()));
        }
        annotations
    }

    /// `metadata` of an object of this cluster.
    pub fn object(&self, name: &str, role: Option<&RoleTopology<'_>>) -> Value {
        let mut annotations = self.our_annotations(role);
        annotations.extend(names::adopted_annotation(self.topology));
        value!({
            "name": name,
            "namespace": &self.topology.namespace,
            "labels": Self::merged(&[&self.settings.labels], self.ours(role)),
            "annotations": Self::merged(&[&self.settings.annotations], annotations),
        })
    }

    /// `metadata` of a role's StatefulSet: as any of the role's objects, with KubeDirector's
    /// label naming the cluster, which its pods carry too.
    pub fn statefulset(&self, name: &str, role: &RoleTopology<'_>) -> Value {
        let mut metadata = self.object(name, Some(role));
        if let Some(labels) = metadata.get_mut("labels").and_then(Value::as_object_mut) {
            labels.insert(names::HEADLESS_LABEL.into(), self.headless_label());
        }
        metadata
    }

    /// The value of [`names::HEADLESS_LABEL`]: the cluster's name, as KubeDirector gives it.
    fn headless_label(&self) -> Value {
        value!(&self.topology.cluster.name)
    }

    /// `metadata` of a member's Service: the cluster's then the settings' service labels.
    pub fn member_service(
        &self,
        name: &str,
        role: &RoleTopology<'_>,
        cluster_role: Option<&ClusterRole>,
    ) -> Value {
        let empty = BTreeMap::new();
        let (labels, annotations) = cluster_role.map_or((&empty, &empty), |r| {
            (&r.service_labels, &r.service_annotations)
        });
        value!({
            "name": name,
            "namespace": &self.topology.namespace,
            "labels": Self::merged(&[&self.settings.labels, labels, &self.settings.service_labels], self.ours(Some(role))),
            "annotations": Self::merged(
                &[&self.settings.annotations, annotations, &self.settings.service_annotations],
                self.our_annotations(Some(role)),
            ),
        })
    }

    /// Labels that select a role's pods (or, without a role, all of the cluster's pods).
    pub fn selector(&self, role: Option<&RoleTopology<'_>>) -> Value {
        let mut selector = Map::new();
        selector.insert(
            names::CLUSTER_LABEL.into(),
            value!(&self.topology.cluster.name),
        );
        if let Some(role) = role {
            selector.insert(names::ROLE_LABEL.into(), value!(&role.app_role.id));
        }
        Value::Object(selector)
    }

    pub fn pod_labels(&self, role: &RoleTopology<'_>, cluster_role: &ClusterRole) -> Value {
        let mut ours = self.ours(Some(role));
        ours.insert(names::HEADLESS_LABEL.into(), self.headless_label());
        Value::Object(Self::merged(
            &[
                &self.settings.labels,
                &cluster_role.pod_labels,
                &self.settings.pod_labels,
            ],
            ours,
        ))
    }

    pub fn pod_annotations(&self, cluster_role: &ClusterRole) -> Value {
        Value::Object(Self::merged(
            &[
                &self.settings.annotations,
                &cluster_role.pod_annotations,
                &self.settings.pod_annotations,
            ],
            // Never the sync wave: a change of wave must not roll the pods.
            self.our_annotations(None),
        ))
    }
}

/// KubeDirector's name for where a cluster's app comes from (its `spec.appCatalog`): `local` for
/// an app found below the rendered folder, `system` for one from a catalog folder.
fn app_catalog(source: AppSource) -> &'static str {
    match source {
        AppSource::Local => "local",
        AppSource::Catalog => "system",
    }
}

/// Renders one cluster. `connected` holds the topologies of the clusters it connects to, in
/// the order of its connections.
pub fn render_cluster(
    topology: &Topology<'_>,
    connected: &[Topology<'_>],
    templates: Option<&TemplateSet>,
    settings: &Settings,
    sources: &SourceMap,
    diagnostics: &mut Diagnostics,
) -> Vec<Object> {
    let cluster = ClusterRender {
        topology,
        connected,
        templates: templates.map(|set| (set, files::Context::new(topology, connected))),
        settings,
        sources,
        meta: Meta { topology, settings },
    };
    if let Some(diagnostic) = fqdn_too_long(topology) {
        diagnostics.push(diagnostic);
    }
    let headless = services::headless(topology, &cluster.meta);
    let mut objects = vec![
        cluster.object(headless, Kind::Service, topology.headless.clone(), None),
        cluster.configmeta(diagnostics),
    ];
    let roles: Vec<&RoleTopology<'_>> = topology
        .active_roles()
        .filter(|role| role.cluster_role.is_some())
        .collect();
    let mut renderings = cluster
        .templates
        .as_ref()
        .map(|(set, context)| set.run_cluster(context, &roles, sources));
    for role in roles {
        if let Some(cluster_role) = role.cluster_role {
            cluster.role_objects(
                role,
                cluster_role,
                &mut renderings,
                diagnostics,
                &mut objects,
            );
        }
    }
    objects.extend(cluster.scaled_to_zero(diagnostics));
    // StatefulSets were patched before their hash was computed.
    for object in objects.iter_mut().filter(|o| o.kind != Kind::StatefulSet) {
        object.patches = patch::apply(
            &settings.patches,
            object.kind,
            &mut object.value,
            diagnostics,
        );
    }
    objects
}

/// One cluster's rendering: what every one of its objects is built from.
struct ClusterRender<'a> {
    topology: &'a Topology<'a>,
    connected: &'a [Topology<'a>],
    /// The app's templates and the variables they see in this cluster.
    templates: Option<(&'a TemplateSet, files::Context)>,
    settings: &'a Settings,
    sources: &'a SourceMap,
    meta: Meta<'a>,
}

impl ClusterRender<'_> {
    fn object(
        &self,
        value: Value,
        kind: Kind,
        name: String,
        role: Option<&RoleTopology<'_>>,
    ) -> Object {
        Object {
            value,
            kind,
            name,
            namespace: self.topology.namespace.clone(),
            cluster: self.topology.cluster.name.clone(),
            role: role.map(|r| r.app_role.id.clone()),
            origin: self.topology.cluster.origin,
            rollout: None,
            patches: Vec::new(),
        }
    }

    /// The configmeta ConfigMap: the shared document, each member's node section, and for apps
    /// with a setup package what the setup runner compares (membership, connections) and the
    /// runner itself.
    fn configmeta(&self, diagnostics: &mut Diagnostics) -> Object {
        let topology = self.topology;
        let document = configmeta::cluster_document(topology, self.connected, &[]);
        let mut data = Map::new();
        data.insert(
            names::CONFIGMETA_KEY.into(),
            value!(configmeta::to_text(&document)),
        );
        for role in topology.active_roles() {
            for member in &role.members {
                let node = configmeta::node_section(topology, role, member);
                data.insert(
                    names::node_key(member.name()),
                    value!(configmeta::to_text(&node)),
                );
            }
        }
        if topology
            .active_roles()
            .any(|r| r.app_role.config_package.is_some())
        {
            data.insert(
                names::MEMBERSHIP_KEY.into(),
                value!(configmeta::membership(topology)),
            );
            data.insert(
                names::CONNECTIONS_KEY.into(),
                value!(configmeta::connections(&document)),
            );
            data.insert(names::SETUP_KEY.into(), value!(include_str!("setup.sh")));
        }
        let name = names::configmeta_configmap(&topology.headless);
        if let Some(diagnostic) = too_big(&name, &data, topology.cluster.origin) {
            diagnostics.push(diagnostic);
        }
        let value = configmap(&self.meta, &name, None, data);
        self.object(value, Kind::ConfigMap, name, None)
    }

    /// A role's objects: its StatefulSet, its files ConfigMap (when it has files), a Service per
    /// member (when it has endpoints), a PodDisruptionBudget (more than one member) and a
    /// NetworkPolicy (when the settings ask).
    fn role_objects(
        &self,
        role: &RoleTopology<'_>,
        cluster_role: &ClusterRole,
        renderings: &mut Option<files::Renderings>,
        diagnostics: &mut Diagnostics,
        objects: &mut Vec<Object>,
    ) {
        let files = match (&self.templates, renderings) {
            (Some((set, context)), Some(renderings)) => {
                set.render(context, role, renderings, self.sources, diagnostics)
            }
            _ => Vec::new(),
        };
        let files_name = names::files_configmap(&role.name);
        let files_data = files_data(&files, role);
        let has_files = !files_data.is_empty();
        let workload = self.workload(
            role,
            cluster_role,
            &files,
            has_files.then_some(files_name.as_str()),
            diagnostics,
        );
        if has_files {
            if let Some(diagnostic) = too_big(&files_name, &files_data, cluster_role.origin) {
                diagnostics.push(diagnostic);
            }
            let value = configmap(&self.meta, &files_name, Some(role), files_data);
            objects.push(self.object(value, Kind::ConfigMap, files_name, Some(role)));
        }
        objects.push(workload);
        self.member_services(role, objects);
        if role.members.len() > 1 {
            let value = workload::disruption_budget(role, &self.meta);
            objects.push(self.object(
                value,
                Kind::PodDisruptionBudget,
                role.name.clone(),
                Some(role),
            ));
        }
        if self.settings.network_policy {
            let value = network::role_policy(self.topology.app, role, &self.meta);
            objects.push(self.object(value, Kind::NetworkPolicy, role.name.clone(), Some(role)));
        }
    }

    /// A role's StatefulSet, the settings' patches applied, its rollout hash stamped
    /// ([`hash::stamp`]), with the facts that explain a rollout ([`RolloutFacts`]).
    fn workload(
        &self,
        role: &RoleTopology<'_>,
        cluster_role: &ClusterRole,
        files: &[files::ConfigFile],
        files_configmap: Option<&str>,
        diagnostics: &mut Diagnostics,
    ) -> Object {
        let mut statefulset = workload::statefulset(&workload::RoleWorkload {
            topology: self.topology,
            role,
            cluster_role,
            files,
            files_configmap,
            settings: self.settings,
            meta: &self.meta,
        });
        let (cluster, role_id) = (&self.topology.cluster.name, &role.app_role.id);
        patch::placement::apply(&self.settings.placement, cluster, role_id, &mut statefulset);
        let patches = &self.settings.patches;
        let applied = patch::apply(patches, Kind::StatefulSet, &mut statefulset, diagnostics);
        hash::stamp(&mut statefulset, &hash::RoleInputs { role, files });
        let mut object = self.object(
            statefulset,
            Kind::StatefulSet,
            role.name.clone(),
            Some(role),
        );
        let app_role = role.app_role;
        object.rollout = Some(Box::new(RolloutFacts {
            files: files.iter().map(FileFact::of).collect(),
            setup_events: app_role.config_package.as_ref().map(|_| {
                app_role
                    .events
                    .names()
                    .into_iter()
                    .map(String::from)
                    .collect()
            }),
            patches: self.patch_facts(&applied),
        }));
        object.patches = applied;
        object
    }

    /// The StatefulSets of roles the cluster scales to zero (`members: 0`) that have volumes:
    /// kept, with no replicas, so that Kubernetes deletes the volumes of the members it removes
    /// (`whenScaled: Delete`), as KubeDirector deleted each removed member's. Were the
    /// StatefulSet pruned instead, its volumes would stay (`whenDeleted: Retain`) and come back,
    /// already configured, when the role grows again. Nothing else of the role is rendered: it
    /// has no members for files, Services or budgets.
    fn scaled_to_zero(&self, diagnostics: &mut Diagnostics) -> Vec<Object> {
        let roles = self
            .topology
            .roles
            .iter()
            .filter(|role| role.members.is_empty())
            .filter_map(|role| Some((role, role.cluster_role?)))
            .filter(|(_, cluster_role)| workload::has_claims(cluster_role));
        let mut objects = Vec::new();
        for (role, cluster_role) in roles {
            objects.push(self.workload(role, cluster_role, &[], None, diagnostics));
        }
        objects
    }

    /// A Service per member, for roles whose services have endpoints.
    fn member_services(&self, role: &RoleTopology<'_>, objects: &mut Vec<Object>) {
        let ports = services::member_ports(self.topology.app, role);
        if ports.is_empty() {
            return;
        }
        for member in &role.members {
            let value = services::member(self.topology, role, member, &ports, &self.meta);
            objects.push(self.object(
                value,
                Kind::Service,
                member.service().to_string(),
                Some(role),
            ));
        }
    }
}

impl ClusterRender<'_> {
    /// The patches applied to a StatefulSet, as `kdrender diff` names them.
    fn patch_facts(&self, applied: &[usize]) -> Vec<PatchFact> {
        let patches = &self.settings.patches;
        patches
            .iter()
            .filter(|p| applied.contains(&p.index))
            .map(|p| PatchFact {
                at: self.sources.describe(p.origin).to_string(),
                written: p.written.clone(),
            })
            .collect()
    }
}

impl FileFact {
    fn of(file: &files::ConfigFile) -> FileFact {
        FileFact {
            key: file.key.clone(),
            target: file.target.clone(),
            template: file.template.clone(),
            per_member: matches!(file.content, files::Content::PerMember(_)),
            mode: file.mode,
        }
    }
}

/// The data of a role's files ConfigMap: each shared file under its key, each member's copy of
/// a per-member file under `<pod>.<key>`.
fn files_data(files: &[files::ConfigFile], role: &RoleTopology<'_>) -> Map<String, Value> {
    let mut data = Map::new();
    for file in files {
        match &file.content {
            files::Content::Shared(text) => {
                data.insert(file.key.clone(), value!(text));
            }
            files::Content::PerMember(texts) => {
                for (member, text) in role.members.iter().zip(texts) {
                    data.insert(names::member_key(member.name(), &file.key), value!(text));
                }
            }
        }
    }
    data
}

/// `object` (a `json!` object) with each of `fields` that has a value.
fn with_fields<const N: usize>(object: Value, fields: [(&str, Option<Value>); N]) -> Value {
    let Value::Object(mut map) = object else {
        return object;
    };
    map.extend(
        fields
            .into_iter()
            .filter_map(|(key, value)| Some((key.to_string(), value?))),
    );
    Value::Object(map)
}

fn configmap(
    meta: &Meta,
    name: &str,
    role: Option<&RoleTopology<'_>>,
    data: Map<String, Value>,
) -> Value {
    value!({
        "apiVersion": "v1",
        "kind": Kind::ConfigMap,
        "metadata": meta.object(name, role),
        "data": data,
    })
}

/// The ConfigMap's size, if Kubernetes would refuse it.
fn too_big(name: &str, data: &Map<String, Value>, origin: Origin) -> Option<Diagnostic> {
    let size: usize = data
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    (size > MAX_CONFIGMAP_BYTES).then(|| diags::configmap_too_big(name, size, origin))
}

/// Members' FQDNs are DNS names: at most 253 characters (each part is checked on its own, the
/// cluster domain by the settings, names and namespaces where they are resolved).
fn fqdn_too_long(topology: &Topology<'_>) -> Option<Diagnostic> {
    let longest = topology
        .active_roles()
        .flat_map(|role| &role.members)
        .map(|member| member.fqdn())
        .max_by_key(|fqdn| fqdn.len())?;
    (longest.len() > MAX_DNS_NAME).then(|| diags::fqdn_too_long(longest, topology.cluster.origin))
}
