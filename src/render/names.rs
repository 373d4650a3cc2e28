//! The names kdrender gives what it renders: objects, ConfigMap keys, containers, volumes,
//! claims, mount points, labels and annotations.
//!
//! Each is defined here once and used wherever it is written or read back: by the builders, by
//! the init step's script, and by `kdrender diff`, which explains a restart by recognising these
//! names in the objects it compares. Renaming one here renames it everywhere.

// Objects.

/// The ConfigMap with `configmeta.json`, the members' node sections and the setup runner.
pub fn configmeta_configmap(headless: &str) -> String {
    format!("{headless}-configmeta")
}

/// The ConfigMap with a role's config files, named after the role's StatefulSet.
pub fn files_configmap(statefulset: &str) -> String {
    format!("{statefulset}-files")
}

/// A member's pod: Kubernetes names a StatefulSet's pods `<statefulset>-<ordinal>`.
pub fn pod(statefulset: &str, ordinal: impl std::fmt::Display) -> String {
    format!("{statefulset}-{ordinal}")
}

/// A member's PersistentVolumeClaim: Kubernetes names them `<claim template>-<pod>`.
pub fn member_claim(claim: &str, pod: &str) -> String {
    format!("{claim}-{pod}")
}

// Keys of the configmeta ConfigMap.

/// The cluster's shared `configmeta.json`.
pub const CONFIGMETA_KEY: &str = "configmeta.json";
/// The `<role> <fqdn>` lines the setup runner compares across restarts.
pub const MEMBERSHIP_KEY: &str = "membership";
/// The setup runner.
pub const SETUP_KEY: &str = "setup.sh";

/// A member's own `node` section (the init step passes `$POD_NAME` as `pod`).
pub fn node_key(pod: &str) -> String {
    format!("node-{pod}.json")
}

// Keys of a role's files ConfigMap.

/// The key of a config file: its path in the container, `/` turned into `_`.
pub fn file_key(target: &str) -> String {
    target.trim_start_matches('/').replace('/', "_")
}

/// The key of a member's own copy of a per-member file.
pub fn member_key(pod: &str, key: &str) -> String {
    format!("{pod}.{key}")
}

// Containers.

/// The init step: assembles `configmeta.json` and seeds the persisted directories.
pub const INIT_CONTAINER: &str = "kdrender-init";
/// The app's own container.
pub const APP_CONTAINER: &str = "app";
/// The init step that puts the cluster's domain first in the pod's DNS search list.
pub const DNS_CONTAINER: &str = "kdrender-dns";

// Volumes and volume claim templates.

/// The configmeta ConfigMap.
pub const CONFIGMETA_VOLUME: &str = "configmeta";
/// The folder the init step writes the member's `configmeta.json` into.
pub const GUESTCONFIG_VOLUME: &str = "guestconfig";
/// The claim of the member's volume, which holds the persisted directories.
pub const PERSISTED_CLAIM: &str = "p";
/// `/dev/shm` in memory.
pub const SHARED_MEMORY_VOLUME: &str = "shm";
/// The host's cgroup folder, for systemd apps without native support.
pub const CGROUP_VOLUME: &str = "cgroup";
/// The host's systemd cgroup hierarchy (cgroup v1), which systemd in the container writes to.
pub const SYSTEMD_CGROUP_VOLUME: &str = "cgroup-systemd";
/// The in-memory folders of every app container: volume name and mount path.
pub const TMPFS_FOLDERS: [(&str, &str); 3] =
    [("tmp", "/tmp"), ("run", "/run"), ("run-lock", "/run/lock")];
/// Every volume that projects the files ConfigMap begins with this.
pub const FILES_VOLUME: &str = "config-files";

/// The volume that projects the files ConfigMap with a given file mode.
pub fn files_volume(mode: Option<u32>) -> String {
    match mode {
        None => FILES_VOLUME.to_string(),
        Some(mode) => format!("{FILES_VOLUME}-{mode:o}"),
    }
}

