//! The StatefulSet of a role, its pod template, and its PodDisruptionBudget.
//!
//! The pod template reproduces what KubeDirector's controller built (image, resources, ports,
//! capabilities, persisted directories on the member's volume, block devices, shared memory, the
//! secret and projected volumes, the systemd mounts) and adds what KubeDirector did at run time:
//! an init step ([`super::init`]), the cluster's domain first in the DNS search path for short
//! member names ([`super::dns`]), the config files ([`super::volumes`]), and, for roles with a
//! setup package, what KubeDirector did by exec: a postStart hook that starts the setup runner
//! (`setup.sh`), a startup probe that holds the member back until its setup is done (and says
//! why when it failed), and an init step that copies configcli in for the runner to install.

use super::value::value;
use serde_json::{Map, Value};

use super::files::ConfigFile;
use super::names::{self, APP_CONTAINER, CONFIGMETA_MOUNT, PERSISTED_CLAIM, SETUP_KEY};
use super::security::{self, InitUser};
use super::volumes::{self, Mounts, RoleVolumes};
use super::{Kind, Meta, dns, init, with_fields};
use crate::model::{App, AppRole, BlockStorage, ClusterRole, ConfigPackage, Settings};
use crate::quantity::{Amounts, Quantity};
use crate::resolve::{RoleTopology, Topology};

/// What a role's StatefulSet is built from.
pub struct RoleWorkload<'a> {
    pub topology: &'a Topology<'a>,
    pub role: &'a RoleTopology<'a>,
    pub cluster_role: &'a ClusterRole,
    /// The role's config files, and the name of its files ConfigMap when it has any.
    pub files: &'a [ConfigFile],
    pub files_configmap: Option<&'a str>,
    pub settings: &'a Settings,
    pub meta: &'a Meta<'a>,
}

/// A role's StatefulSet, without its rollout hash ([`crate::hash::stamp`] adds it).
pub fn statefulset(workload: &RoleWorkload<'_>) -> Value {
    let RoleWorkload {
        role,
        cluster_role,
        meta,
        ..
    } = *workload;
    let claims = claims(cluster_role);
    let spec = value!({
        "replicas": role.members.len(),
        "serviceName": &workload.topology.headless,
        "podManagementPolicy": "Parallel",
        "updateStrategy": {"type": "RollingUpdate"},
        "selector": {"matchLabels": meta.selector(Some(role))},
        "template": {
            "metadata": {
                "labels": meta.pod_labels(role, cluster_role),
                "annotations": meta.pod_annotations(cluster_role),
            },
            "spec": pod_spec(workload),
        },
    });
    // KubeDirector deleted a member's volumes when the member was removed.
    let retention = value!({"whenScaled": "Delete", "whenDeleted": "Retain"});
    let spec = with_fields(
        spec,
        [
            (
                "persistentVolumeClaimRetentionPolicy",
                (!claims.is_empty()).then_some(retention),
            ),
            ("volumeClaimTemplates", non_empty(claims)),
        ],
    );
    value!({
        "apiVersion": "apps/v1",
        "kind": Kind::StatefulSet,
        "metadata": meta.statefulset(&role.name, role),
        "spec": spec,
    })
}

