//! The StatefulSet of a role, its pod template, and its PodDisruptionBudget.
//!
//! The pod template reproduces what KubeDirector's controller built (image, resources, ports,
//! capabilities, persisted directories on the member's volume, block devices, shared memory, the
//! secret and projected volumes, the systemd mounts) and adds what KubeDirector did at run time:
//! an init step that writes the member's `configmeta.json` and seeds persisted directories from
//! the image on first start, DNS search paths for short member names, the config files, and, for
//! apps with a setup package, a postStart hook that runs it.

use serde_json::{Map, Value, json};

use super::files::{ConfigFile, Content};
use super::names::{
    self, APP_CONTAINER, CONFIGMETA_KEY, CONFIGMETA_MOUNT, INIT_CONFIGMETA_MOUNT, INIT_CONTAINER,
    INIT_GUESTCONFIG_MOUNT, INIT_VOLUME_MOUNT, PERSISTED_CLAIM, POD_NAME_ENV,
};
use super::security::{self, InitUser};
use super::{Kind, Meta};
use crate::model::{App, AppRole, ClusterRole, Settings};
use crate::resolve::{RoleTopology, Topology};

/// KubeDirector's size limit for its in-memory /tmp, /run and /run/lock.
const SYSTEMD_TMPFS_LIMIT: &str = "20Gi";

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

/// The init step's script: assemble configmeta.json; seed persisted directories on first start.
/// As root, the copy keeps the image's owners, modes and file capabilities, and any error stops
/// the pod. As the app's user, what that user cannot read (or own) is left out, with a note: it
/// could not read it in the image either; any other error (a full volume) stops the pod.
fn init_script(persisted: &[String], init: InitUser) -> String {
    let mut script = assemble_configmeta();
    if persisted.is_empty() {
        return script;
    }
    script.push_str(&match init {
        InitUser::Root => copy_as_root(),
        InitUser::App => copy_as_app_user(),
    });
    script.push_str(&seed_once());
    for dir in persisted {
        script.push_str(&format!("seed {}\n", shell_quote(dir)));
    }
    script
}

/// Joins the cluster's document and the member's node section into the member's configmeta.json
/// (the shared document's last line is its closing `}`).
fn assemble_configmeta() -> String {
    let mounted = format!("{INIT_CONFIGMETA_MOUNT}/{CONFIGMETA_KEY}");
    let node = format!(
        "{INIT_CONFIGMETA_MOUNT}/{}",
        names::node_key(&format!("${POD_NAME_ENV}"))
    );
    let assembled = format!("{INIT_GUESTCONFIG_MOUNT}/{CONFIGMETA_KEY}");
    format!(
        "set -eu\n\
         # This member's configmeta.json: the cluster's document plus this member's node section.\n\
         {{\n\
         \x20 sed '$ s/}}$/,/' {mounted}\n\
         \x20 printf '  \"node\": '\n\
         \x20 cat \"{node}\"\n\
         \x20 printf '}}\\n'\n\
         }} >{assembled}\n"
    )
}

/// `copy DIR` as root: everything, with owners, modes and file capabilities.
fn copy_as_root() -> String {
    format!("copy() {{ cp -a \"$1/.\" \"{INIT_VOLUME_MOUNT}$1/\"; }}\n")
}

/// `copy DIR` as the app's user: what it may not read is noted and left out.
fn copy_as_app_user() -> String {
    format!(
        "copy() {{\n\
         \x20 errors=$(LC_ALL=C cp -a \"$1/.\" \"{INIT_VOLUME_MOUNT}$1/\" 2>&1) && return 0\n\
         \x20 printf '%s\\n' \"$errors\" | while IFS= read -r line; do\n\
         \x20   case $line in\n\
         \x20     *'Permission denied'|*'Operation not permitted') echo \"{INIT_CONTAINER}: not copied as this user: $line\" >&2 ;;\n\
         \x20     *) echo \"$line\" >&2; exit 1 ;;\n\
         \x20   esac\n\
         \x20 done\n\
         }}\n"
    )
}

