//! The shell the pods run: the init step that assembles each member's configmeta.json and seeds
//! the persisted directories (the setup runner has tests/setup_runner.rs).

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

#[test]
fn the_init_step_assembles_each_members_configmeta() {
    let repo = two_role_repo();
    let docs = documents(&render(repo.path()));
    let configmap = object(&docs, "ConfigMap", "demo-configmeta");
    let statefulset = object(&docs, "StatefulSet", "demo-worker");
    let script = statefulset["spec"]["template"]["spec"]["initContainers"][0]["command"][2]
        .as_str()
        .unwrap();

    let sandbox = tempfile::tempdir().unwrap();
    let mounted = sandbox.path().join("configmeta");
    std::fs::create_dir_all(&mounted).unwrap();
    std::fs::create_dir_all(sandbox.path().join("guestconfig")).unwrap();
    for (key, value) in configmap["data"].as_object().unwrap() {
        std::fs::write(mounted.join(key), value.as_str().unwrap()).unwrap();
    }
    let script = script.replace("/kdrender/", &format!("{}/", sandbox.path().display()));
    let status = Command::new("sh")
        .args(["-c", &script])
        .env("POD_NAME", "demo-worker-1")
        .status()
        .unwrap();
    assert!(status.success());

    let text = std::fs::read_to_string(sandbox.path().join("guestconfig/configmeta.json")).unwrap();
    let document: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(document["node"]["role_id"], "worker");
    assert_eq!(
        document["node"]["fqdn"],
        "demo-worker-1.demo.default.svc.cluster.local"
    );
    assert_eq!(document["node"]["id"], "5");
    assert_eq!(
        document["nodegroups"]["1"]["roles"]["coordinator"]["fqdns"][2],
        "demo-coordinator-2.demo.default.svc.cluster.local"
    );
    assert_eq!(
        document["nodegroups"]["1"]["config_metadata"]["tuning"],
        "standard"
    );
}

/// The init script of a role's StatefulSet in the two-role repository (with `app_role` added
/// to the coordinator's `spec.kdrender.roles` entry), and the pod's security context.
fn coordinator_init(app_role: &str) -> (String, serde_json::Value, serde_json::Value) {
    let repo = two_role_repo();
    write(
        repo.path(),
        "app.yaml",
        &two_role_app_with_roles(&format!("      coordinator:\n{app_role}")),
    );
    let docs = documents(&render(repo.path()));
    let pod = &object(&docs, "StatefulSet", "demo-coordinator")["spec"]["template"]["spec"];
    let init = &pod["initContainers"][0];
    (
        init["command"][2].as_str().unwrap().to_string(),
        init["securityContext"].clone(),
        pod["securityContext"].clone(),
    )
}

/// The part of an init script that seeds persisted directories (the `copy` and `seed`
/// functions), with the volume at `volume` instead of /mnt, followed by `seed DIR` for each of
/// `dirs`.
fn seeding(script: &str, volume: &Path, dirs: &[&Path]) -> String {
    let functions = &script[script.find("copy() ").unwrap()..script.find("seed '/").unwrap()];
    let mut shell = format!(
        "set -eu\n{}",
        functions.replace("/mnt", &volume.to_string_lossy())
    );
    for dir in dirs {
        shell.push_str(&format!("seed '{}'\n", dir.display()));
    }
    shell
}

fn is_root() -> bool {
    let output = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

/// The user the "app's user" tests run the seeding as: uid and gid 4242 with the volume's
/// group 4343 (standing in for the pod's fsGroup) when the tests run as root, else the user
/// running them, who is not root either.
fn as_app_user(script: &str) -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command.args([
            "--reuid=4242",
            "--regid=4242",
            "--groups=4343",
            "sh",
            "-c",
            script,
        ]);
        command
    } else {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }
}

