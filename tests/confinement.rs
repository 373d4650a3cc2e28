//! Confinement: nothing a repository holds makes kdrender read outside it, read what a walk from
//! its root never reaches (`.git` and other dot-folders), write outside its own temporary folder,
//! open something that is not a regular file, or quietly replace a vetted catalog app. Each test
//! builds what an attacker could push in a pull request and checks the refusal.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// What a CI checkout's `.git/config` holds: the token the checkout was made with.
const TOKEN: &str = "ghs_checkoutToken0123456789abcdef";

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.email=test@example.com",
            "-c",
            "user.name=test",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The two-role repository as a Git checkout whose `.git/config` holds a token.
fn checkout() -> tempfile::TempDir {
    let repo = two_role_repo();
    git(repo.path(), &["init", "-q"]);
    git(
        repo.path(),
        &[
            "config",
            "http.https://github.com/.extraheader",
            &format!("AUTHORIZATION: basic {TOKEN}"),
        ],
    );
    repo
}

fn symlink(target: impl AsRef<Path>, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Asserts a refusal whose first line is `first_line` (a prefix of it when it ends in `…`),
/// with the token nowhere in the output.
fn assert_refused(run: Run, first_line: &str) -> String {
    assert!(!run.stdout.contains(TOKEN), "the token leaked to stdout");
    let stderr = run.invalid();
    assert!(
        !stderr.contains(TOKEN),
        "the token leaked to stderr:\n{stderr}"
    );
    let line = stderr.lines().next().unwrap_or_default();
    match first_line.strip_suffix('…') {
        Some(prefix) => assert!(line.starts_with(prefix), "{stderr}"),
        None => assert_eq!(line, first_line, "{stderr}"),
    }
    stderr
}

// --- 1. Nothing inside a dot-folder is read, through any path -------------------------------

#[test]
fn no_path_leads_into_git_or_any_other_dot_folder() {
    type Attack = fn(&Path);
    let attacks: [(&str, Attack, &str); 9] = [
        (
            "a walked file",
            |repo| symlink(".git/config", &repo.join("leak.yaml")),
            "error: leak.yaml is a symlink that leads into .git, which kdrender never reads",
        ),
        (
            "a template",
            |repo| symlink("../../../.git/config", &repo.join("files/all/etc/leak.j2")),
            "error: files/all/etc/leak.j2 is a symlink that leads into .git, which kdrender never reads",
        ),
        (
            "the include folder",
            |repo| symlink("../.git", &repo.join("files/include")),
            "error: files/include is a symlink that leads into .git, which kdrender never reads",
        ),
        (
            "the template folder, through a link",
            |repo| {
                std::fs::rename(repo.join("files"), repo.join(".github")).unwrap();
                symlink(".github", &repo.join("files"));
            },
            "error: files is a symlink that leads into .github, which kdrender never reads",
        ),
        (
            "the template folder, by name",
            |repo| {
                let app = TWO_ROLE_APP.replace("configFiles: files", "configFiles: .git");
                std::fs::write(repo.join("app.yaml"), app).unwrap();
            },
            "error: app.yaml:36:18: .git leads into .git, which kdrender never reads",
        ),
        (
            "a catalog folder",
            |repo| {
                symlink(".git", &repo.join("vendor"));
                write(
                    repo,
                    "kdrender.yaml",
                    "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  catalog: [vendor]\n",
                );
            },
            "error: vendor is a symlink that leads into .git, which kdrender never reads",
        ),
        (
            "the settings file",
            |repo| symlink(".git/config", &repo.join("kdrender.yaml")),
            "error: kdrender.yaml is a symlink that leads into .git, which kdrender never reads",
        ),
        (
            "a dot-file",
            |repo| {
                write(repo, ".env", &format!("token: {TOKEN}\n"));
                symlink(".env", &repo.join("env.yaml"));
            },
            "error: env.yaml is a symlink that leads to .env, which kdrender never reads",
        ),
        (
            "a folder link into git's objects",
            |repo| symlink("../../.git/refs", &repo.join("files/all/refs")),
            "error: files/all/refs is a symlink that leads into .git, which kdrender never reads",
        ),
    ];
    for (what, attack, first_line) in attacks {
        let repo = checkout();
        attack(repo.path());
        eprintln!("{what}");
        assert_refused(run(&["render", "."], repo.path()), first_line);
    }

    // A catalog folder outside the rendered folder, which only the settings name.
    let repo = checkout();
    std::fs::create_dir(repo.path().join("envs")).unwrap();
    std::fs::rename(
        repo.path().join("cluster.yaml"),
        repo.path().join("envs/cluster.yaml"),
    )
    .unwrap();
    symlink(".git", &repo.path().join("vendor"));
    write(
        repo.path(),
        "envs/kdrender.yaml",
        "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  catalog: [../vendor]\n",
    );
    assert_refused(
        run(&["render", "envs"], repo.path()),
        "error: kdrender.yaml:4:13: ../vendor leads into .git, which kdrender never reads",
    );
}

#[test]
fn a_rendered_folder_inside_a_dot_folder_is_refused() {
    let repo = checkout();
    copy_tree(
        &repo.path().join("files"),
        &repo.path().join(".github/envs/files"),
    );
    for file in ["app.yaml", "cluster.yaml"] {
        std::fs::copy(
            repo.path().join(file),
            repo.path().join(".github/envs").join(file),
        )
        .unwrap();
    }
    assert_refused(
        run(&["render", ".github/envs"], repo.path()),
        "error: the rendered folder .github/envs leads into .github, which kdrender never reads",
    );
}

#[test]
fn diff_never_prints_what_a_link_into_git_holds() {
    let repo = checkout();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "base"]);
    symlink(
        "../../../.git/config",
        &repo.path().join("files/all/etc/leak.j2"),
    );
    assert_refused(
        run(&["diff", "."], repo.path()),
        "error: files/all/etc/leak.j2 is a symlink that leads into .git, which kdrender never reads",
    );
}

