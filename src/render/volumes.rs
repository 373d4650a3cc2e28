//! A role's pod volumes and where its containers mount them.
//!
//! Both containers see the configmeta ConfigMap and the folder the member's `configmeta.json` is
//! assembled in; the init step sees them outside `/etc` (which it seeds) and the member's volume
//! at [`INIT_VOLUME_MOUNT`]. The app container also mounts each persisted directory from the
//! member's volume, each config file from the files ConfigMap, and KubeDirector's volumes: the
//! systemd mounts, `/dev/shm`, the role's Secret, its projected claims, and the in-memory `/tmp`,
//! `/run` and `/run/lock` ([`super::tmpfs`]). In roles with a setup package, the setup runner's
//! folder is shared with the init step that copies configcli in.

use super::value::value;
use serde_json::Value;

use super::files::{ConfigFile, Content};
use super::names::{
    self, CGROUP_DIR, CGROUP_VOLUME, CONFIGMETA_MOUNT, CONFIGMETA_VOLUME, GUESTCONFIG_DIR,
    GUESTCONFIG_VOLUME, INIT_CONFIGMETA_MOUNT, INIT_GUESTCONFIG_MOUNT, INIT_SETUP_MOUNT,
    INIT_VOLUME_MOUNT, PERSISTED_CLAIM, POD_NAME_ENV, SETUP_DIR, SETUP_VOLUME,
    SHARED_MEMORY_VOLUME, SYSTEMD_CGROUP_DIR, SYSTEMD_CGROUP_VOLUME,
};
use super::{tmpfs, with_fields};
use crate::model::{App, AppRole, ClusterRole, Secret, Settings, VolumeProjection};
use crate::quantity::Quantity;

/// The directories kept on the member's volume: KubeDirector's defaults for the role's setup
/// layout plus the role's own, with nested and repeated directories folded away.
pub fn persisted_dirs(app_role: &AppRole) -> Vec<String> {
    let mut dirs: Vec<String> = vec!["/etc".to_string()];
    match &app_role.config_package {
        Some(package) if package.new_layout => dirs.extend(
            [
                "/opt/guestconfig",
                "/var/log/guestconfig",
                "/usr/local/bin",
                "/usr/local/lib",
            ]
            .map(String::from),
        ),
        Some(_) => dirs.extend(["/opt", "/usr"].map(String::from)),
        None => {}
    }
    dirs.extend(app_role.persist_dirs.iter().cloned());
    dirs.sort();
    dirs.dedup();
    let covered = |d: &String, all: &[String]| {
        all.iter()
            .any(|other| other != d && d.starts_with(&format!("{other}/")))
    };
    let all = dirs.clone();
    dirs.retain(|d| !covered(d, &all));
    dirs
}

/// The directories seeded onto a member's volume: the persisted ones, when the role has storage.
pub fn seeded_dirs(app_role: &AppRole, cluster_role: &ClusterRole) -> Vec<String> {
    if cluster_role.storage.is_some() {
        persisted_dirs(app_role)
    } else {
        Vec::new()
    }
}

/// A mount kdrender itself gives a role's app container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnMount {
    pub path: String,
    pub volume: String,
}

/// Where kdrender itself mounts something in a role's app container: every mount but the role's
/// Secret and projected claims, which must not land on one of these. Config files are left
/// out: they are known only once their templates are placed.
pub fn own_app_mounts(
    app: &App,
    app_role: &AppRole,
    cluster_role: &ClusterRole,
    settings: &Settings,
) -> Vec<OwnMount> {
    let persisted = seeded_dirs(app_role, cluster_role);
    let role = RoleVolumes {
        cluster_role,
        persisted: &persisted,
        files: None,
        systemd: app.systemd_required,
        native_systemd: settings.native_systemd_support,
        setup: app_role.config_package.is_some(),
    };
    let text = |mount: &Value, field: &str| Some(mount.get(field)?.as_str()?.to_string());
    Mounts::own("", &role)
        .app
        .iter()
        .filter_map(|mount| {
            Some(OwnMount {
                path: text(mount, "mountPath")?,
                volume: text(mount, "name")?,
            })
        })
        .collect()
}

/// The pod's volumes, and the mounts of its app container and of its init steps.
#[derive(Debug, Default)]
pub struct Mounts {
    pub volumes: Vec<Value>,
    pub app: Vec<Value>,
    pub init: Vec<Value>,
    /// The mounts of the init step that copies configcli in.
    pub configcli: Vec<Value>,
}

