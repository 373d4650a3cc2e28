//! The init steps. `kdrender-init` runs the role's image with its resources before the app, to
//! assemble the member's `configmeta.json` from the cluster's document and the member's node
//! section, and to seed the persisted directories onto the member's volume on first start, one
//! marker per directory; who it runs as is [`security`]'s decision. In a cluster adopted from
//! KubeDirector, a volume KubeDirector seeded (its marker `/etc/kubedirector.init` on it) holds
//! the member's own directories: those are never copied over. In roles with a setup package,
//! `kdrender-configcli` copies configcli's package out of the image the settings name
//! (KubeDirector's operator image) for the setup runner to install.

use super::value::value;
use serde_json::Value;

use super::names::{
    self, CONFIGCLI_CONTAINER, CONFIGCLI_PACKAGE, CONFIGMETA_KEY, INIT_CONFIGMETA_MOUNT,
    INIT_CONTAINER, INIT_GUESTCONFIG_MOUNT, INIT_SETUP_MOUNT, INIT_VOLUME_MOUNT,
    KUBEDIRECTOR_CONFIGCLI_PACKAGE, KUBEDIRECTOR_INIT_MARKER, POD_NAME_ENV,
};
use super::security::{self, InitUser};

/// The init step: the role's image and resources, the script, and its security context.
/// `adopted`: the cluster was adopted from KubeDirector, whose volumes may be seeded already.
pub fn container(
    image: &str,
    persisted: &[String],
    init: InitUser,
    resources: &Value,
    mounts: Vec<Value>,
    adopted: bool,
) -> Value {
    value!({
        "name": INIT_CONTAINER,
        "image": image,
        "command": ["/bin/sh", "-c", init_script(persisted, init, adopted)],
        "env": [pod_name_env()],
        "resources": resources,
        "securityContext": security::init_container_context(init),
        "volumeMounts": mounts,
    })
}

/// The step that copies configcli's package from `image` into the setup runner's folder, readable
/// by the app's user. KubeDirector's image keeps it readable by its user and group 0 only, so the
/// step runs with group 0 (whatever the user); it writes nothing but the copy.
pub fn configcli_container(image: &str, mounts: Vec<Value>) -> Value {
    let copy = format!("{INIT_SETUP_MOUNT}/{CONFIGCLI_PACKAGE}");
    let resources = value!({"cpu": "100m", "memory": "64Mi"});
    value!({
        "name": CONFIGCLI_CONTAINER,
        "image": image,
        "command": [
            "/bin/sh",
            "-c",
            format!("cp {KUBEDIRECTOR_CONFIGCLI_PACKAGE} {copy} && chmod a+r {copy}"),
        ],
        "resources": {"limits": &resources, "requests": resources},
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": true,
            "runAsGroup": 0,
        },
        "volumeMounts": mounts,
    })
}

/// `POD_NAME`, from the pod's own name: both containers have it.
pub fn pod_name_env() -> Value {
    value!({"name": POD_NAME_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
}

/// The init step's script: assemble configmeta.json; seed persisted directories on first start.
/// As root, the copy keeps the image's owners, modes and file capabilities, and any error stops
/// the pod. As the app's user, what that user cannot read (or own) is left out, with a note: it
/// could not read it in the image either; any other error (a full volume) stops the pod.
fn init_script(persisted: &[String], init: InitUser, adopted: bool) -> String {
    let mut script = assemble_configmeta();
    if persisted.is_empty() {
        return script;
    }
    script.push_str(&match init {
        InitUser::Root => copy_as_root(),
        InitUser::App => copy_as_app_user(),
    });
    script.push_str(&seed_once(adopted));
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

/// `seed DIR`: copies DIR onto the member's volume unless its marker says it was done (or, in an
/// adopted cluster, KubeDirector did it).
fn seed_once(adopted: bool) -> String {
    let markers = format!("{INIT_VOLUME_MOUNT}/.kdrender-seeded");
    let seeded_by_kubedirector = if adopted {
        kubedirector_seeded(&markers)
    } else {
        String::new()
    };
    format!(
        "# Seed each persisted directory from the image once; a marker per directory records it.\n\
         seed() {{\n\
         \x20 marker=\"{markers}/$(printf '%s' \"$1\" | tr / _)\"\n\
         \x20 [ -e \"$marker\" ] && return 0\n\
         {seeded_by_kubedirector}\
         \x20 mkdir -p \"{INIT_VOLUME_MOUNT}$1\" || {{ echo \"{INIT_CONTAINER}: cannot create $1 on the volume (is it writable by the pod's user or fsGroup?)\" >&2; exit 1; }}\n\
         \x20 if [ -d \"$1\" ]; then\n\
         \x20   copy \"$1\" || {{ echo \"{INIT_CONTAINER}: copying $1 to the volume failed (is it big enough?)\" >&2; exit 1; }}\n\
         \x20 fi\n\
         \x20 mkdir -p {markers} && touch \"$marker\"\n\
         }}\n"
    )
}

/// The lines of `seed DIR` that keep what KubeDirector seeded: on a volume that carries
/// KubeDirector's marker, a directory already there is the member's own, and is marked seeded
/// as it is. A directory KubeDirector did not persist is not there, and is seeded as usual.
fn kubedirector_seeded(markers: &str) -> String {
    format!(
        "\x20 if [ -f \"{INIT_VOLUME_MOUNT}{KUBEDIRECTOR_INIT_MARKER}\" ] && [ -e \"{INIT_VOLUME_MOUNT}$1\" ]; then\n\
         \x20   echo \"{INIT_CONTAINER}: $1 was seeded by KubeDirector; kept as it is\" >&2\n\
         \x20   mkdir -p {markers} && touch \"$marker\"\n\
         \x20   return 0\n\
         \x20 fi\n"
    )
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_script_is_valid_posix_shell() {
        for init in [InitUser::Root, InitUser::App] {
            let script = init_script(
                &["/etc".to_string(), "/var/lib/it's".to_string()],
                init,
                true,
            );
            let status = std::process::Command::new("sh")
                .arg("-n")
                .arg("-c")
                .arg(&script)
                .status()
                .unwrap();
            assert!(status.success(), "{script}");
            assert!(script.contains("seed '/var/lib/it'\\''s'"));
        }
        let without = init_script(&[], InitUser::Root, true);
        assert!(!without.contains("seed"), "{without}");
    }
}
