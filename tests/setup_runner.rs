//! The setup runner (`setup.sh` in the configmeta ConfigMap), run for real under `sh` in a folder
//! that stands in for a member's file system (`KDRENDER_ROOT`), fed with what kdrender renders
//! for a role with a setup package, the ConfigMap laid out as the kubelet lays it out (and
//! updates it: a new version folder, then the `..data` link swapped). A fake startscript records
//! how it is called; a fake configcli package installs like configcli's.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::{Map, Value};

/// The two-role repository with a setup package for every role: the coordinator (three
/// members, storage) takes every event, the worker (two members) only `configure`.
fn package_repo(layout_new: bool) -> tempfile::TempDir {
    let repo = two_role_repo();
    edit(
        repo.path(),
        "app.yaml",
        "  defaultImageRepoTag:",
        &format!(
            "  defaultConfigPackage:\n    packageURL: file:///opt/setup/twotier.tgz\n    useNewSetupLayout: {layout_new}\n  defaultImageRepoTag:"
        ),
    );
    repo
}

/// The configmeta ConfigMap's data and the StatefulSets' postStart hooks, as rendered.
struct Rendered {
    data: Map<String, Value>,
    docs: Vec<Value>,
}

fn rendered(repo: &Path) -> Rendered {
    let docs = documents(&render(repo));
    let data = object(&docs, "ConfigMap", "demo-configmeta")["data"]
        .as_object()
        .unwrap()
        .clone();
    Rendered { data, docs }
}

impl Rendered {
    /// `setup.sh start PACKAGE EVENTS LAYOUT` as a role's postStart hook has it, with the test's
    /// package instead of the app's.
    fn start_arguments(&self, statefulset: &str, package: &str) -> Vec<String> {
        let command = object(&self.docs, "StatefulSet", statefulset)["spec"]["template"]["spec"]
            ["containers"][0]["lifecycle"]["postStart"]["exec"]["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect::<Vec<_>>();
        assert_eq!(
            command[..3],
            ["/bin/sh", "/etc/kdrender/configmeta/setup.sh", "start"]
        );
        let mut arguments = command[2..].to_vec();
        arguments[1] = package.to_string();
        arguments
    }
}

/// A member's file system, as far as the setup runner sees it.
struct Member {
    root: tempfile::TempDir,
    pod: String,
    version: usize,
}

impl Member {
    fn new(pod: &str, data: &Map<String, Value>) -> Member {
        let root = tempfile::tempdir().unwrap();
        for dir in [
            "etc/kdrender/configmeta",
            "etc/kdrender/setup",
            "etc/guestconfig",
            "usr/bin",
            "usr/local/bin",
        ] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        let mut member = Member {
            root,
            pod: pod.to_string(),
            version: 0,
        };
        member.publish(data);
        member
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap_or_default()
    }

    /// Publishes a version of the ConfigMap as the kubelet does: the keys in a new folder, the
    /// `..data` link swapped to it in one rename, a link per key, the old folder removed.
    fn publish(&mut self, data: &Map<String, Value>) {
        let mount = self.path("etc/kdrender/configmeta");
        self.version += 1;
        let folder = format!("..2026_11_30_00_00_00.{:09}", self.version);
        std::fs::create_dir(mount.join(&folder)).unwrap();
        for (key, value) in data {
            std::fs::write(mount.join(&folder).join(key), value.as_str().unwrap()).unwrap();
        }
        let old = std::fs::read_link(mount.join("..data")).ok();
        symlink(&folder, mount.join("..data_tmp")).unwrap();
        std::fs::rename(mount.join("..data_tmp"), mount.join("..data")).unwrap();
        for key in data.keys() {
            let link = mount.join(key);
            if link.symlink_metadata().is_err() {
                symlink(format!("..data/{key}"), link).unwrap();
            }
        }
        if let Some(old) = old {
            std::fs::remove_dir_all(mount.join(old)).unwrap();
        }
    }