/// What a role's pod mounts besides what every pod does.
pub struct RoleVolumes<'a> {
    pub cluster_role: &'a ClusterRole,
    /// The directories seeded onto the member's volume (none without storage).
    pub persisted: &'a [String],
    /// The role's files ConfigMap and its files, when it has any.
    pub files: Option<(&'a str, &'a [ConfigFile])>,
    pub systemd: bool,
    /// The cluster runs systemd natively: no cgroup folder from the host.
    pub native_systemd: bool,
    /// The role has a setup package: the setup runner's folder.
    pub setup: bool,
}

impl Mounts {
    /// Every volume and mount of a role's pod, in the order the pod lists them.
    pub fn of(headless: &str, role: &RoleVolumes<'_>) -> Mounts {
        let mut mounts = Mounts::own(headless, role);
        let cluster_role = role.cluster_role;
        if let Some(secret) = &cluster_role.secret {
            mounts.secret(secret);
        }
        mounts.projections(&cluster_role.volume_projections);
        mounts
    }

    /// What kdrender mounts of its own accord: all but the role's Secret and projected claims.
    fn own(headless: &str, role: &RoleVolumes<'_>) -> Mounts {
        let mut mounts = Mounts::default();
        mounts.configmeta(headless);
        mounts.persisted(role.persisted);
        if role.setup {
            mounts.setup();
        }
        if let Some((configmap, files)) = role.files {
            mounts.config_files(configmap, files);
        }
        if role.systemd {
            mounts.systemd(role.native_systemd);
        }
        if let Some(size) = &role.cluster_role.shared_memory {
            mounts.shared_memory(size);
        }
        let (volumes, app) = tmpfs::folders(&mounts.app);
        mounts.volumes.extend(volumes);
        mounts.app.extend(app);
        mounts
    }

    /// The configmeta ConfigMap and the folder the member's `configmeta.json` is assembled in.
    /// The init step sees them outside /etc, so that seeding /etc copies none of them.
    fn configmeta(&mut self, headless: &str) {
        self.volumes.extend([
            value!({"name": CONFIGMETA_VOLUME, "configMap": {"name": names::configmeta_configmap(headless)}}),
            value!({"name": GUESTCONFIG_VOLUME, "emptyDir": {}}),
        ]);
        self.app.extend([
            value!({"name": CONFIGMETA_VOLUME, "mountPath": CONFIGMETA_MOUNT, "readOnly": true}),
            value!({"name": GUESTCONFIG_VOLUME, "mountPath": GUESTCONFIG_DIR}),
        ]);
        self.init.extend([
            value!({"name": CONFIGMETA_VOLUME, "mountPath": INIT_CONFIGMETA_MOUNT, "readOnly": true}),
            value!({"name": GUESTCONFIG_VOLUME, "mountPath": INIT_GUESTCONFIG_MOUNT}),
        ]);
    }

    /// The setup runner's folder: the app container works in it, and the init step that copies
    /// configcli in writes the package there. It lives as long as the pod.
    fn setup(&mut self) {
        self.volumes
            .push(value!({"name": SETUP_VOLUME, "emptyDir": {}}));
        self.app
            .push(value!({"name": SETUP_VOLUME, "mountPath": SETUP_DIR}));
        self.configcli
            .push(value!({"name": SETUP_VOLUME, "mountPath": INIT_SETUP_MOUNT}));
    }

    /// The member's volume: whole for the init step, which seeds it; each persisted directory
    /// from its own sub-folder for the app.
    fn persisted(&mut self, persisted: &[String]) {
        if persisted.is_empty() {
            return;
        }
        self.init
            .push(value!({"name": PERSISTED_CLAIM, "mountPath": INIT_VOLUME_MOUNT}));
        self.app.extend(persisted.iter().map(|dir| {
            value!({"name": PERSISTED_CLAIM, "mountPath": dir, "subPath": dir.trim_start_matches('/')})
        }));
    }

    /// One volume of the files ConfigMap per file mode, with every key as a file named after
    /// it, and a mount per file. Nothing here lists members, so adding a member leaves the pod
    /// template alone; a member's own file is found through its pod name (`subPathExpr`).
    fn config_files(&mut self, configmap: &str, files: &[ConfigFile]) {
        let mut modes: Vec<Option<u32>> = files.iter().map(|f| f.mode).collect();
        modes.sort_unstable();
        modes.dedup();
        self.volumes.extend(modes.into_iter().map(|mode| {
            let source = with_fields(
                value!({"name": configmap}),
                [("defaultMode", mode.map(|m| value!(m)))],
            );
            value!({"name": names::files_volume(mode), "configMap": source})
        }));
        self.app.extend(files.iter().map(file_mount));
    }