/// `seed DIR`: copies DIR onto the member's volume unless its marker says it was done.
fn seed_once() -> String {
    let markers = format!("{INIT_VOLUME_MOUNT}/.kdrender-seeded");
    format!(
        "# Seed each persisted directory from the image once; a marker per directory records it.\n\
         seed() {{\n\
         \x20 marker=\"{markers}/$(printf '%s' \"$1\" | tr / _)\"\n\
         \x20 [ -e \"$marker\" ] && return 0\n\
         \x20 mkdir -p \"{INIT_VOLUME_MOUNT}$1\" || {{ echo \"{INIT_CONTAINER}: cannot create $1 on the volume (is it writable by the pod's user or fsGroup?)\" >&2; exit 1; }}\n\
         \x20 if [ -d \"$1\" ]; then\n\
         \x20   copy \"$1\" || {{ echo \"{INIT_CONTAINER}: copying $1 to the volume failed (is it big enough?)\" >&2; exit 1; }}\n\
         \x20 fi\n\
         \x20 mkdir -p {markers} && touch \"$marker\"\n\
         }}\n"
    )
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The init step: the role's image and resources, the script, and its security context.
fn init_container(
    image: &str,
    persisted: &[String],
    init: InitUser,
    resources: &Value,
    mounts: Vec<Value>,
) -> Value {
    json!({
        "name": INIT_CONTAINER,
        "image": image,
        "command": ["/bin/sh", "-c", init_script(persisted, init)],
        "env": [pod_name_env()],
        "resources": resources,
        "securityContext": security::init_container_context(init),
        "volumeMounts": mounts,
    })
}

fn pod_name_env() -> Value {
    json!({"name": names::POD_NAME_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
}

/// A role's StatefulSet, without its rollout hash (the caller adds it).
pub fn statefulset(
    topology: &Topology<'_>,
    role: &RoleTopology<'_>,
    cluster_role: &ClusterRole,
    files: &[ConfigFile],
    files_configmap: Option<&str>,
    settings: &Settings,
    meta: &Meta,
) -> Value {
    let app = topology.app;
    let app_role = role.app_role;
    let persisted = if cluster_role.storage.is_some() {
        persisted_dirs(app_role)
    } else {
        Vec::new()
    };

    let mut volumes = vec![
        json!({"name": names::CONFIGMETA_VOLUME, "configMap": {"name": names::configmeta_configmap(&topology.headless)}}),
        json!({"name": names::GUESTCONFIG_VOLUME, "emptyDir": {}}),
    ];
    let mut app_mounts = vec![
        json!({"name": names::CONFIGMETA_VOLUME, "mountPath": CONFIGMETA_MOUNT, "readOnly": true}),
        json!({"name": names::GUESTCONFIG_VOLUME, "mountPath": names::GUESTCONFIG_DIR}),
    ];
    // The init step sees them outside /etc, so that seeding /etc copies none of them.
    let mut init_mounts = vec![
        json!({"name": names::CONFIGMETA_VOLUME, "mountPath": names::INIT_CONFIGMETA_MOUNT, "readOnly": true}),
        json!({"name": names::GUESTCONFIG_VOLUME, "mountPath": names::INIT_GUESTCONFIG_MOUNT}),
    ];
    if !persisted.is_empty() {
        init_mounts.push(json!({"name": PERSISTED_CLAIM, "mountPath": names::INIT_VOLUME_MOUNT}));
        for dir in &persisted {
            app_mounts.push(
                json!({"name": PERSISTED_CLAIM, "mountPath": dir, "subPath": dir.trim_start_matches('/')}),
            );
        }
    }
    if let Some(configmap) = files_configmap {
        // One volume of the files ConfigMap per file mode, with every key as a file named after
        // it. Nothing here lists members, so adding a member leaves the pod template alone; a
        // member's own file is found through its pod name (`subPathExpr`).
        let mut modes: Vec<Option<u32>> = files.iter().map(|f| f.mode).collect();
        modes.sort_unstable();
        modes.dedup();
        for mode in &modes {
            let mut source = json!({"name": configmap});
            if let Some(mode) = mode {
                source["defaultMode"] = json!(mode);
            }
            volumes.push(json!({"name": names::files_volume(*mode), "configMap": source}));
        }
        for file in files {
            let mut mount = json!({"name": names::files_volume(file.mode), "mountPath": file.target, "readOnly": true});
            match &file.content {
                Content::Shared(_) => mount["subPath"] = json!(file.key),
                Content::PerMember(_) => {
                    mount["subPathExpr"] = json!(names::member_key(
                        &format!("$({})", names::POD_NAME_ENV),
                        &file.key
                    ))
                }
            }
            app_mounts.push(mount);
        }
    }
    if app.systemd_required {
        for (name, path) in names::SYSTEMD_TMPFS {
            volumes.push(json!({"name": name, "emptyDir": {"medium": "Memory", "sizeLimit": SYSTEMD_TMPFS_LIMIT}}));
            app_mounts.push(json!({"name": name, "mountPath": path}));
        }
        if !settings.native_systemd_support {
            volumes.push(json!({"name": names::CGROUP_VOLUME, "hostPath": {"path": "/sys/fs/cgroup", "type": "Directory"}}));
            app_mounts
                .push(json!({"name": names::CGROUP_VOLUME, "mountPath": "/sys/fs/cgroup", "readOnly": true}));
        }
    }
    if let Some(size) = &cluster_role.shared_memory {
        volumes
            .push(json!({"name": names::SHARED_MEMORY_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": size.text}}));
        app_mounts.push(json!({"name": names::SHARED_MEMORY_VOLUME, "mountPath": "/dev/shm"}));
    }
    if let Some(secret) = &cluster_role.secret {
        let name = names::secret_volume(&secret.name);
        let mut source = json!({"secretName": secret.name});
        if let Some(mode) = secret.default_mode {
            source["defaultMode"] = json!(mode);
        }
        volumes.push(json!({"name": name, "secret": source}));
        app_mounts.push(
            json!({"name": name, "mountPath": secret.mount_path, "readOnly": secret.read_only}),
        );
    }
    for (i, projection) in cluster_role.volume_projections.iter().enumerate() {
        let name = names::projected_volume(i);
        volumes.push(json!({"name": name, "persistentVolumeClaim": {"claimName": projection.claim, "readOnly": projection.read_only}}));
        app_mounts.push(json!({"name": name, "mountPath": projection.mount_path, "readOnly": projection.read_only}));
    }

    let resources = resources(cluster_role);
    let extension = &app_role.container;
    let init_user = InitUser::of(&persisted, extension.pod_security_context.as_ref());
    let init = init_container(
        &app_role.image,
        &persisted,
        init_user,
        &resources,
        init_mounts,
    );

    let mut env = vec![pod_name_env()];
    env.extend(
        extension
            .env
            .iter()
            .chain(&cluster_role.env)
            .map(|(name, value)| json!({"name": name, "value": value})),
    );
    let wants_gpu = cluster_role
        .limits
        .keys()
        .chain(cluster_role.requests.keys())
        .any(|k| k.starts_with("nvidia.com/"));
    if !wants_gpu {
        env.push(json!({"name": "NVIDIA_VISIBLE_DEVICES", "value": "void"}));
    }
    if app_role
        .config_package
        .as_ref()
        .is_some_and(|p| p.new_layout)
    {
        env.push(json!({"name": "PYTHONUSERBASE", "value": "/usr/local"}));
    }

    let ports: Vec<Value> = app_role
        .services
        .iter()
        .filter_map(|id| app.service(id))
        .filter_map(|s| {
            s.endpoint
                .as_ref()
                .map(|e| json!({"name": s.id, "containerPort": e.port, "protocol": "TCP"}))
        })
        .collect();

    let mut container = json!({
        "name": APP_CONTAINER,
        "image": app_role.image,
        "env": env,
        "resources": resources,
        "volumeMounts": app_mounts,
    });
    if !ports.is_empty() {
        container["ports"] = Value::Array(ports);
    }
    if let Some(command) = &extension.command {
        container["command"] = json!(command);
    }
    if let Some(args) = &extension.args {
        container["args"] = json!(args);
    }
    if let Some(dir) = &extension.working_dir {
        container["workingDir"] = json!(dir);
    }
    if let Some(probe) = &extension.readiness_probe {
        container["readinessProbe"] = probe.clone();
    }
    if let Some(probe) = &extension.liveness_probe {
        container["livenessProbe"] = probe.clone();
    }
    if let Some(context) = security::app_container_context(app) {
        container["securityContext"] = context;
    }
    if app_role.stdin {
        container["stdin"] = json!(true);
    }
    if app_role.tty {
        container["tty"] = json!(true);
    }
    if let Some(block) = &cluster_role.block_storage {
        container["volumeDevices"] = Value::Array(
            (0..block.devices)
                .map(|i| json!({"name": names::block_claim(i), "devicePath": format!("{}{i}", block.path_prefix)}))
                .collect(),
        );
    }
    if let Some(package) = &app_role.config_package {
        let mut command = vec![
            "/bin/sh".to_string(),
            format!("{CONFIGMETA_MOUNT}/setup.sh"),
            package.url.clone(),
            app_role.id.clone(),
            app_role.events.names().join(" "),
        ];
        if app.systemd_required {
            command.push("systemd".to_string());
        }
        container["lifecycle"] = json!({"postStart": {"exec": {"command": command}}});
    }

    let mut pod_spec = json!({
        "automountServiceAccountToken": cluster_role.service_account.is_some(),
        "dnsConfig": {"searches": [topology.domain]},
        "enableServiceLinks": false,
        "initContainers": [init],
        "containers": [container],
        "volumes": volumes,
    });
    if let Some(account) = &cluster_role.service_account {
        pod_spec["serviceAccountName"] = json!(account);
    }
    if let Some(affinity) = &cluster_role.affinity {
        pod_spec["affinity"] = affinity.clone();
    }
    pod_spec["securityContext"] = security::pod_context(
        extension.pod_security_context.as_ref(),
        init_user,
        !persisted.is_empty(),
    );

    let mut claims = Vec::new();
    if let Some(storage) = &cluster_role.storage {
        claims.push(claim(
            PERSISTED_CLAIM,
            &storage.size.text,
            storage.class.as_deref(),
            false,
        ));
    }
    if let Some(block) = &cluster_role.block_storage {
        for i in 0..block.devices {
            claims.push(claim(
                &names::block_claim(i),
                &block.size.text,
                block.class.as_deref(),
                true,
            ));
        }
    }

    let selector = meta.selector(Some(role));
    let mut spec = json!({
        "replicas": role.members.len(),
        "serviceName": topology.headless,
        "podManagementPolicy": "Parallel",
        "updateStrategy": {"type": "RollingUpdate"},
        "selector": {"matchLabels": selector},
        "template": {
            "metadata": {
                "labels": meta.pod_labels(role, cluster_role),
                "annotations": meta.pod_annotations(cluster_role),
            },
            "spec": pod_spec,
        },
    });
    if !claims.is_empty() {
        spec["volumeClaimTemplates"] = Value::Array(claims);
        // KubeDirector deleted a member's volumes when the member was removed.
        spec["persistentVolumeClaimRetentionPolicy"] =
            json!({"whenScaled": "Delete", "whenDeleted": "Retain"});
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": Kind::StatefulSet,
        "metadata": meta.object(&role.name, Some(role)),
        "spec": spec,
    })
}

fn claim(name: &str, size: &str, class: Option<&str>, block: bool) -> Value {
    let mut spec = json!({
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}},
    });
    if let Some(class) = class {
        spec["storageClassName"] = json!(class);
    }
    if block {
        spec["volumeMode"] = json!("Block");
    }
    json!({"metadata": {"name": name}, "spec": spec})
}

fn resources(role: &ClusterRole) -> Value {
    let as_map = |map: &std::collections::BTreeMap<String, crate::quantity::Quantity>| -> Map<String, Value> {
        map.iter().map(|(k, q)| (k.clone(), Value::String(q.text.clone()))).collect()
    };
    let mut resources = json!({"limits": as_map(&role.limits)});
    if !role.requests.is_empty() {
        resources["requests"] = Value::Object(as_map(&role.requests));
    }
    resources
}

/// A PodDisruptionBudget that lets voluntary disruption take one member of the role at a time.
pub fn disruption_budget(role: &RoleTopology<'_>, meta: &Meta) -> Value {
    json!({
        "apiVersion": "policy/v1",
        "kind": Kind::PodDisruptionBudget,
        "metadata": meta.object(&role.name, Some(role)),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": meta.selector(Some(role))},
        },
    })
}

/// What of the app every role consumes: part of each role's rollout hash.
pub fn app_inputs(app: &App) -> Value {
    json!({
        "configMeta": app.config_meta,
        "version": app.version,
        "distroID": app.distro_id,
    })
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

    #[test]
    fn init_script_is_valid_posix_shell() {
        for init in [InitUser::Root, InitUser::App] {
            let script = init_script(&["/etc".to_string(), "/var/lib/it's".to_string()], init);
            let status = std::process::Command::new("sh")
                .arg("-n")
                .arg("-c")
                .arg(&script)
                .status()
                .unwrap();
            assert!(status.success(), "{script}");
            assert!(script.contains("seed '/var/lib/it'\\''s'"));
        }
        let without = init_script(&[], InitUser::Root);
        assert!(!without.contains("seed"), "{without}");
    }
}
