//! One role of a cluster: its rules, then its defaults.
//!
//! Rules, in the order KubeDirector's validator applies them: `members` matches the app's
//! cardinality (`N` exactly, `N+` at least); requests never exceed the limits and meet the app's
//! `minResources` (requests only, in whole units, as KubeDirector compares them); storage is above zero, in a well-named class, and meets `minStorage`; shared
//! memory is above zero; environment variables, labels and annotations are well formed and leave
//! kdrender's and Argo CD's own alone; the Secret and projected claims are not mounted on a
//! mount kdrender renders for the role, nor on each other. What only a live controller
//! could do (`fileInjections`, `secretKeys`) is a warning.

use std::collections::BTreeMap;

use crate::diag::Diagnostics;
use crate::document::pointer_escape;
use crate::load::Document;
use crate::model::{
    App, AppRole, BlockStorage, ClusterRole, Secret, Settings, Storage, VolumeProjection,
};
use crate::names;
use crate::quantity::Quantity;
use crate::raw;
use crate::render::{self, OwnMount};
use crate::source::Origin;

use super::super::{ARGOCD_INSTANCE_LABEL, check_role_metadata, diags};

/// What every role of one cluster is judged against.
pub struct Context<'c> {
    pub document: &'c Document,
    pub app: &'c App,
    pub settings: &'c Settings,
    /// The cluster's `defaultSecret`, for roles without a secret of their own.
    pub default_secret: Option<&'c raw::Secret>,
}

impl Context<'_> {
    /// The `i`th role of the cluster, checked and defaulted; `None` for a role the app does not
    /// have (reported by the cluster's rules).
    pub fn cluster_role(
        &self,
        i: usize,
        role: raw::ClusterRole,
        diagnostics: &mut Diagnostics,
    ) -> Option<ClusterRole> {
        let app_role = self.app.role(&role.id)?;
        let rules = Rules {
            document: self.document,
            base: format!("/spec/roles/{i}"),
            app: self.app,
            app_role,
            role: &role,
        };
        let members = rules.check_members(diagnostics);
        let limits = rules.quantities("resources/limits", &role.resources.limits, diagnostics);
        let requests =
            rules.quantities("resources/requests", &role.resources.requests, diagnostics);
        rules.check_requests_within_limits(&requests, &limits, diagnostics);
        rules.check_min_resources(&requests, diagnostics);
        rules.check_storage_classes(diagnostics);
        let storage = rules.storage(self.settings, diagnostics);
        rules.check_min_storage(storage.as_ref(), members, diagnostics);
        let checked = Checked {
            members,
            limits,
            requests,
            storage,
            block_storage: rules.block_storage(self.settings, diagnostics),
            shared_memory: rules.shared_memory(diagnostics),
            origin: rules.at("id"),
        };
        rules.check_env(diagnostics);
        rules.check_tracking_labels(diagnostics);
        rules.check_metadata(diagnostics);
        rules.warn_offline_only(diagnostics);
        let mount_origins = rules.mount_origins(self.default_secret.is_some());
        let secret = role.secret.clone().or_else(|| self.default_secret.cloned());
        let cluster_role = assemble(role, secret, checked);
        let own = || render::own_app_mounts(self.app, app_role, &cluster_role, self.settings);
        check_mount_paths(&cluster_role, own, &mount_origins, diagnostics);
        Some(cluster_role)
    }
}

/// What a role's rules worked out, for the model.
struct Checked {
    members: u32,
    limits: BTreeMap<String, Quantity>,
    requests: BTreeMap<String, Quantity>,
    storage: Option<Storage>,
    block_storage: Option<BlockStorage>,
    shared_memory: Option<Quantity>,
    origin: Origin,
}

/// The model's role: what the rules worked out, the rest as written, the Secret defaulted.
fn assemble(role: raw::ClusterRole, secret: Option<raw::Secret>, checked: Checked) -> ClusterRole {
    ClusterRole {
        id: role.id,
        members: checked.members,
        limits: checked.limits.into(),
        requests: checked.requests.into(),
        storage: checked.storage,
        block_storage: checked.block_storage.map(Box::new),
        env: role.env.into_iter().map(|v| (v.name, v.value)).collect(),
        pod_labels: role.metadata.pod_labels,
        pod_annotations: role.metadata.pod_annotations,
        service_labels: role.metadata.service_labels,
        service_annotations: role.metadata.service_annotations,
        affinity: role.affinity.map(Box::new),
        shared_memory: checked.shared_memory.map(Box::new),
        secret: secret.map(|written| Box::new(self::secret(written))),
        service_account: role.service_account_name,
        volume_projections: role
            .volume_projections
            .into_iter()
            .map(|p| VolumeProjection {
                claim: p.pvc_name,
                mount_path: p.mount_path,
                read_only: p.read_only,
            })
            .collect(),
        origin: checked.origin,
    }
}

