//! Raw input: serde mirrors of the input formats, one to one.
//!
//! A document is decoded into these types only after it passed its JSON Schema, so decoding
//! rarely fails; the checks that give meaning to the values live in `validate`, which turns these
//! into the typed [`model`](crate::model).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

pub type StringMap = BTreeMap<String, String>;

/// Distinguishes a field that is absent (`None`) from one set to `null` (`Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub labels: StringMap,
    #[serde(default)]
    pub annotations: StringMap,
}

// --- KubeDirectorApp -------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct App {
    pub metadata: Metadata,
    pub spec: AppSpec,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSpec {
    pub label: AppLabel,
    #[serde(rename = "distroID")]
    pub distro_id: String,
    pub version: String,
    pub config_schema_version: i64,
    pub default_image_repo_tag: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub default_config_package: Option<Option<ConfigPackage>>,
    pub default_persist_dirs: Option<Vec<String>>,
    pub default_event_list: Option<Vec<String>>,
    pub default_max_log_size_dump: Option<u64>,
    #[serde(default)]
    pub services: Vec<Service>,
    pub roles: Vec<AppRole>,
    pub config: AppConfig,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub systemd_required: bool,
    #[serde(default)]
    pub kdrender: Extension,
}

/// kdrender's own block in an app's spec (KubeDirector ignores unknown fields there).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    pub config_files: Option<String>,
    #[serde(default)]
    pub roles: BTreeMap<String, RoleExtension>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleExtension {
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    #[serde(default)]
    pub env: Vec<EnvVar>,
    pub readiness_probe: Option<serde_json::Value>,
    pub liveness_probe: Option<serde_json::Value>,
    pub working_dir: Option<String>,
    pub pod_security_context: Option<serde_json::Value>,
    pub sync_wave: Option<i32>,
}