    /// The mounted runner with `arguments`, in the foreground, without further passes.
    fn runner(&self, arguments: &[String]) -> std::process::Output {
        Command::new("sh")
            .arg(self.path("etc/kdrender/configmeta/setup.sh"))
            .args(arguments)
            .env("KDRENDER_ROOT", self.root.path())
            .env("POD_NAME", &self.pod)
            .env("KDRENDER_SETUP_FOREGROUND", "yes")
            .env("KDRENDER_SETUP_PASSES", "0")
            .output()
            .unwrap()
    }

    /// The postStart hook's `start`, run to its end: the member's setup.
    fn start(&self, arguments: &[String]) -> bool {
        self.runner(arguments).status.success()
    }

    /// One pass of what the runner repeats: whether it succeeded, and what it logged.
    fn pass(&self, arguments: &[String]) -> (bool, String) {
        let mut arguments = arguments.to_vec();
        arguments[0] = "sync".to_string();
        let output = self.runner(&arguments);
        (
            output.status.success(),
            String::from_utf8(output.stdout).unwrap(),
        )
    }

    fn sync(&self, arguments: &[String]) -> bool {
        self.pass(arguments).0
    }

    /// The startup probe: whether it passes, and what it says.
    fn probe(&self) -> (bool, String) {
        let output = self.runner(&["probe".to_string()]);
        (
            output.status.success(),
            String::from_utf8(output.stdout).unwrap(),
        )
    }

    /// The startscript's calls so far, one a line.
    fn calls(&self) -> String {
        self.read("calls")
    }

    fn log(&self) -> String {
        self.read("etc/kdrender/setup/log")
    }