fn secret(raw: raw::Secret) -> Secret {
    Secret {
        name: raw.name,
        mount_path: raw.mount_path,
        default_mode: raw.default_mode,
        read_only: raw.read_only,
    }
}

/// Where the mount paths of a role's Secret and projected claims are written.
struct MountOrigins {
    /// The role's own `secret`, or the cluster's `defaultSecret`.
    secret: Option<Origin>,
    projections: Vec<Origin>,
}

/// The role's Secret and projected claims are mounted where nothing else is: not where
/// kdrender mounts one of its own volumes in this role (`own`, from render's volumes), not
/// where another of them is. Kubernetes refuses two mounts at one path; KubeDirector refuses a
/// projection on one of its own mounts, or two at one path. `own` builds the role's volumes,
/// most of a role's validation, so it is called only for a role that mounts either.
fn check_mount_paths(
    role: &ClusterRole,
    own: impl FnOnce() -> Vec<OwnMount>,
    origins: &MountOrigins,
    diagnostics: &mut Diagnostics,
) {
    let mut mounts: Vec<(String, &str, Origin)> = Vec::new();
    if let (Some(secret), Some(at)) = (&role.secret, origins.secret) {
        mounts.push(("the secret".to_string(), &secret.mount_path, at));
    }
    for (j, (projection, at)) in role
        .volume_projections
        .iter()
        .zip(&origins.projections)
        .enumerate()
    {
        let what = format!("volume projection {j} ({})", projection.claim);
        mounts.push((what, &projection.mount_path, *at));
    }
    if mounts.is_empty() {
        return;
    }
    let own = own();
    for (k, (what, path, at)) in mounts.iter().enumerate() {
        let path = normal_path(path);
        let repeated = || {
            mounts
                .iter()
                .take(k)
                .find(|(_, other, _)| normal_path(other) == path)
        };
        if let Some(taken) = own.iter().find(|m| normal_path(&m.path) == path) {
            let volume = &taken.volume;
            let diagnostic = diags::mount_path_taken(&role.id, what, &taken.path, volume, *at);
            diagnostics.push(diagnostic);
        } else if let Some((first, ..)) = repeated() {
            diagnostics.push(diags::mount_path_repeated(
                &role.id, what, &path, first, *at,
            ));
        }
    }
}

/// A mount path as the container sees it: repeated and trailing `/` do not make another place.
fn normal_path(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|part| !part.is_empty()).collect();
    format!("/{}", parts.join("/"))
}

/// One role of a cluster, the app's role it instantiates, and where it was written.
struct Rules<'r> {
    document: &'r Document,
    /// The role's JSON pointer, `/spec/roles/<i>`.
    base: String,
    app: &'r App,
    app_role: &'r AppRole,
    role: &'r raw::ClusterRole,
}