/// The pod: the init step, the app container, their volumes, DNS and security.
fn pod_spec(workload: &RoleWorkload<'_>) -> Value {
    let RoleWorkload {
        topology,
        role,
        cluster_role,
        ..
    } = *workload;
    let app_role = role.app_role;
    let persisted = volumes::seeded_dirs(app_role, cluster_role);
    let mounts = Mounts::of(
        &topology.headless,
        &RoleVolumes {
            cluster_role,
            persisted: &persisted,
            files: workload.files_configmap.map(|name| (name, workload.files)),
            systemd: topology.app.systemd_required,
            native_systemd: workload.settings.native_systemd_support,
            setup: app_role.config_package.is_some(),
        },
    );
    let app_context = app_role.container.pod_security_context.as_ref();
    let init_user = InitUser::of(&persisted, app_context);
    let resources = resources(cluster_role);
    let mut init_steps = vec![init::container(
        &app_role.image,
        &persisted,
        init_user,
        &resources,
        mounts.init,
        topology.adoption.is_some(),
    )];
    init_steps.push(dns::container(
        &app_role.image,
        &topology.domain,
        &resources,
    ));
    if let (Some(_), Some(image)) = (&app_role.config_package, &workload.settings.configcli_image) {
        init_steps.push(init::configcli_container(image, mounts.configcli));
    }
    let app = app_container(topology.app, app_role, cluster_role, &resources, mounts.app);
    let spec = value!({
        "automountServiceAccountToken": cluster_role.service_account.is_some(),
        "dnsConfig": {"searches": [&topology.domain]},
        "enableServiceLinks": false,
        "initContainers": init_steps,
        "containers": [app],
        "volumes": mounts.volumes,
        "securityContext": security::pod_context(app_context, init_user, !persisted.is_empty()),
    });
    with_fields(
        spec,
        [
            (
                "serviceAccountName",
                cluster_role.service_account.as_ref().map(|a| value!(a)),
            ),
            ("affinity", cluster_role.affinity.as_deref().cloned()),
        ],
    )
}

/// The app's container: KubeDirector's settings and the app's container extension.
fn app_container(
    app: &App,
    app_role: &AppRole,
    cluster_role: &ClusterRole,
    resources: &Value,
    mounts: Vec<Value>,
) -> Value {
    let extension = &app_role.container;
    let container = value!({
        "name": APP_CONTAINER,
        "image": &app_role.image,
        "env": env(app_role, cluster_role),
        "resources": resources,
        "volumeMounts": mounts,
    });
    with_fields(
        container,
        [
            ("ports", non_empty(ports(app, app_role))),
            ("command", extension.command.as_ref().map(|c| value!(c))),
            ("args", extension.args.as_ref().map(|a| value!(a))),
            (
                "workingDir",
                extension.working_dir.as_ref().map(|d| value!(d)),
            ),
            ("readinessProbe", extension.readiness_probe.clone()),
            ("livenessProbe", extension.liveness_probe.clone()),
            (
                "startupProbe",
                app_role.config_package.as_ref().map(|_| setup_probe()),
            ),
            ("securityContext", security::app_container_context(app)),
            ("stdin", app_role.stdin.then_some(value!(true))),
            ("tty", app_role.tty.then_some(value!(true))),
            (
                "volumeDevices",
                cluster_role.block_storage.as_deref().map(block_devices),
            ),
            (
                "lifecycle",
                app_role
                    .config_package
                    .as_ref()
                    .map(|package| setup_hook(app, app_role, package)),
            ),
        ],
    )
}

/// `POD_NAME`, the app's and the cluster's variables, and KubeDirector's defaults.
fn env(app_role: &AppRole, cluster_role: &ClusterRole) -> Vec<Value> {
    let mut env = vec![init::pod_name_env()];
    env.extend(
        app_role
            .container
            .env
            .iter()
            .chain(&cluster_role.env)
            .map(|(name, value)| value!({"name": name, "value": value})),
    );
    if !requests_gpu(cluster_role) {
        env.push(value!({"name": "NVIDIA_VISIBLE_DEVICES", "value": "void"}));
    }
    if app_role
        .config_package
        .as_ref()
        .is_some_and(|p| p.new_layout)
    {
        env.push(value!({"name": "PYTHONUSERBASE", "value": "/usr/local"}));
    }
    env
}

/// KubeDirector's rule: the node's GPUs stay hidden (`NVIDIA_VISIBLE_DEVICES=void`) unless the
/// role requests some `nvidia.com/*` resource above zero. A limit without a request counts as
/// the request Kubernetes gives it (an extended resource's request defaults to its limit), so
/// that a GPU the pod is given is never hidden from it.
fn requests_gpu(cluster_role: &ClusterRole) -> bool {
    let limits_only = cluster_role
        .limits
        .iter()
        .filter(|(name, _)| !cluster_role.requests.contains_key(name));
    cluster_role
        .requests
        .iter()
        .chain(limits_only)
        .any(|(name, quantity)| name.starts_with("nvidia.com/") && !quantity.is_zero())
}