/// A folder the app's user may enter, and a volume it may write to as Kubernetes prepares one
/// for an fsGroup: group 4343, group-writable, set-group-id (when the tests run as root).
fn sandbox_for_app_user() -> (tempfile::TempDir, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = tempfile::tempdir().unwrap();
    std::fs::set_permissions(sandbox.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let volume = sandbox.path().join("volume");
    std::fs::create_dir(&volume).unwrap();
    if is_root() {
        std::os::unix::fs::chown(&volume, Some(0), Some(4343)).unwrap();
        std::fs::set_permissions(&volume, std::fs::Permissions::from_mode(0o2775)).unwrap();
    }
    (sandbox, volume)
}

#[test]
fn the_init_step_seeds_each_persisted_directory_once() {
    let repo = two_role_repo();
    let docs = documents(&render(repo.path()));
    let statefulset = object(&docs, "StatefulSet", "demo-coordinator");
    let script = statefulset["spec"]["template"]["spec"]["initContainers"][0]["command"][2]
        .as_str()
        .unwrap();
    assert!(script.contains("seed '/etc'"), "{script}");

    // Run only the seeding part, against a fake image directory and a fake volume.
    let sandbox = tempfile::tempdir().unwrap();
    let image_dir = sandbox.path().join("image/etc");
    std::fs::create_dir_all(image_dir.join("app")).unwrap();
    std::fs::write(image_dir.join("app/app.conf"), "from the image\n").unwrap();
    std::fs::write(image_dir.join(".hidden"), "dotfiles too\n").unwrap();
    let volume = sandbox.path().join("volume");
    let run_seed = || {
        let shell = seeding(script, &volume, &[&image_dir]);
        assert!(
            Command::new("sh")
                .args(["-c", &shell])
                .status()
                .unwrap()
                .success()
        );
    };
    run_seed();
    let copied = volume.join(image_dir.strip_prefix("/").unwrap());
    assert_eq!(
        std::fs::read_to_string(copied.join("app/app.conf")).unwrap(),
        "from the image\n"
    );
    assert_eq!(
        std::fs::read_to_string(copied.join(".hidden")).unwrap(),
        "dotfiles too\n"
    );

    // The member changed its copy; a restart must not overwrite it with the image's.
    std::fs::write(copied.join("app/app.conf"), "changed by the member\n").unwrap();
    run_seed();
    assert_eq!(
        std::fs::read_to_string(copied.join("app/app.conf")).unwrap(),
        "changed by the member\n"
    );
}

#[test]
fn an_app_that_names_its_user_seeds_as_that_user_with_an_fs_group() {
    let (script, init_context, pod_context) =
        coordinator_init("        podSecurityContext: {runAsUser: 4242, runAsGroup: 4343}\n");
    // Not root: the init step inherits the pod's user, and the pod gets the user's group as
    // fsGroup so that the user can write to the volume.
    assert_eq!(
        init_context,
        serde_json::json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}})
    );
    assert_eq!(pod_context["runAsUser"], 4242);
    assert_eq!(pod_context["fsGroup"], 4343);
    assert_eq!(pod_context["seccompProfile"]["type"], "RuntimeDefault");

    // The image holds a readable file, a file and a folder only root may read, and lacks one
    // persisted folder altogether.
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (sandbox, volume) = sandbox_for_app_user();
    let image_etc = sandbox.path().join("image/etc");
    std::fs::create_dir_all(image_etc.join("ssl/private")).unwrap();
    std::fs::write(image_etc.join("hosts"), "127.0.0.1 localhost\n").unwrap();
    std::fs::write(image_etc.join("shadow"), "root:*:1::::::\n").unwrap();
    std::fs::write(image_etc.join("ssl/private/key.pem"), "secret\n").unwrap();
    std::fs::set_permissions(image_etc.join("shadow"), PermissionsExt::from_mode(0o000)).unwrap();
    std::fs::set_permissions(
        image_etc.join("ssl/private"),
        PermissionsExt::from_mode(0o000),
    )
    .unwrap();
    let missing = sandbox.path().join("image/var/lib/missing");
    let output = as_app_user(&seeding(&script, &volume, &[&image_etc, &missing]))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");

    let on_volume = |path: &Path| volume.join(path.strip_prefix("/").unwrap());
    assert_eq!(
        std::fs::read_to_string(on_volume(&image_etc).join("hosts")).unwrap(),
        "127.0.0.1 localhost\n"
    );
    // What the user cannot read is left out, and said so.
    assert!(!on_volume(&image_etc).join("shadow").exists());
    assert!(!on_volume(&image_etc).join("ssl/private/key.pem").exists());
    assert!(stderr.contains("not copied as this user"), "{stderr}");
    assert!(stderr.contains("shadow"), "{stderr}");
    // The folder the image lacks is the user's, so it can write there.
    let created = std::fs::metadata(on_volume(&missing)).unwrap();
    let expected_uid = if is_root() { 4242 } else { created.uid() };
    assert!(created.is_dir());
    assert_eq!(created.uid(), expected_uid);
    let marker_dir = volume.join(".kdrender-seeded");
    assert_eq!(std::fs::read_dir(marker_dir).unwrap().count(), 2);
}