    /// The member's configmeta.json, parsed.
    fn configmeta(&self) -> Value {
        let text = self.read("etc/guestconfig/configmeta.json");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    /// Makes the startscript fail the next time it is called for `event`.
    fn fail_next(&self, event: &str) {
        std::fs::write(self.path(&format!("fail-{event}")), "").unwrap();
    }
}

/// Runs `script` with `sh`, asserting success.
fn shell(script: &str) {
    let output = Command::new("sh").args(["-c", script]).output().unwrap();
    assert!(
        output.status.success(),
        "{script}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `folder/<top>/<file>` for each file, packed as `tarball`.
fn pack(folder: &Path, top: &str, files: &[(&str, &str)], tarball: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let root = folder.join(top);
    std::fs::create_dir_all(&root).unwrap();
    for (name, text) in files {
        let path = root.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    shell(&format!(
        "tar czf '{}' -C '{}' '{top}'",
        tarball.display(),
        folder.display()
    ));
}

/// A setup package whose startscript appends its arguments to `$KDRENDER_ROOT/calls`, keeps the
/// configmeta.json it found as `$KDRENDER_ROOT/configmeta-at-<event>`, and fails (once) when
/// `$KDRENDER_ROOT/fail-<event>` exists; its URL.
fn setup_package(dir: &Path) -> String {
    let startscript = r#"#!/bin/sh
echo "$*" >> "$KDRENDER_ROOT/calls"
event=${1#--}
cp "$KDRENDER_ROOT/etc/guestconfig/configmeta.json" "$KDRENDER_ROOT/configmeta-at-$event"
if [ -e "$KDRENDER_ROOT/fail-$event" ]; then
    rm -f "$KDRENDER_ROOT/fail-$event"
    echo "step 1 done"
    echo "no space left for the data" >&2
    exit 7
fi
"#;
    let tarball = dir.join("twotier-setup.tgz");
    pack(
        &dir.join("package"),
        "twotier",
        &[("startscript", startscript)],
        &tarball,
    );
    format!("file://{}", tarball.display())
}

/// configcli's package as KubeDirector's image carries it (`configcli-<version>/install`),
/// with an `install` that behaves like configcli's: `--new` puts the tools into Python's user
/// base (`/usr/local`, as PYTHONUSERBASE says), else into `/usr`; it records its arguments.
/// `works: false` makes it fail as it does without Python.
fn configcli_package(member: &Member, works: bool) {
    let install = if works {
        r#"#!/bin/sh
echo "$*" >> "$KDRENDER_ROOT/installs"
if [ "${1:-}" = --new ]; then bin=$KDRENDER_ROOT/usr/local/bin; else bin=$KDRENDER_ROOT/usr/bin; fi
for tool in configcli ccli configmacro; do
    printf '#!/bin/sh\necho %s "$@"\n' "$tool" > "$bin/$tool" && chmod +x "$bin/$tool"
done
"#
    } else {
        "#!/bin/sh\necho \"python: not found\" >&2\nexit 127\n"
    };
    let scratch = tempfile::tempdir().unwrap();
    pack(
        scratch.path(),
        "configcli-0.8",
        &[("install", install)],
        &member.path("etc/kdrender/setup/configcli.tgz"),
    );
}

/// The first member of `role` in the package repository (new layout) rendered as it is, before
/// it starts: configcli's package copied in (one that installs, or one that fails, or none), and
/// the arguments of its postStart hook.
fn unstarted(role: &str, configcli: Option<bool>) -> (tempfile::TempDir, Member, Vec<String>) {
    let repo = package_repo(true);
    let first = rendered(repo.path());
    let member = Member::new(&format!("demo-{role}-0"), &first.data);
    if let Some(works) = configcli {
        configcli_package(&member, works);
    }
    let arguments =
        first.start_arguments(&format!("demo-{role}"), &setup_package(member.root.path()));
    (repo, member, arguments)
}

/// The coordinator's first member with the package repository rendered as it is, configcli's
/// package copied in, and the arguments of its postStart hook.
fn configured_coordinator(layout_new: bool) -> (tempfile::TempDir, Member, Vec<String>) {
    let repo = package_repo(layout_new);
    let first = rendered(repo.path());
    let member = Member::new("demo-coordinator-0", &first.data);
    configcli_package(&member, true);
    let arguments = first.start_arguments("demo-coordinator", &setup_package(member.root.path()));
    assert_eq!(arguments[2], "configure addnodes delnodes");
    assert!(member.start(&arguments), "{}", member.log());
    (repo, member, arguments)
}

/// How many workers the member's configmeta.json names.
fn workers(member: &Member) -> usize {
    member.configmeta()["nodegroups"]["1"]["roles"]["worker"]["fqdns"]
        .as_array()
        .unwrap()
        .len()
}

fn link(member: &Member, path: &str) -> String {
    std::fs::read_link(member.path(path))
        .unwrap_or_else(|e| panic!("{path} is no link: {e}"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn the_runner_in_the_configmap_is_the_projects() {
    let repo = package_repo(true);
    let data = rendered(repo.path()).data;
    let source = std::fs::read_to_string(project_root().join("src/render/setup.sh")).unwrap();
    assert_eq!(data["setup.sh"], source.as_str());
}

#[test]
fn configcli_is_installed_in_the_new_layout_before_configure_runs() {
    let (_repo, member, arguments) = configured_coordinator(true);
    let root = member.root.path().display().to_string();
    assert_eq!(member.read("installs"), "--new\n");
    assert_eq!(member.calls(), "--configure\n");
    // configcli, bdvcli and bd_vcli in /usr/local/bin, and KubeDirector's links in /usr/bin.
    assert!(member.path("usr/local/bin/configcli").is_file());
    for tool in ["bdvcli", "bd_vcli"] {
        assert_eq!(
            link(&member, &format!("usr/local/bin/{tool}")),
            format!("{root}/usr/local/bin/configcli")
        );
    }
    for (tool, target) in [
        ("bdvcli", "configcli"),
        ("bd_vcli", "configcli"),
        ("configcli", "configcli"),
        ("ccli", "ccli"),
        ("configmacro", "configmacro"),
    ] {
        assert_eq!(
            link(&member, &format!("usr/bin/{tool}")),
            format!("{root}/usr/local/bin/{target}")
        );
    }
    assert_eq!(
        member.probe(),
        (true, "kdrender-setup: ready\n".to_string())
    );
    // A restart: /usr/bin is not persisted in the new layout, /usr/local/bin is. The links come
    // back; configcli is not installed again, and configure does not run again.
    std::fs::remove_dir_all(member.path("usr/bin")).unwrap();
    std::fs::create_dir(member.path("usr/bin")).unwrap();
    assert!(member.start(&arguments), "{}", member.log());
    assert_eq!(member.read("installs"), "--new\n");
    assert_eq!(member.calls(), "--configure\n");
    assert_eq!(
        link(&member, "usr/bin/bdvcli"),
        format!("{root}/usr/local/bin/configcli")
    );
}

#[test]
fn configcli_is_installed_into_usr_in_the_legacy_layout() {
    let (_repo, member, arguments) = configured_coordinator(false);
    let root = member.root.path().display().to_string();
    assert_eq!(arguments[3], "legacy");
    assert_eq!(member.read("installs"), "\n");
    assert!(member.path("usr/bin/configcli").is_file());
    for tool in ["bdvcli", "bd_vcli"] {
        assert_eq!(
            link(&member, &format!("usr/bin/{tool}")),
            format!("{root}/usr/bin/configcli")
        );
    }
    assert!(!member.path("usr/local/bin/configcli").exists());
    assert_eq!(member.calls(), "--configure\n");
}

#[test]
fn a_failed_configcli_install_stops_the_setup_and_the_probe_says_why() {
    let (_repo, member, arguments) = unstarted("coordinator", Some(false));
    assert!(!member.start(&arguments));
    assert_eq!(
        member.calls(),
        "",
        "configure must not run without configcli"
    );
    let (ready, message) = member.probe();
    assert!(!ready);
    assert!(
        message.starts_with(
            "kdrender-setup: installing configcli failed (it needs python in the image, and to write to "
        ),
        "{message}"
    );
    assert!(
        member.log().contains("python: not found"),
        "{}",
        member.log()
    );
}

#[test]
fn an_image_with_configcli_and_no_package_needs_no_install() {
    let (_repo, member, arguments) = unstarted("coordinator", None);
    // No package copied in (configcliImage: ""), and none in the image: a warning, as before.
    assert!(member.start(&arguments), "{}", member.log());
    assert!(
        member.log().contains("configcli is not in the image"),
        "{}",
        member.log()
    );
    assert!(member.probe().0);
    assert!(!member.path("usr/bin/bdvcli").exists());
}

#[test]
fn the_member_gets_its_own_configmeta_as_the_init_step_assembles_it() {
    let (_repo, member, _) = configured_coordinator(true);
    let document = member.configmeta();
    assert_eq!(
        document["node"]["fqdn"],
        "demo-coordinator-0.demo.default.svc.cluster.local"
    );
    assert_eq!(
        document["nodegroups"]["1"]["roles"]["worker"]["fqdns"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Byte for byte what the init step writes for the same member.
    let docs = documents(&render(package_repo(true).path()));
    let script = object(&docs, "StatefulSet", "demo-coordinator")["spec"]["template"]["spec"]
        ["initContainers"][0]["command"][2]
        .as_str()
        .unwrap();
    let assembly = &script[..script.find("copy() ").unwrap()];
    let sandbox = tempfile::tempdir().unwrap();
    std::fs::create_dir(sandbox.path().join("guestconfig")).unwrap();
    let init = assembly
        .replace(
            "/kdrender/configmeta",
            &member.path("etc/kdrender/configmeta").display().to_string(),
        )
        .replace(
            "/kdrender/guestconfig",
            &sandbox.path().join("guestconfig").display().to_string(),
        );
    let status = Command::new("sh")
        .args(["-c", &init])
        .env("POD_NAME", "demo-coordinator-0")
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read_to_string(sandbox.path().join("guestconfig/configmeta.json")).unwrap(),
        member.read("etc/guestconfig/configmeta.json")
    );
}

#[test]
fn membership_changes_are_delivered_in_place_after_configmeta_is_rewritten() {
    let (repo, mut member, arguments) = configured_coordinator(true);
    let written = member.path("etc/guestconfig/configmeta.json");
    let inode = std::fs::metadata(&written).unwrap().ino();
    // Nothing changed: a pass does nothing.
    assert!(member.sync(&arguments));
    assert_eq!(member.calls(), "--configure\n");
    assert_eq!(std::fs::metadata(&written).unwrap().ino(), inode);

    // A third worker: the kubelet updates the ConfigMap; the next pass rewrites configmeta.json
    // (a new file renamed over the old one) and tells the startscript.
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    member.publish(&rendered(repo.path()).data);
    assert!(member.sync(&arguments), "{}", member.log());
    let worker_2 = "demo-worker-2.demo.default.svc.cluster.local";
    assert_eq!(
        member.calls(),
        format!("--configure\n--addnodes --nodegroup 1 --role worker --fqdns {worker_2}\n")
    );
    assert_ne!(std::fs::metadata(&written).unwrap().ino(), inode);
    assert_eq!(
        member.configmeta()["nodegroups"]["1"]["roles"]["worker"]["fqdns"][2],
        worker_2
    );
    // When the startscript was told, configmeta.json already listed the new member.
    assert!(member.read("configmeta-at-addnodes").contains(worker_2));
    assert_eq!(
        member.configmeta()["node"]["fqdn"],
        "demo-coordinator-0.demo.default.svc.cluster.local"
    );
    let leftovers: Vec<String> = entries(&member.path("etc/guestconfig"))
        .iter()
        .map(|p| file_name(p))
        .collect();
    assert_eq!(leftovers, ["configmeta.json"]);
    // Heard once: the next pass is quiet.
    assert!(member.sync(&arguments));
    assert_eq!(member.calls().lines().count(), 2);

    // Two workers leave: --delnodes with both.
    edit(repo.path(), "cluster.yaml", "members: 3", "members: 1");
    member.publish(&rendered(repo.path()).data);
    assert!(member.sync(&arguments));
    assert_eq!(
        member.calls().lines().last().unwrap(),
        "--delnodes --nodegroup 1 --role worker --fqdns demo-worker-1.demo.default.svc.cluster.local,demo-worker-2.demo.default.svc.cluster.local"
    );
    assert_eq!(workers(&member), 1);
}

#[test]
fn a_role_that_takes_no_membership_events_gets_the_new_configmeta_only() {
    let (repo, mut member, arguments) = unstarted("worker", Some(true));
    assert_eq!(arguments[2], "configure");
    assert!(member.start(&arguments), "{}", member.log());
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    member.publish(&rendered(repo.path()).data);
    assert!(member.sync(&arguments));
    assert_eq!(member.calls(), "--configure\n");
    assert_eq!(workers(&member), 3);
}

#[test]
fn a_change_of_the_connected_clusters_is_a_reconnect() {
    let (_repo, mut member, arguments) = configured_coordinator(true);
    let mut data = rendered(package_repo(true).path()).data;
    assert_eq!(data["connections"], "");
    data.insert(
        "connections".into(),
        Value::from("analytics 0123456789abcdef0123456789abcdef\n"),
    );
    member.publish(&data);
    assert!(member.sync(&arguments));
    assert_eq!(member.calls(), "--configure\n--reconnect\n");
    assert!(member.sync(&arguments));
    assert_eq!(member.calls(), "--configure\n--reconnect\n");
}

#[test]
fn an_event_that_fails_is_sent_again_on_the_next_pass() {
    let (repo, mut member, arguments) = configured_coordinator(true);
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    member.publish(&rendered(repo.path()).data);
    member.fail_next("addnodes");
    let (succeeded, logged) = member.pass(&arguments);
    assert!(
        !succeeded,
        "a failed event fails the pass (the runner waits longer)"
    );
    assert!(
        logged.contains("kdrender-setup: startscript --addnodes failed"),
        "{logged}"
    );
    assert!(member.sync(&arguments));
    let addnodes = "--addnodes --nodegroup 1 --role worker --fqdns demo-worker-2.demo.default.svc.cluster.local";
    assert_eq!(
        member.calls(),
        format!("--configure\n{addnodes}\n{addnodes}\n")
    );
    assert!(member.sync(&arguments));
    assert_eq!(member.calls().lines().count(), 3);
    // The same for a --delnodes that fails.
    edit(repo.path(), "cluster.yaml", "members: 3", "members: 2");
    member.publish(&rendered(repo.path()).data);
    member.fail_next("delnodes");
    assert!(!member.sync(&arguments));
    assert!(member.sync(&arguments));
    assert!(member.sync(&arguments));
    let delnodes = "--delnodes --nodegroup 1 --role worker --fqdns demo-worker-2.demo.default.svc.cluster.local";
    assert_eq!(
        member.calls(),
        format!("--configure\n{addnodes}\n{addnodes}\n{delnodes}\n{delnodes}\n")
    );
}

#[test]
fn the_runner_passes_again_and_again_after_the_setup() {
    let (_repo, member, arguments) = configured_coordinator(true);
    let output = Command::new("sh")
        .arg(member.path("etc/kdrender/configmeta/setup.sh"))
        .args(&arguments)
        .env("KDRENDER_ROOT", member.root.path())
        .env("POD_NAME", &member.pod)
        .env("KDRENDER_SETUP_FOREGROUND", "yes")
        .env("KDRENDER_SETUP_PASSES", "3")
        .env("KDRENDER_SETUP_INTERVAL", "0")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", member.log());
    assert_eq!(member.calls(), "--configure\n");
    assert!(
        member.log().ends_with("kdrender-setup: ready\n"),
        "{}",
        member.log()
    );
}

#[test]
fn a_failed_configure_keeps_the_member_unready_with_the_reason_then_a_restart_retries_it() {
    let (_repo, member, arguments) = unstarted("coordinator", Some(true));
    member.fail_next("configure");
    assert!(!member.start(&arguments));
    assert_eq!(
        member.read("opt/guestconfig/configure.status"),
        "kdrender=7\n"
    );
    let (ready, message) = member.probe();
    assert!(!ready);
    let state = member.path("opt/guestconfig").display().to_string();
    assert_eq!(
        message,
        format!(
            "kdrender-setup: startscript --configure failed with exit code 7 (output in {state}/configure.stdout and configure.stderr); its last lines on stderr:\nno space left for the data\n"
        )
    );
    // A restart (a new container) configures again.
    assert!(member.start(&arguments), "{}", member.log());
    assert_eq!(member.calls(), "--configure\n--configure\n");
    assert!(member.probe().0);
}

#[test]
fn the_probe_says_where_the_setup_is_until_it_is_done() {
    let repo = package_repo(true);
    let first = rendered(repo.path());
    let member = Member::new("demo-coordinator-0", &first.data);
    assert_eq!(
        member.probe(),
        (false, "kdrender-setup: not started\n".to_string())
    );
    std::fs::write(
        member.path("etc/kdrender/setup/state"),
        "running startscript --configure\n",
    )
    .unwrap();
    assert_eq!(
        member.probe(),
        (
            false,
            "kdrender-setup: running startscript --configure\n".to_string()
        )
    );
}

#[test]
fn a_restart_tells_what_changed_while_the_member_was_away() {
    let (repo, mut member, arguments) = configured_coordinator(true);
    // The ConfigMap changes while the member is down; its next start tells the startscript.
    edit(repo.path(), "cluster.yaml", "members: 2", "members: 3");
    member.publish(&rendered(repo.path()).data);
    assert!(member.start(&arguments));
    assert_eq!(
        member.calls(),
        "--configure\n--addnodes --nodegroup 1 --role worker --fqdns demo-worker-2.demo.default.svc.cluster.local\n"
    );
}

#[test]
fn a_member_kubedirector_configured_is_configured() {
    let (_repo, member, arguments) = unstarted("coordinator", Some(true));
    // KubeDirector unpacked the package and recorded `<container id>=0` (no newline).
    let state = member.path("opt/guestconfig");
    std::fs::create_dir_all(state.join("twotier")).unwrap();
    std::fs::write(
        state.join("twotier/startscript"),
        "#!/bin/sh\necho \"$*\" >> \"$KDRENDER_ROOT/calls\"\n",
    )
    .unwrap();
    shell(&format!(
        "chmod +x '{}/twotier/startscript'",
        state.display()
    ));
    std::fs::write(state.join("configure.status"), "containerd://0123abcd=0").unwrap();
    assert!(member.start(&arguments), "{}", member.log());
    assert_eq!(member.calls(), "");
    assert!(member.probe().0);
}

#[test]
fn start_returns_at_once_and_marks_the_member_as_starting() {
    let repo = package_repo(true);
    let first = rendered(repo.path());
    let member = Member::new("demo-coordinator-0", &first.data);
    // Without KDRENDER_SETUP_FOREGROUND the runner goes to the background; with a package URL
    // that cannot be fetched it stops there soon, and nothing is left waiting for it.
    let output = Command::new("sh")
        .arg(member.path("etc/kdrender/configmeta/setup.sh"))
        .args([
            "start",
            "file:///nonexistent/package.tgz",
            "configure",
            "new",
        ])
        .env("KDRENDER_ROOT", member.root.path())
        .env("POD_NAME", "demo-coordinator-0")
        .env("KDRENDER_SETUP_PASSES", "0")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
    // The probe has an answer as soon as the hook returns (`starting`, or a later state if the
    // runner in the background got further already).
    assert_ne!(member.read("etc/kdrender/setup/state"), "");
}

/// The init step names of a StatefulSet's pod, the image of the configcli step if any, and
/// whether the app container has a startup probe.
fn pod_parts(docs: &[Value], statefulset: &str) -> (Vec<String>, Option<String>, bool) {
    let pod = &object(docs, "StatefulSet", statefulset)["spec"]["template"]["spec"];
    let steps = pod["initContainers"].as_array().unwrap();
    let names = steps
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    let image = steps
        .iter()
        .find(|s| s["name"] == "kdrender-configcli")
        .map(|s| s["image"].as_str().unwrap().to_string());
    (
        names,
        image,
        pod["containers"][0].get("startupProbe").is_some(),
    )
}

#[test]
fn configcli_comes_from_kubedirectors_image_unless_the_settings_name_none() {
    let repo = package_repo(true);
    let docs = documents(&render(repo.path()));
    let (steps, image, probed) = pod_parts(&docs, "demo-worker");
    assert_eq!(
        steps,
        ["kdrender-init", "kdrender-dns", "kdrender-configcli"]
    );
    assert_eq!(
        image.as_deref(),
        Some("docker.io/bluek8s/kubedirector:0.11.0")
    );
    assert!(
        probed,
        "a member with a setup package is held back until it is configured"
    );
    let pod = &object(&docs, "StatefulSet", "demo-worker")["spec"]["template"]["spec"];
    let copy = pod["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|step| step["name"] == "kdrender-configcli")
        .unwrap()["command"][2]
        .as_str()
        .unwrap();
    assert_eq!(
        copy,
        "cp /home/kubedirector/configcli.tgz /kdrender/setup/configcli.tgz && chmod a+r /kdrender/setup/configcli.tgz"
    );
    assert_eq!(
        pod["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "kdrender-setup")
            .unwrap()["mountPath"],
        "/etc/kdrender/setup"
    );

    write(
        repo.path(),
        "kdrender.yaml",
        "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  configcliImage: \"\"\n",
    );
    let docs = documents(&render(repo.path()));
    let (steps, image, probed) = pod_parts(&docs, "demo-worker");
    assert_eq!(
        (steps, image, probed),
        (
            vec!["kdrender-init".to_string(), "kdrender-dns".to_string()],
            None,
            true
        )
    );

    // Without a setup package there is nothing to install and nothing to wait for.
    let docs = documents(&render(two_role_repo().path()));
    let (steps, image, probed) = pod_parts(&docs, "demo-worker");
    assert_eq!(
        (steps, image, probed),
        (
            vec!["kdrender-init".to_string(), "kdrender-dns".to_string()],
            None,
            false
        )
    );
}
