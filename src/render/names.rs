//! The names kdrender gives what it renders: objects, ConfigMap keys, containers, volumes,
//! claims, mount points, labels and annotations.
//!
//! Each is defined here once and used wherever it is written or read back: by the builders, by
//! the init step's script, and by `kdrender diff`, which explains a restart by recognising these
//! names in the objects it compares. Renaming one here renames it everywhere. Object names
//! that derive from a cluster's and its roles' names are built here too (resolve settles them
//! once per cluster); a name too long for Kubernetes is shortened with a stable hash, and one
//! that must begin with a letter and does not gets KubeDirector's prefix.

use crate::names::MAX_DNS_LABEL;

// Objects.

/// The longest StatefulSet name whose pods still get a valid `controller-revision-hash` label
/// (`<name>-<10-character hash>` must fit in 63).
pub const MAX_STATEFULSET_NAME: usize = 52;
/// What begins the headless Service's name when the cluster's name cannot (it begins with a
/// digit): KubeDirector's own prefix for it.
pub const HEADLESS_SERVICE_PREFIX: &str = "kdhs-";
/// What begins a member Service's name when its pod's name cannot (KubeDirector's `s-`).
pub const MEMBER_SERVICE_PREFIX: &str = "s-";
/// Characters of the hash that ends a shortened name.
const HASH_SUFFIX: usize = 8;

/// The headless Service, and the DNS subdomain of every member: the cluster's name (lower case,
/// `_` and `.` turned into `-`), after [`HEADLESS_SERVICE_PREFIX`] when it begins with a digit (a
/// Service name is a DNS-1035 label), shortened to 63 characters.
pub fn headless_service(cluster: &str) -> String {
    let name = crate::names::munge(cluster);
    shortened(letter_first(name, HEADLESS_SERVICE_PREFIX), MAX_DNS_LABEL)
}

/// A role's StatefulSet: `<cluster>-<role>`, shortened to [`MAX_STATEFULSET_NAME`] characters.
pub fn statefulset(cluster: &str, role: &str) -> String {
    let name = format!(
        "{}-{}",
        crate::names::munge(cluster),
        crate::names::munge(role)
    );
    shortened(name, MAX_STATEFULSET_NAME)
}

/// A member's own Service: its pod's name, after [`MEMBER_SERVICE_PREFIX`] when that begins with
/// a digit.
pub fn member_service(pod: &str) -> String {
    shortened(
        letter_first(pod.to_string(), MEMBER_SERVICE_PREFIX),
        MAX_DNS_LABEL,
    )
}

/// A member's own Service as KubeDirector's default naming scheme (`UID`) names it:
/// `s-<pod>`.
pub fn prefixed_member_service(pod: &str) -> String {
    shortened(format!("{MEMBER_SERVICE_PREFIX}{pod}"), MAX_DNS_LABEL)
}

/// `name`, after `prefix` unless it begins with a letter.
fn letter_first(name: String, prefix: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name
    } else {
        format!("{prefix}{name}")
    }
}

/// `name` when it has at most `max` characters; otherwise its beginning, `-` and the first
/// [`HASH_SUFFIX`] hex digits of its SHA-256, `max` characters in all. The same name always
/// shortens the same way, and two names that share their beginning still differ.
pub fn shortened(name: String, max: usize) -> String {
    use sha2::{Digest, Sha256};
    if name.len() <= max {
        return name;
    }
    let digest = Sha256::digest(name.as_bytes());
    let suffix: String = digest
        .iter()
        .flat_map(|byte| [byte >> 4, byte & 0xf])
        .take(HASH_SUFFIX)
        .filter_map(|nibble| char::from_digit(u32::from(nibble), 16))
        .collect();
    let keep = max.saturating_sub(HASH_SUFFIX + 1);
    let cut = name
        .char_indices()
        .map(|(at, c)| at + c.len_utf8())
        .take_while(|end| *end <= keep)
        .last()
        .unwrap_or(0);
    let head = name.get(..cut).unwrap_or("").trim_end_matches(['-', '.']);
    format!("{head}-{suffix}")
}

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
/// The `<role> <fqdn>` lines the setup runner compares, to tell members who came and went.
pub const MEMBERSHIP_KEY: &str = "membership";
/// A `<cluster> <digest>` line per connected cluster, which the setup runner compares to tell
/// members to reconnect.
pub const CONNECTIONS_KEY: &str = "connections";
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
/// The init step that copies configcli's package out of the image the settings name.
pub const CONFIGCLI_CONTAINER: &str = "kdrender-configcli";
/// The init step that puts the cluster's domain first in the pod's DNS search list.
pub const DNS_CONTAINER: &str = "kdrender-dns";

// Volumes and volume claim templates.