impl Rules<'_> {
    fn pointer(&self, field: &str) -> String {
        format!("{}/{field}", self.base)
    }

    fn at(&self, field: &str) -> Origin {
        self.document.origin(&self.pointer(field))
    }

    /// `members`, defaulted to the cardinality's number, matches the cardinality: `N` exactly,
    /// `N+` at least.
    fn check_members(&self, diagnostics: &mut Diagnostics) -> u32 {
        let cardinality = self.app_role.cardinality;
        let members = self.role.members.unwrap_or(cardinality.minimum);
        let fits = if cardinality.open {
            members >= cardinality.minimum
        } else {
            members == cardinality.minimum
        };
        if !fits {
            let at = self.at(if self.role.members.is_some() {
                "members"
            } else {
                "id"
            });
            let (id, app) = (&self.role.id, &self.app.name);
            diagnostics.push(diags::wrong_member_count(id, members, app, cardinality, at));
        }
        members
    }

    /// A quantity, or an error naming the field (malformed, or beyond Kubernetes' range).
    fn quantity(
        &self,
        pointer: &str,
        value: &serde_json::Value,
        diagnostics: &mut Diagnostics,
    ) -> Option<Quantity> {
        Quantity::from_json(value)
            .map_err(|problem| {
                let at = self.document.origin(pointer);
                diagnostics.push(diags::bad_quantity(pointer, &problem, at));
            })
            .ok()
    }

    /// Requests or limits, each a quantity: Kubernetes refuses negative amounts, and
    /// configmeta.json's figures would come out negative.
    fn quantities(
        &self,
        field: &str,
        map: &BTreeMap<String, serde_json::Value>,
        diagnostics: &mut Diagnostics,
    ) -> BTreeMap<String, Quantity> {
        let mut amounts = BTreeMap::new();
        for (name, value) in map {
            let pointer = self.pointer(&format!("{field}/{}", pointer_escape(name)));
            let Some(amount) = self.quantity(&pointer, value, diagnostics) else {
                continue;
            };
            if amount.is_negative() {
                let at = self.document.origin(&pointer);
                diagnostics.push(diags::negative_amount(&pointer, &amount, at));
                continue;
            }
            amounts.insert(name.clone(), amount);
        }
        amounts
    }

    /// No request exceeds its limit.
    fn check_requests_within_limits(
        &self,
        requests: &BTreeMap<String, Quantity>,
        limits: &BTreeMap<String, Quantity>,
        diagnostics: &mut Diagnostics,
    ) {
        for (resource, request) in requests {
            if let Some(limit) = limits.get(resource)
                && request > limit
            {
                let at = self.at(&format!("resources/requests/{resource}"));
                let id = &self.role.id;
                diagnostics.push(diags::request_over_limit(id, resource, request, limit, at));
            }
        }
    }

    /// Each of the app's non-zero `minResources` is met by a request, compared as KubeDirector's
    /// webhook compares them: requests only (a missing request counts as zero, whatever the
    /// limit), in whole units rounded up (`Quantity.Value()`: 1500m of cpu meets a minimum of 2).
    fn check_min_resources(
        &self,
        requests: &BTreeMap<String, Quantity>,
        diagnostics: &mut Diagnostics,
    ) {
        for (resource, minimum) in &self.app_role.min_resources {
            if minimum.is_zero() {
                continue;
            }
            let request = requests.get(resource);
            if request.is_none_or(|request| request.ceil_units() < minimum.ceil_units()) {
                let (id, app) = (&self.role.id, &self.app.name);
                // The request, or the deepest of `requests` and `resources` that is written.
                let at = self.at(&format!("resources/requests/{}", pointer_escape(resource)));
                let diagnostic =
                    diags::below_min_resources(id, request, resource, app, minimum, at);
                diagnostics.push(diagnostic);
            }
        }
    }

    /// Storage class names, which Kubernetes refuses at apply time unless they are DNS-1123
    /// subdomains.
    fn check_storage_classes(&self, diagnostics: &mut Diagnostics) {
        let role = self.role;
        let classes = [
            (
                "storage",
                role.storage
                    .as_ref()
                    .and_then(|s| s.storage_class_name.as_deref()),
            ),
            (
                "blockStorage",
                role.block_storage
                    .as_ref()
                    .and_then(|b| b.storage_class_name.as_deref()),
            ),
        ];
        for (field, class) in classes {
            if let Some(class) = class
                && let Err(problem) = names::check_dns1123_subdomain(class)
            {
                let at = self.at(&format!("{field}/storageClassName"));
                diagnostics.push(diags::bad_storage_class(&role.id, &problem, at));
            }
        }
    }

    /// The role's volume: a size above zero, in its own class or the settings' default.
    fn storage(&self, settings: &Settings, diagnostics: &mut Diagnostics) -> Option<Storage> {
        let storage = self.role.storage.as_ref()?;
        let size = self.quantity(&self.pointer("storage/size"), &storage.size, diagnostics)?;
        if !size.is_positive() {
            let at = self.at("storage/size");
            diagnostics.push(diags::storage_not_positive(&self.role.id, at));
        }
        Some(Storage {
            size,
            class: storage
                .storage_class_name
                .clone()
                .or_else(|| settings.default_storage_class.clone()),
        })
    }

    /// The volume meets the app's `minStorage`; a role with members needs one unless the app
    /// supports running without.
    fn check_min_storage(
        &self,
        storage: Option<&Storage>,
        members: u32,
        diagnostics: &mut Diagnostics,
    ) {
        let Some(minimum) = &self.app_role.min_storage else {
            return;
        };
        let (id, app) = (&self.role.id, &self.app.name);
        match storage {
            Some(storage) if &storage.size < minimum => {
                let at = self.at("storage/size");
                let diagnostic = diags::storage_below_minimum(id, &storage.size, app, minimum, at);
                diagnostics.push(diagnostic);
            }
            None if !self.app_role.ephemeral_mode_supported && members > 0 => {
                diagnostics.push(diags::no_storage(id, app, minimum, self.at("id")));
            }
            _ => {}
        }
    }

    /// Block devices: their size (1Gi unless given) and class.
    fn block_storage(
        &self,
        settings: &Settings,
        diagnostics: &mut Diagnostics,
    ) -> Option<BlockStorage> {
        let block = self.role.block_storage.as_ref()?;
        let size = match &block.size {
            Some(size) => self.quantity(&self.pointer("blockStorage/size"), size, diagnostics)?,
            None => Quantity::gibibyte(),
        };
        Some(BlockStorage {
            class: block
                .storage_class_name
                .clone()
                .or_else(|| settings.default_storage_class.clone()),
            path_prefix: block.path_prefix.clone(),
            devices: block.num_devices,
            size,
        })
    }

    /// `/dev/shm`'s size, above zero.
    fn shared_memory(&self, diagnostics: &mut Diagnostics) -> Option<Quantity> {
        let value = self.role.shared_memory.as_ref()?;
        let size = self.quantity(&self.pointer("sharedMemory"), value, diagnostics)?;
        if !size.is_positive() {
            diagnostics.push(diags::shared_memory_not_positive(self.at("sharedMemory")));
        }
        Some(size)
    }

    /// Variable names Kubernetes accepts, and never `POD_NAME`, which kdrender sets.
    fn check_env(&self, diagnostics: &mut Diagnostics) {
        for (j, var) in self.role.env.iter().enumerate() {
            let at = self.at(&format!("env/{j}/name"));
            if let Err(problem) = names::check_env_name(&var.name) {
                diagnostics.push(diags::bad_name(&problem, at));
            } else if var.name == "POD_NAME" {
                diagnostics.push(diags::pod_name_reserved(at));
            }
        }
    }

    /// Argo CD's tracking label is Argo CD's to set.
    fn check_tracking_labels(&self, diagnostics: &mut Diagnostics) {
        let role = self.role;
        for (field, map) in [
            ("podLabels", &role.metadata.pod_labels),
            ("serviceLabels", &role.metadata.service_labels),
        ] {
            if map.contains_key(ARGOCD_INSTANCE_LABEL) {
                let key = pointer_escape(ARGOCD_INSTANCE_LABEL);
                let at = self
                    .document
                    .key_origin(&self.pointer(&format!("{field}/{key}")));
                diagnostics.push(diags::set_by_argocd(ARGOCD_INSTANCE_LABEL, at));
            }
        }
    }

    /// Labels and annotations for the pods and the member Services are well formed.
    fn check_metadata(&self, diagnostics: &mut Diagnostics) {
        check_role_metadata(self.document, &self.base, &self.role.metadata, diagnostics);
    }

    /// File injections are fetched, and secret keys encrypted, by a live controller: neither
    /// is rendered, and each says so.
    fn warn_offline_only(&self, diagnostics: &mut Diagnostics) {
        let id = &self.role.id;
        if !self.role.file_injections.is_empty() {
            let at = self.at("fileInjections");
            diagnostics.push(diags::file_injections_not_rendered(id, at));
        }
        if !self.role.secret_keys.is_empty() {
            let at = self.document.key_origin(&self.pointer("secretKeys"));
            diagnostics.push(diags::secret_keys_not_rendered(id, at));
        }
    }

    /// Where the Secret's and the projections' mount paths are written; `default_secret`:
    /// whether the cluster has a `defaultSecret` for roles without a secret.
    fn mount_origins(&self, default_secret: bool) -> MountOrigins {
        let secret = match (&self.role.secret, default_secret) {
            (Some(_), _) => Some(self.at("secret/mountPath")),
            (None, true) => Some(self.document.origin("/spec/defaultSecret/mountPath")),
            (None, false) => None,
        };
        let projections = (0..self.role.volume_projections.len())
            .map(|j| self.at(&format!("volumeProjections/{j}/mountPath")))
            .collect();
        MountOrigins {
            secret,
            projections,
        }
    }
}