// --- 5. FIFOs, sockets and devices are errors, and never opened -------------------------------

/// Runs kdrender, failing the test instead of hanging if it ever opens a FIFO (which blocks
/// until a writer comes).
fn run_guarded(command: &mut Command) -> Run {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || sender.send(child.wait_with_output()));
    match receiver.recv_timeout(std::time::Duration::from_secs(120)) {
        Ok(output) => {
            let output = output.unwrap();
            Run {
                code: output.status.code().unwrap_or(-1),
                stdout: String::from_utf8(output.stdout).unwrap(),
                stderr: String::from_utf8(output.stderr).unwrap(),
            }
        }
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("kdrender did not finish: it opened a FIFO");
        }
    }
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn fifos_sockets_and_devices_are_errors_that_name_them() {
    let not_regular =
        |what: &str| format!("is {what}, not a regular file; kdrender reads only regular files");
    type Make = fn(&Path);
    let cases: [(&str, Make, String); 5] = [
        (
            "pipe.yaml",
            |repo| mkfifo(&repo.join("pipe.yaml")),
            not_regular("a FIFO (named pipe)"),
        ),
        (
            "link.yaml",
            |repo| {
                mkfifo(&repo.join("pipe"));
                symlink("pipe", &repo.join("link.yaml"));
            },
            not_regular("a FIFO (named pipe)"),
        ),
        (
            "files/all/etc/pipe.j2",
            |repo| mkfifo(&repo.join("files/all/etc/pipe.j2")),
            not_regular("a FIFO (named pipe)"),
        ),
        (
            "settings: kdrender.yaml",
            |repo| mkfifo(&repo.join("kdrender.yaml")),
            not_regular("a FIFO (named pipe)"),
        ),
        (
            "sock.yaml",
            |repo| {
                let socket = std::os::unix::net::UnixListener::bind(repo.join("sock.yaml"));
                std::mem::forget(socket.unwrap());
            },
            not_regular("a socket"),
        ),
    ];
    for (name, make, message) in cases {
        let repo = two_role_repo();
        make(repo.path());
        // Templates are reported at the app's configFiles.
        let file = match name.strip_prefix("files/") {
            Some(_) => format!("app.yaml:36:18: {name}"),
            None => name.trim_start_matches("settings: ").to_string(),
        };
        let stderr =
            run_guarded(kdrender().args(["render", "."]).current_dir(repo.path())).invalid();
        assert_eq!(
            stderr.lines().next().unwrap(),
            format!("error: {file} {message}"),
            "{stderr}"
        );
    }

    // A device, reached by a link: the root must hold /dev for the link to be inside it.
    let repo = tempfile::Builder::new()
        .prefix("kdrender-device-")
        .tempdir()
        .unwrap();
    write(repo.path(), "app.yaml", TWO_ROLE_APP);
    write(repo.path(), "cluster.yaml", TWO_ROLE_CLUSTER);
    write_two_role_templates(repo.path(), "files");
    symlink("/dev/null", &repo.path().join("null.yaml"));
    let stderr = run_guarded(
        kdrender()
            .args(["render", ".", "--root", "/"])
            .current_dir(repo.path()),
    )
    .invalid();
    assert_eq!(
        stderr.lines().next().unwrap(),
        format!("error: null.yaml {}", not_regular("a device")),
        "{stderr}"
    );
}