/// The configmeta ConfigMap.
pub const CONFIGMETA_VOLUME: &str = "configmeta";
/// The folder the init step writes the member's `configmeta.json` into.
pub const GUESTCONFIG_VOLUME: &str = "guestconfig";
/// The folder the setup runner works in: configcli's package, its state and its log.
pub const SETUP_VOLUME: &str = "kdrender-setup";
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
/// Where the app container has the setup runner's folder (inside [`KDRENDER_DIR`]).
pub const SETUP_DIR: &str = "/etc/kdrender/setup";
/// Where the init step that copies configcli's package sees the setup runner's folder.
pub const INIT_SETUP_MOUNT: &str = "/kdrender/setup";
/// configcli's package, in the setup runner's folder.
pub const CONFIGCLI_PACKAGE: &str = "configcli.tgz";
/// Where KubeDirector's operator image keeps configcli's package.
pub const KUBEDIRECTOR_CONFIGCLI_PACKAGE: &str = "/home/kubedirector/configcli.tgz";
/// Where the init step sees the configmeta ConfigMap: outside `/etc`, which it seeds.
pub const INIT_CONFIGMETA_MOUNT: &str = "/kdrender/configmeta";
/// Where the init step writes the member's `configmeta.json`.
pub const INIT_GUESTCONFIG_MOUNT: &str = "/kdrender/guestconfig";
/// Where the init step sees the member's volume.
pub const INIT_VOLUME_MOUNT: &str = "/mnt";
/// The file KubeDirector's init container leaves on a member's volume once it has seeded it
/// (its path in the member; on the volume, below the volume's `etc/`).
pub const KUBEDIRECTOR_INIT_MARKER: &str = "/etc/kubedirector.init";
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
/// On the objects of a cluster adopted from KubeDirector (never on its pods): which
/// KubeDirectorCluster they took over. `kdrender diff` tells an adoption from a fresh start by it.
pub const ADOPTED_ANNOTATION: &str = "kdrender.dev/adopted-from";

/// The [`ADOPTED_ANNOTATION`] of an adopted cluster's objects: the KubeDirectorCluster's UID.
pub fn adopted_annotation(
    topology: &crate::resolve::Topology<'_>,
) -> Option<(String, serde_json::Value)> {
    let adoption = topology.adoption?;
    let value = format!("KubeDirectorCluster/{}", adoption.id);
    Some((
        ADOPTED_ANNOTATION.to_string(),
        serde_json::Value::String(value),
    ))
}

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
    fn the_setup_runner_finds_what_render_names_where_render_puts_it() {
        let runner = include_str!("setup.sh");
        for line in [
            format!("mounted=$root{CONFIGMETA_MOUNT}\n"),
            format!("work=$root{SETUP_DIR}\n"),
            format!("guest=$root{GUESTCONFIG_DIR}\n"),
            format!(
                "\"$from/{CONFIGMETA_KEY}\" \"$from/{}\"",
                node_key("$POD_NAME")
            ),
            format!("for key in {MEMBERSHIP_KEY} {CONNECTIONS_KEY}; do"),
            format!("\"$work/{CONFIGCLI_PACKAGE}\""),
        ] {
            assert!(runner.contains(&line), "{line}");
        }
        assert!(SETUP_DIR.starts_with(&format!("{KDRENDER_DIR}/")));
    }

    #[test]
    fn names_that_fit_stay_as_they_are() {
        assert_eq!(headless_service("Kafka.Prod"), "kafka-prod");
        assert_eq!(statefulset("kafka", "broker_1"), "kafka-broker-1");
        assert_eq!(member_service("kafka-broker-1-0"), "kafka-broker-1-0");
        let longest = "a".repeat(MAX_STATEFULSET_NAME - 2);
        assert_eq!(statefulset(&longest, "r"), format!("{longest}-r"));
    }

    #[test]
    fn long_names_are_shortened_with_a_stable_hash() {
        let cluster = "shop-for-the-enterprise-with-a-very-long-name-x";
        let frontend = statefulset(cluster, "frontend");
        let cache = statefulset(cluster, "cache");
        for name in [&frontend, &cache] {
            assert_eq!(name.len(), MAX_STATEFULSET_NAME, "{name}");
            assert!(crate::names::is_dns1123_label_form(name), "{name}");
            assert!(name.starts_with("shop-for-the-enterprise-with-a-very-lon"));
        }
        assert_ne!(frontend, cache);
        assert_eq!(frontend, statefulset(cluster, "frontend"));
        // The cut never leaves a '-' before the hash's own.
        let dashes = shortened(format!("{}-{}", "a".repeat(42), "b".repeat(20)), 52);
        assert!(!dashes.contains("--"), "{dashes}");
        assert_eq!(dashes.len(), 51);
    }

    #[test]
    fn service_names_begin_with_a_letter() {
        assert_eq!(headless_service("24shop"), "kdhs-24shop");
        assert_eq!(member_service("24shop-web-0"), "s-24shop-web-0");
        let long = format!("1{}", "a".repeat(62));
        let headless = headless_service(&long);
        assert_eq!(headless.len(), 63);
        assert!(
            crate::names::check_dns1035_label(&headless).is_ok(),
            "{headless}"
        );
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