#[test]
fn as_the_apps_user_any_other_copy_error_stops_the_pod() {
    let (script, _, _) = coordinator_init("        podSecurityContext: {runAsUser: 4242}\n");
    let (sandbox, volume) = sandbox_for_app_user();
    let image_etc = sandbox.path().join("image/etc");
    std::fs::create_dir_all(image_etc.join("app")).unwrap();
    std::fs::write(image_etc.join("app/app.conf"), "x\n").unwrap();
    // A file on the volume where the image has a folder: cp cannot copy it, and that is no
    // matter of permissions.
    let shell = seeding(&script, &volume, &[&image_etc]);
    let blocked = volume.join(image_etc.strip_prefix("/").unwrap());
    let prepare = format!(
        "mkdir -p '{}' && printf x > '{}/app'",
        blocked.display(),
        blocked.display()
    );
    let output = as_app_user(&format!("{prepare}\n{shell}"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("copying"), "{stderr}");
    assert!(stderr.contains("failed (is it big enough?)"), "{stderr}");
    // Nothing is marked as seeded, so the next start tries again.
    assert!(!volume.join(".kdrender-seeded").exists());
}

#[test]
fn a_root_or_unnamed_user_seeds_as_root_with_only_the_copying_capabilities() {
    for app_role in [
        "        podSecurityContext: {runAsUser: 0}\n",
        "        env: [{name: X, value: y}]\n",
    ] {
        let (script, init_context, pod_context) = coordinator_init(app_role);
        assert_eq!(
            init_context,
            serde_json::json!({
                "runAsUser": 0,
                "runAsGroup": 0,
                "allowPrivilegeEscalation": false,
                "capabilities": {
                    "drop": ["ALL"],
                    "add": ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETFCAP"],
                },
            }),
            "{app_role}"
        );
        assert!(pod_context.get("fsGroup").is_none(), "{pod_context}");
        assert!(script.contains("copy() { cp -a "), "{script}");
    }
    // Without storage there is nothing to seed: the init step runs as the pod's user.
    let docs = documents(&render(two_role_repo().path()));
    let worker = &object(&docs, "StatefulSet", "demo-worker")["spec"]["template"]["spec"];
    assert_eq!(
        worker["initContainers"][0]["securityContext"],
        serde_json::json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}})
    );
}

#[test]
fn as_root_the_copy_keeps_owners_and_modes() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (script, _, _) = coordinator_init("        podSecurityContext: {runAsUser: 0}\n");
    let sandbox = tempfile::tempdir().unwrap();
    let volume = sandbox.path().join("volume");
    let image_etc = sandbox.path().join("image/etc");
    std::fs::create_dir_all(&image_etc).unwrap();
    let secret = image_etc.join("app.key");
    std::fs::write(&secret, "key\n").unwrap();
    std::fs::set_permissions(&secret, PermissionsExt::from_mode(0o600)).unwrap();
    let root = is_root();
    if root {
        std::os::unix::fs::chown(&secret, Some(4242), Some(4343)).unwrap();
    }
    let status = Command::new("sh")
        .args(["-c", &seeding(&script, &volume, &[&image_etc])])
        .status()
        .unwrap();
    assert!(status.success());
    let copied = std::fs::metadata(
        volume
            .join(image_etc.strip_prefix("/").unwrap())
            .join("app.key"),
    )
    .unwrap();
    assert_eq!(copied.mode() & 0o7777, 0o600);
    let original = std::fs::metadata(&secret).unwrap();
    assert_eq!(
        (copied.uid(), copied.gid()),
        (original.uid(), original.gid())
    );
    if root {
        assert_eq!((copied.uid(), copied.gid()), (4242, 4343));
    }
}
