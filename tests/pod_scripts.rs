//! The shell the pods run: the init step that assembles each member's configmeta.json, and the
//! setup runner that stands in for KubeDirector's configure/addnodes/delnodes notifications.

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
    assert_eq!(document["node"]["id"], "1002");
    assert_eq!(
        document["nodegroups"]["1"]["roles"]["coordinator"]["fqdns"][2],
        "demo-coordinator-2.demo.default.svc.cluster.local"
    );
    assert_eq!(
        document["nodegroups"]["1"]["config_metadata"]["tuning"],
        "standard"
    );
}

/// A setup package whose startscript appends its arguments to `calls`.
fn package(dir: &Path) -> String {
    let root = dir.join("package/app");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("startscript"),
        format!("#!/bin/sh\necho \"$*\" >> {}/calls\n", dir.display()),
    )
    .unwrap();
    let tarball = dir.join("setup.tgz");
    let status = Command::new("tar")
        .arg("czf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir.join("package"))
        .arg("app")
        .status()
        .unwrap();
    assert!(status.success());
    format!("file://{}", tarball.display())
}

fn run_setup(dir: &Path, url: &str, events: &str, membership: &str) -> String {
    std::fs::write(dir.join("membership"), membership).unwrap();
    let script = project_root().join("src/render/setup.sh");
    let status = Command::new("sh")
        .arg(&script)
        .args([url, "worker", events])
        .env("KDRENDER_SETUP_BACKGROUND", "yes")
        .env("KDRENDER_STATE_DIR", dir.join("state"))
        .env("KDRENDER_MEMBERSHIP", dir.join("membership"))
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(dir.join("calls")).unwrap_or_default()
}

const FIRST: &str = "master m-0.x\nworker w-0.x\nworker w-1.x\n";
const SECOND: &str = "worker w-0.x\nworker w-1.x\nworker w-2.x\nworker w-3.x\n";

#[test]
fn the_setup_runner_configures_once_then_reports_membership_changes() {
    let dir = tempfile::tempdir().unwrap();
    let url = package(dir.path());
    assert_eq!(
        run_setup(dir.path(), &url, "configure addnodes delnodes", FIRST),
        "--configure\n"
    );
    // A restart with the same membership: nothing to tell.
    assert_eq!(
        run_setup(dir.path(), &url, "configure addnodes delnodes", FIRST),
        "--configure\n"
    );
    // A restart after the master left and two workers joined.
    let calls = run_setup(dir.path(), &url, "configure addnodes delnodes", SECOND);
    assert_eq!(
        calls,
        "--configure\n\
         --delnodes --nodegroup 1 --role master --fqdns m-0.x\n\
         --addnodes --nodegroup 1 --role worker --fqdns w-2.x,w-3.x\n"
    );
    // The new membership is remembered: the next restart is quiet again.
    assert_eq!(
        run_setup(dir.path(), &url, "configure addnodes delnodes", SECOND),
        calls
    );
}

#[test]
fn the_setup_runner_honours_the_event_list() {
    let dir = tempfile::tempdir().unwrap();
    let url = package(dir.path());
    // Without `configure`, the member is configured without running the script.
    assert_eq!(run_setup(dir.path(), &url, "addnodes", FIRST), "");
    assert_eq!(
        run_setup(dir.path(), &url, "addnodes", SECOND),
        "--addnodes --nodegroup 1 --role worker --fqdns w-2.x,w-3.x\n"
    );
}

#[test]
fn the_setup_runner_reports_a_failed_configure_and_retries_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("package/app");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("startscript"), "#!/bin/sh\nexit 7\n").unwrap();
    let tarball = dir.path().join("setup.tgz");
    assert!(
        Command::new("tar")
            .arg("czf")
            .arg(&tarball)
            .arg("-C")
            .arg(dir.path().join("package"))
            .arg("app")
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(dir.path().join("membership"), FIRST).unwrap();
    let status = Command::new("sh")
        .arg(project_root().join("src/render/setup.sh"))
        .args([
            &format!("file://{}", tarball.display()),
            "worker",
            "configure",
        ])
        .env("KDRENDER_SETUP_BACKGROUND", "yes")
        .env("KDRENDER_STATE_DIR", dir.path().join("state"))
        .env("KDRENDER_MEMBERSHIP", dir.path().join("membership"))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(7));
    let recorded = std::fs::read_to_string(dir.path().join("state/configure.status")).unwrap();
    assert_eq!(recorded, "kdrender=7\n");
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
    let seeding = &script[script.find("seed() {").unwrap()..script.find("seed '/").unwrap()];
    let run_seed = || {
        let script = format!(
            "set -eu\n{}seed '{}'\n",
            seeding.replace("/mnt", &volume.to_string_lossy()),
            image_dir.display()
        );
        assert!(
            Command::new("sh")
                .args(["-c", &script])
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
fn a_persisted_directory_the_image_lacks_is_given_to_the_apps_user() {
    let repo = two_role_repo();
    let app = std::fs::read_to_string(repo.path().join("app.yaml")).unwrap();
    write(
        repo.path(),
        "app.yaml",
        &app.replace(
            "    configFiles: files\n",
            "    configFiles: files\n    roles:\n      coordinator:\n        podSecurityContext: {runAsUser: 4242, runAsGroup: 4343}\n",
        ),
    );
    let docs = documents(&render(repo.path()));
    let init = &object(&docs, "StatefulSet", "demo-coordinator")["spec"]["template"]["spec"]["initContainers"]
        [0];
    assert_eq!(
        init["securityContext"],
        serde_json::json!({"runAsUser": 0, "runAsGroup": 0})
    );
    let script = init["command"][2].as_str().unwrap();
    assert!(script.contains("owner='4242:4343'"), "{script}");

    // Run the seeding against a directory missing from the "image" (the test runs as root,
    // like the init step; elsewhere chown is not allowed and the check is skipped).
    let sandbox = tempfile::tempdir().unwrap();
    let volume = sandbox.path().join("volume");
    let missing = sandbox.path().join("image/var/lib/missing");
    let seeding = &script[script.find("owner=").unwrap()..script.find("seed '/").unwrap()];
    let shell = format!(
        "set -eu\n{}seed '{}'\n",
        seeding.replace("/mnt", &volume.to_string_lossy()),
        missing.display()
    );
    let status = Command::new("sh").args(["-c", &shell]).status().unwrap();
    let created = volume.join(missing.strip_prefix("/").unwrap());
    assert!(created.is_dir());
    use std::os::unix::fs::MetadataExt;
    if status.success() {
        let meta = std::fs::metadata(&created).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4242, 4343));
    } else {
        eprintln!("note: chown is not permitted here; ownership not checked");
    }
}