/// The claim of a member's `index`th block device.
pub fn block_claim(index: u32) -> String {
    format!("b{index}")
}

/// The volume of the role's Secret.
pub fn secret_volume(secret: &str) -> String {
    format!("secret-vol-{secret}")
}

/// The volume of the role's `index`th projected claim.
pub fn projected_volume(index: usize) -> String {
    format!("projected-vol-{index}")
}

// Paths inside the pod.

/// What kdrender mounts below `/etc`; config files may not go there.
pub const KDRENDER_DIR: &str = "/etc/kdrender";
/// Where the app container sees the configmeta ConfigMap (inside [`KDRENDER_DIR`]).
pub const CONFIGMETA_MOUNT: &str = "/etc/kdrender/configmeta";
/// Where the member's assembled `configmeta.json` is, as in KubeDirector.
pub const GUESTCONFIG_DIR: &str = "/etc/guestconfig";
/// Where the init step sees the configmeta ConfigMap: outside `/etc`, which it seeds.
pub const INIT_CONFIGMETA_MOUNT: &str = "/kdrender/configmeta";
/// Where the init step writes the member's `configmeta.json`.
pub const INIT_GUESTCONFIG_MOUNT: &str = "/kdrender/guestconfig";
/// Where the init step sees the member's volume.
pub const INIT_VOLUME_MOUNT: &str = "/mnt";
/// The pod's DNS configuration, which every container of a pod mounts from one file.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";
/// The host's cgroups, which systemd apps see read-only (and from the host's, at the same path).
pub const CGROUP_DIR: &str = "/sys/fs/cgroup";
/// systemd's cgroup hierarchy on cgroup v1 nodes, which systemd apps see read-write.
pub const SYSTEMD_CGROUP_DIR: &str = "/sys/fs/cgroup/systemd";

// Environment.

/// The pod's name, which the init step and per-member files' mounts read.
pub const POD_NAME_ENV: &str = "POD_NAME";

// Labels and annotations.

pub const NAME_LABEL: &str = "app.kubernetes.io/name";
pub const VERSION_LABEL: &str = "app.kubernetes.io/version";
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
pub const APP_LABEL: &str = "kubedirector.hpe.com/kdapp";
pub const CLUSTER_LABEL: &str = "kubedirector.hpe.com/kdcluster";
pub const ROLE_LABEL: &str = "kubedirector.hpe.com/role";
/// Where the cluster's app comes from, as KubeDirector says it: `local` or `system`.
pub const APP_CATALOG_LABEL: &str = "kubedirector.hpe.com/appCatalog";
/// The cluster's name, on its StatefulSets and pods (KubeDirector's headless Service selects it).
pub const HEADLESS_LABEL: &str = "kubedirector.hpe.com/headless";
/// Kubernetes' label on each of a StatefulSet's pods.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
pub const PRETTY_NAME_ANNOTATION: &str = "kubedirector.hpe.com/kdapp-prettyName";
/// Argo CD's sync-wave annotation, set on a role's objects when the app gives the role a wave.
pub const SYNC_WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configmeta_mount_is_inside_the_reserved_folder() {
        assert!(CONFIGMETA_MOUNT.starts_with(&format!("{KDRENDER_DIR}/")));
    }

    #[test]
    fn the_setup_runner_reads_the_membership_where_it_is_mounted() {
        let runner = include_str!("setup.sh");
        assert!(runner.contains(&format!("{CONFIGMETA_MOUNT}/{MEMBERSHIP_KEY}")));
    }

    #[test]
    fn keys_and_volumes_are_named_as_the_outputs_show_them() {
        assert_eq!(file_key("/etc/a/b.conf"), "etc_a_b.conf");
        assert_eq!(member_key("demo-worker-0", "etc_x"), "demo-worker-0.etc_x");
        assert_eq!(files_volume(None), "config-files");
        assert_eq!(files_volume(Some(0o755)), "config-files-755");
        assert_eq!(block_claim(2), "b2");
        assert_eq!(node_key("$POD_NAME"), "node-$POD_NAME.json");
    }
}