    /// Unless the nodes run systemd natively, the host's cgroups as KubeDirector mounted them:
    /// all of them read-only, and systemd's own hierarchy (cgroup v1) read-write, for systemd in
    /// the container to manage its services' cgroups.
    fn systemd(&mut self, native: bool) {
        if native {
            return;
        }
        for (name, path, read_only) in [
            (CGROUP_VOLUME, CGROUP_DIR, true),
            (SYSTEMD_CGROUP_VOLUME, SYSTEMD_CGROUP_DIR, false),
        ] {
            // `Directory`: a node without the hierarchy (cgroup v2 only) refuses the pod, saying
            // why, rather than have the runtime create the folder, which on cgroup v2 would be a
            // new cgroup.
            self.volumes
                .push(value!({"name": name, "hostPath": {"path": path, "type": "Directory"}}));
            self.app
                .push(value!({"name": name, "mountPath": path, "readOnly": read_only}));
        }
    }

    fn shared_memory(&mut self, size: &Quantity) {
        self.volumes.push(value!({"name": SHARED_MEMORY_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": &size.text}}));
        self.app
            .push(value!({"name": SHARED_MEMORY_VOLUME, "mountPath": "/dev/shm"}));
    }

    fn secret(&mut self, secret: &Secret) {
        let name = names::secret_volume(&secret.name);
        let source = with_fields(
            value!({"secretName": &secret.name}),
            [("defaultMode", secret.default_mode.map(|m| value!(m)))],
        );
        self.volumes.push(value!({"name": &name, "secret": source}));
        self.app.push(
            value!({"name": name, "mountPath": &secret.mount_path, "readOnly": secret.read_only}),
        );
    }

    fn projections(&mut self, projections: &[VolumeProjection]) {
        for (i, projection) in projections.iter().enumerate() {
            let name = names::projected_volume(i);
            self.volumes.push(value!({"name": &name, "persistentVolumeClaim": {"claimName": &projection.claim, "readOnly": projection.read_only}}));
            self.app.push(value!({"name": name, "mountPath": &projection.mount_path, "readOnly": projection.read_only}));
        }
    }
}

/// A config file's mount: its key of the files ConfigMap, or the member's own copy of it.
fn file_mount(file: &ConfigFile) -> Value {
    let (field, path) = match &file.content {
        Content::Shared(_) => ("subPath", file.key.clone()),
        Content::PerMember(_) => (
            "subPathExpr",
            names::member_key(&format!("$({POD_NAME_ENV})"), &file.key),
        ),
    };
    with_fields(
        value!({"name": names::files_volume(file.mode), "mountPath": &file.target, "readOnly": true}),
        [(field, Some(value!(path)))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cardinality, ConfigPackage, Events};
    use crate::source::{FileId, Origin, Span};

    fn role(package: Option<ConfigPackage>, dirs: &[&str]) -> AppRole {
        AppRole {
            id: "r".into(),
            cardinality: Cardinality {
                minimum: 1,
                open: false,
            },
            image: "img".into(),
            config_package: package,
            persist_dirs: dirs.iter().map(|d| d.to_string()).collect(),
            events: Events::ALL,
            min_resources: Default::default(),
            min_storage: None,
            ephemeral_mode_supported: false,
            stdin: false,
            tty: false,
            services: vec![],
            container: Default::default(),
            sync_wave: None,
            origin: Origin {
                file: FileId(0),
                span: Span::default(),
            },
        }
    }

    #[test]
    fn persisted_dirs_follow_kubedirector_defaults_and_fold_nested_ones() {
        let new_layout = Some(ConfigPackage {
            url: "file:///x.tgz".into(),
            new_layout: true,
        });
        assert_eq!(
            persisted_dirs(&role(
                new_layout,
                &["/var/lib/cassandra", "/etc/cassandra", "/data"]
            )),
            [
                "/data",
                "/etc",
                "/opt/guestconfig",
                "/usr/local/bin",
                "/usr/local/lib",
                "/var/lib/cassandra",
                "/var/log/guestconfig"
            ]
        );
        let legacy = Some(ConfigPackage {
            url: "file:///x.tgz".into(),
            new_layout: false,
        });
        assert_eq!(
            persisted_dirs(&role(legacy, &["/usr/lib/spark", "/home"])),
            ["/etc", "/home", "/opt", "/usr"]
        );
        assert_eq!(
            persisted_dirs(&role(None, &["/var/lib/kafka"])),
            ["/etc", "/var/lib/kafka"]
        );
    }
}