#[derive(Debug, Deserialize)]
pub struct AppLabel {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigPackage {
    #[serde(rename = "packageURL")]
    pub package_url: String,
    #[serde(default)]
    pub use_new_setup_layout: bool,
}

#[derive(Debug, Deserialize)]
pub struct Service {
    pub id: String,
    #[serde(default)]
    pub label: Option<ServiceLabel>,
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    #[serde(default)]
    pub exported_service: String,
}

#[derive(Debug, Deserialize)]
pub struct ServiceLabel {
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub port: u16,
    #[serde(default)]
    pub url_scheme: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub is_dashboard: bool,
    #[serde(default)]
    pub has_auth_token: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRole {
    pub id: String,
    pub cardinality: String,
    pub image_repo_tag: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub config_package: Option<Option<ConfigPackage>>,
    pub persist_dirs: Option<Vec<String>>,
    pub event_list: Option<Vec<String>>,
    #[serde(default)]
    pub min_resources: BTreeMap<String, serde_json::Value>,
    pub min_storage: Option<MinStorage>,
    #[serde(default)]
    pub container_spec: ContainerSpec,
    pub max_log_size_dump: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MinStorage {
    pub size: Option<serde_json::Value>,
    #[serde(default)]
    pub ephemeral_mode_supported: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ContainerSpec {
    #[serde(default)]
    pub stdin: bool,
    #[serde(default)]
    pub tty: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppConfig {
    pub selected_roles: Vec<String>,
    pub role_services: Vec<RoleServices>,
    #[serde(default)]
    pub config_meta: StringMap,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleServices {
    #[serde(rename = "roleID")]
    pub role_id: String,
    #[serde(rename = "serviceIDs")]
    pub service_ids: Vec<String>,
}

// --- KubeDirectorCluster ---------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct Cluster {
    pub metadata: Metadata,
    pub spec: ClusterSpec,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    pub app: String,
    pub app_catalog: Option<String>,
    pub service_type: Option<String>,
    pub naming_scheme: Option<String>,
    pub default_secret: Option<Secret>,
    #[serde(default)]
    pub connections: Connections,
    pub roles: Vec<ClusterRole>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Connections {
    #[serde(default)]
    pub clusters: Vec<String>,
    #[serde(default)]
    pub configmaps: Vec<String>,
    #[serde(default)]
    pub secrets: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    pub name: String,
    pub mount_path: String,
    pub default_mode: Option<u32>,
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRole {
    pub id: String,
    pub members: Option<u32>,
    pub resources: Resources,
    pub storage: Option<Storage>,
    pub block_storage: Option<BlockStorage>,
    #[serde(default)]
    pub env: Vec<EnvVar>,
    #[serde(flatten)]
    pub metadata: RoleMetadata,
    pub affinity: Option<serde_json::Value>,
    pub shared_memory: Option<serde_json::Value>,
    pub secret: Option<Secret>,
    #[serde(default)]
    pub file_injections: Vec<serde_json::Value>,
    pub service_account_name: Option<String>,
    #[serde(default)]
    pub secret_keys: Vec<serde_json::Value>,
    #[serde(default)]
    pub volume_projections: Vec<VolumeProjection>,
}

/// Labels and annotations for a role's pods and member Services: a cluster role's own, or the
/// settings' for every role.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleMetadata {
    #[serde(default)]
    pub pod_labels: StringMap,
    #[serde(default)]
    pub pod_annotations: StringMap,
    #[serde(default)]
    pub service_labels: StringMap,
    #[serde(default)]
    pub service_annotations: StringMap,
}

#[derive(Debug, Deserialize)]
pub struct Resources {
    pub limits: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub requests: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    pub size: serde_json::Value,
    pub storage_class_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStorage {
    pub storage_class_name: Option<String>,
    pub path_prefix: String,
    pub num_devices: u32,
    pub size: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct EnvVar {
    pub name: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeProjection {
    pub pvc_name: String,
    pub mount_path: String,
    #[serde(default)]
    pub read_only: bool,
}

// --- RenderSettings --------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub spec: SettingsSpec,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsSpec {
    pub namespace: Option<String>,
    pub cluster_domain: Option<String>,
    pub default_service_type: Option<String>,
    pub default_storage_class_name: Option<String>,
    #[serde(default)]
    pub labels: StringMap,
    #[serde(default)]
    pub annotations: StringMap,
    #[serde(flatten)]
    pub metadata: RoleMetadata,
    #[serde(default)]
    pub catalog: Vec<String>,
    #[serde(default)]
    pub native_systemd_support: bool,
    #[serde(default)]
    pub catalog_overrides: Vec<String>,
    #[serde(default)]
    pub network_policy: bool,
    pub configcli_image: Option<String>,
    #[serde(default)]
    pub placement: Vec<Placement>,
    #[serde(default)]
    pub patches: Vec<Patch>,
}

/// `spec.placement[]` of the settings: pod-spec fields for the roles it names.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    pub cluster: Option<String>,
    pub role: Option<String>,
    pub node_selector: Option<StringMap>,
    pub tolerations: Option<serde_json::Value>,
    pub priority_class_name: Option<String>,
    pub topology_spread_constraints: Option<serde_json::Value>,
}

/// `spec.patches[]` of the settings: which objects, and a merge patch or JSON Patch operations.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patch {
    pub target: PatchTarget,
    pub patch: Option<serde_json::Value>,
    pub ops: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchTarget {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
}

// --- Adoption --------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct Adoption {
    pub metadata: AdoptionMetadata,
    pub spec: AdoptionSpec,
}

#[derive(Debug, Deserialize)]
pub struct AdoptionMetadata {
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdoptionSpec {
    pub id: String,
    pub cluster_service: String,
    pub service_type: String,
    pub naming_scheme: String,
    #[serde(rename = "lastNodeID")]
    pub last_node_id: u32,
    #[serde(default)]
    pub roles: Vec<AdoptedRole>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdoptedRole {
    pub id: String,
    pub stateful_set: String,
    #[serde(default)]
    pub members: Vec<AdoptedMember>,
}

#[derive(Debug, Deserialize)]
pub struct AdoptedMember {
    pub pod: String,
    pub service: Option<String>,
    #[serde(rename = "nodeID")]
    pub node_id: u32,
    pub pvc: Option<String>,
}