/// The ports of the role's services that have an endpoint.
fn ports(app: &App, app_role: &AppRole) -> Vec<Value> {
    app_role
        .services
        .iter()
        .filter_map(|id| app.service(id))
        .filter_map(|s| {
            s.endpoint
                .as_ref()
                .map(|e| value!({"name": &s.id, "containerPort": e.port, "protocol": "TCP"}))
        })
        .collect()
}

/// The member's block devices, one per block claim.
fn block_devices(block: &BlockStorage) -> Value {
    Value::Array(
        (0..block.devices)
            .map(|i| value!({"name": names::block_claim(i), "devicePath": format!("{}{i}", block.path_prefix)}))
            .collect(),
    )
}

/// The postStart hook that starts the setup runner: `setup.sh start PACKAGE EVENTS LAYOUT
/// [systemd]`. It returns at once; the runner works in the background.
fn setup_hook(app: &App, app_role: &AppRole, package: &ConfigPackage) -> Value {
    let layout = if package.new_layout { "new" } else { "legacy" };
    let mut command = vec![
        "/bin/sh".to_string(),
        format!("{CONFIGMETA_MOUNT}/{SETUP_KEY}"),
        "start".to_string(),
        package.url.clone(),
        app_role.events.names().join(" "),
        layout.to_string(),
    ];
    if app.systemd_required {
        command.push("systemd".to_string());
    }
    value!({"postStart": {"exec": {"command": command}}})
}

/// Checks taken by the startup probe before it gives up and the container is restarted (which
/// runs the setup again): every ten seconds for a day. A setup that fails stays visible that long.
const SETUP_PROBE_CHECKS: u32 = 8640;

/// The startup probe of a role with a setup package: the member is not Ready until the setup
/// runner has configured it, and the probe's message (in the pod's events) says where the setup
/// is, or why it failed. The app's own probes start once it passes.
fn setup_probe() -> Value {
    value!({
        "exec": {"command": ["/bin/sh", format!("{CONFIGMETA_MOUNT}/{SETUP_KEY}"), "probe"]},
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": SETUP_PROBE_CHECKS,
    })
}

/// Whether the role's members have volumes of their own (claim templates).
pub fn has_claims(cluster_role: &ClusterRole) -> bool {
    !claims(cluster_role).is_empty()
}

/// The volume claim templates: the member's volume, then its block devices.
fn claims(cluster_role: &ClusterRole) -> Vec<Value> {
    let persisted = cluster_role
        .storage
        .iter()
        .map(|s| claim(PERSISTED_CLAIM, &s.size, s.class.as_deref(), false));
    let block = cluster_role.block_storage.iter().flat_map(|b| {
        (0..b.devices)
            .map(move |i| claim(&names::block_claim(i), &b.size, b.class.as_deref(), true))
    });
    persisted.chain(block).collect()
}

fn claim(name: &str, size: &Quantity, class: Option<&str>, block: bool) -> Value {
    let spec = value!({
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": &size.text}},
    });
    let spec = with_fields(
        spec,
        [
            ("storageClassName", class.map(|c| value!(c))),
            ("volumeMode", block.then(|| value!("Block"))),
        ],
    );
    value!({"metadata": {"name": name}, "spec": spec})
}

fn resources(role: &ClusterRole) -> Value {
    let as_map = |map: &Amounts| -> Map<String, Value> {
        map.iter()
            .map(|(k, q)| (k.clone(), Value::String(q.text.clone())))
            .collect()
    };
    with_fields(
        value!({"limits": as_map(&role.limits)}),
        [(
            "requests",
            (!role.requests.is_empty()).then(|| Value::Object(as_map(&role.requests))),
        )],
    )
}

/// A list, unless it is empty.
fn non_empty(items: Vec<Value>) -> Option<Value> {
    (!items.is_empty()).then_some(Value::Array(items))
}

/// A PodDisruptionBudget that lets voluntary disruption take one member of the role at a time.
pub fn disruption_budget(role: &RoleTopology<'_>, meta: &Meta) -> Value {
    value!({
        "apiVersion": "policy/v1",
        "kind": Kind::PodDisruptionBudget,
        "metadata": meta.object(&role.name, Some(role)),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": meta.selector(Some(role))},
        },
    })
}
