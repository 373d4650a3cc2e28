//! The validated, typed world that rendering works from.
//!
//! Everything here has passed the schemas and KubeDirector's rules, and KubeDirector's defaulting
//! has been applied: app defaults are pushed into the roles, `members` is filled in from the
//! cardinality, storage classes and service types are settled. Origins are kept only so that
//! later stages can still point at the input.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::quantity::{Amounts, Quantity};
use crate::source::Origin;

pub type StringMap = BTreeMap<String, String>;

/// Renderer settings with every default applied (`kdrender.yaml` plus the command line).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Namespace for clusters that name none, already merged with `--namespace` and Argo CD's.
    pub namespace: String,
    pub cluster_domain: String,
    pub default_service_type: ServiceType,
    pub default_storage_class: Option<String>,
    pub labels: StringMap,
    pub annotations: StringMap,
    pub pod_labels: StringMap,
    pub pod_annotations: StringMap,
    pub service_labels: StringMap,
    pub service_annotations: StringMap,
    pub native_systemd_support: bool,
    /// Names of catalog apps that an app below the rendered folder may replace.
    pub catalog_overrides: std::collections::BTreeSet<String>,
    /// Render a NetworkPolicy for each role (`spec.networkPolicy`).
    pub network_policy: bool,
    /// The image whose `/home/kubedirector/configcli.tgz` members of roles with a setup package
    /// install configcli from (`spec.configcliImage`); `None`: the app's images ship configcli.
    pub configcli_image: Option<String>,
    /// Pod-spec fields per cluster and role (`spec.placement`), in order.
    pub placement: Vec<crate::patch::placement::Placement>,
    /// Changes to rendered objects (`spec.patches`), in order.
    pub patches: Vec<crate::patch::Patch>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServiceType {
    ClusterIp,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub fn parse(text: &str) -> Option<ServiceType> {
        match text {
            "ClusterIP" => Some(ServiceType::ClusterIp),
            "NodePort" => Some(ServiceType::NodePort),
            "LoadBalancer" => Some(ServiceType::LoadBalancer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIp => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

/// Where an app was found: below the rendered folder, or in a catalog folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AppSource {
    Local,
    Catalog,
}

/// How apps are told apart: where they were found, and their name.
pub type AppKey = (AppSource, String);

#[derive(Clone, Debug)]
pub struct App {
    pub name: String,
    pub source: AppSource,
    pub origin: Origin,
    /// Folder of the app's file (absolute), for its config-file templates.
    pub folder: PathBuf,
    /// The config-file template folder (`spec.kdrender.configFiles`), relative to `folder`,
    /// with where it was named.
    pub config_files: Option<(String, Origin)>,
    pub pretty_name: String,
    pub description: String,
    pub distro_id: String,
    pub version: String,
    pub config_schema_version: i64,
    pub services: Vec<Service>,
    pub roles: Vec<AppRole>,
    pub selected_roles: Vec<String>,
    pub config_meta: StringMap,
    pub capabilities: Vec<String>,
    pub systemd_required: bool,
}

impl App {
    /// The value of the `app.kubernetes.io/version` label: the app's version when it is a valid
    /// label value, else none. KubeDirector takes any version string (and sets no such label);
    /// a sanitised value would claim a version the app does not have, so the label is left
    /// off instead (`validate` warns), and `configmeta.json` carries the version as written.
    pub fn version_label(&self) -> Option<&str> {
        crate::names::check_label_value(&self.version)
            .is_ok()
            .then_some(self.version.as_str())
    }

    pub fn role(&self, id: &str) -> Option<&AppRole> {
        self.roles.iter().find(|r| r.id == id)
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub endpoint: Option<Endpoint>,
    pub exported_service: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub port: u16,
    pub url_scheme: String,
    pub path: String,
    pub is_dashboard: bool,
    pub has_auth_token: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cardinality {
    pub minimum: u32,
    /// `"N+"`: at least `minimum`; otherwise exactly `minimum`.
    pub open: bool,
}

impl std::fmt::Display for Cardinality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.minimum, if self.open { "+" } else { "" })
    }
}

/// Which KubeDirector lifecycle events a role's members take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Events {
    pub configure: bool,
    pub addnodes: bool,
    pub delnodes: bool,
}

impl Events {
    pub const ALL: Events = Events {
        configure: true,
        addnodes: true,
        delnodes: true,
    };

    /// Whether membership changes reach this role (and so restart it).
    pub fn takes_membership(self) -> bool {
        self.addnodes || self.delnodes
    }

    pub fn names(self) -> Vec<&'static str> {
        [
            (self.configure, "configure"),
            (self.addnodes, "addnodes"),
            (self.delnodes, "delnodes"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigPackage {
    pub url: String,
    pub new_layout: bool,
}

#[derive(Clone, Debug)]
pub struct AppRole {
    pub id: String,
    pub cardinality: Cardinality,
    pub image: String,
    pub config_package: Option<ConfigPackage>,
    pub persist_dirs: Vec<String>,
    pub events: Events,
    pub min_resources: BTreeMap<String, Quantity>,
    pub min_storage: Option<Quantity>,
    pub ephemeral_mode_supported: bool,
    pub stdin: bool,
    pub tty: bool,
    /// Service ids this role exposes (`config.roleServices`), in the app's service order.
    pub services: Vec<String>,
    /// What `spec.kdrender.roles.<id>` adds to the app container.
    pub container: ContainerExtension,
    /// `spec.kdrender.roles.<id>.syncWave`: the Argo CD sync wave of the role's objects.
    pub sync_wave: Option<i32>,
    pub origin: Origin,
}

/// The app container settings KubeDirector's format has no place for.
#[derive(Clone, Debug, Default)]
pub struct ContainerExtension {
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
    pub readiness_probe: Option<serde_json::Value>,
    pub liveness_probe: Option<serde_json::Value>,
    pub working_dir: Option<String>,
    pub pod_security_context: Option<serde_json::Value>,
}

#[derive(Clone, Debug)]
pub struct Cluster {
    pub name: String,
    /// The cluster's own `metadata.namespace`, which wins over every other source.
    pub namespace: Option<String>,
    /// Name of the app; `Model::apps` holds it under `app_key`.
    pub app: String,
    pub app_key: AppKey,
    pub service_type: ServiceType,
    pub connected_clusters: Vec<(String, Origin)>,
    /// Roles in the app's role order.
    pub roles: Vec<ClusterRole>,
    pub origin: Origin,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    pub name: String,
    pub mount_path: String,
    pub default_mode: Option<u32>,
    pub read_only: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storage {
    pub size: Quantity,
    pub class: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockStorage {
    pub class: Option<String>,
    pub path_prefix: String,
    pub devices: u32,
    pub size: Quantity,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeProjection {
    pub claim: String,
    pub mount_path: String,
    pub read_only: bool,
}

/// A role as a cluster asks for it. A run holds every cluster's roles from judging to rendering,
/// so what few roles set (block storage, `/dev/shm`, a Secret, an affinity) is boxed: a role
/// takes about 380 bytes rather than 600.
#[derive(Clone, Debug)]
pub struct ClusterRole {
    pub id: String,
    pub members: u32,
    pub limits: Amounts,
    pub requests: Amounts,
    pub storage: Option<Storage>,
    pub block_storage: Option<Box<BlockStorage>>,
    pub env: Vec<(String, String)>,
    pub pod_labels: StringMap,
    pub pod_annotations: StringMap,
    pub service_labels: StringMap,
    pub service_annotations: StringMap,
    pub affinity: Option<Box<serde_json::Value>>,
    pub shared_memory: Option<Box<Quantity>>,
    pub secret: Option<Box<Secret>>,
    pub service_account: Option<String>,
    pub volume_projections: Vec<VolumeProjection>,
    pub origin: Origin,
}

/// Everything that passed validation.
#[derive(Debug)]
pub struct Model {
    pub settings: Settings,
    pub apps: BTreeMap<AppKey, App>,
    pub clusters: Vec<Cluster>,
    /// The `Adoption` documents, by the namespace and name of the cluster each belongs to.
    pub adoptions: BTreeMap<(String, String), Adoption>,
}

impl Model {
    /// The app a cluster instantiates (validation keeps only clusters whose app it kept).
    pub fn app_of(&self, cluster: &Cluster) -> Option<&App> {
        self.apps.get(&cluster.app_key)
    }
}

/// An `Adoption` (`kdrender.dev/v1alpha1`, written by `kdrender adopt`): the names and node ids a
/// live KubeDirector gave a cluster, which its rendering keeps, so that the new StatefulSets take
/// over the running pods and bind their volumes again.
#[derive(Clone, Debug)]
pub struct Adoption {
    /// The cluster it belongs to (its `metadata.name`).
    pub cluster: String,
    /// The namespace the cluster ran in.
    pub namespace: String,
    /// KubeDirector's cluster id (the object's UID), `cluster.id` in configmeta.json.
    pub id: String,
    /// The headless Service (`status.clusterService`).
    pub cluster_service: String,
    /// The type KubeDirector gave the member Services; `None` when the cluster document names
    /// a type of its own, which wins.
    pub service_type: Option<ServiceType>,
    /// KubeDirector's naming scheme, which names the Services of members added later.
    pub naming_scheme: NamingScheme,
    /// The highest node id KubeDirector handed out; members added later count on from it.
    pub last_node_id: u32,
    pub roles: Vec<AdoptedRole>,
    pub origin: Origin,
}

impl Adoption {
    pub fn role(&self, id: &str) -> Option<&AdoptedRole> {
        self.roles.iter().find(|r| r.id == id)
    }
}

/// KubeDirector's `namingScheme`: `UID` names a member's Service `s-<pod>`, `CrNameRole` after
/// the pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamingScheme {
    Uid,
    CrNameRole,
}

/// A role as KubeDirector ran it.
#[derive(Clone, Debug)]
pub struct AdoptedRole {
    pub id: String,
    /// The StatefulSet, whose name names the pods and, through the claim templates, their volumes.
    pub statefulset: String,
    /// The members by ordinal (pods `<statefulset>-0`, `-1`, … in this order).
    pub members: Vec<AdoptedMember>,
    pub origin: Origin,
}

/// A member as KubeDirector ran it.
#[derive(Clone, Debug)]
pub struct AdoptedMember {
    /// Its Service, when its role had endpoints.
    pub service: Option<String>,
    pub node_id: u32,
    /// Its PersistentVolumeClaim, when its role had storage.
    pub claim: Option<String>,
    pub origin: Origin,
}
