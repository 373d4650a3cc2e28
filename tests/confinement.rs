//! Confinement: nothing a repository holds makes kdrender read outside it, read what a walk from
//! its root never reaches (`.git` and other dot-folders), write outside its own temporary folder,
//! open something that is not a regular file, or quietly replace a vetted catalog app. Each test
//! builds what an attacker could push in a pull request and checks the refusal.

// A test fails by panicking: here unwrap, expect, panic! and indexing are how it asserts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// What a CI checkout's `.git/config` holds: the token the checkout was made with.
const TOKEN: &str = "ghs_checkoutToken0123456789abcdef";

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
                write(repo, "kdrender.yaml", &settings_with_catalog("vendor"));
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
}

#[test]
fn a_catalog_folder_outside_the_rendered_folder_does_not_lead_into_git_either() {
    // Only the settings name it.
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
        &settings_with_catalog("../vendor"),
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
fn a_refused_link_among_the_templates_is_one_error_however_often_its_folder_is_listed() {
    // The template folder is inside the rendered folder: listed for inputs, then for
    // templates. The link is one problem, counted once.
    let repo = checkout();
    symlink(
        "../../../.git/config",
        &repo.path().join("files/all/etc/leak.j2"),
    );
    let stderr = assert_refused(
        run(&["render", "."], repo.path()),
        "error: files/all/etc/leak.j2 is a symlink that leads into .git, which kdrender never reads",
    );
    assert_eq!(stderr.matches("leak.j2").count(), 1, "{stderr}");
    assert!(stderr.contains(": 1 error(s), 0 warning(s)"), "{stderr}");
}

#[test]
fn diff_never_prints_what_a_link_into_git_holds() {
    let repo = checkout();
    commit_all(repo.path(), "base");
    symlink(
        "../../../.git/config",
        &repo.path().join("files/all/etc/leak.j2"),
    );
    assert_refused(
        run(&["diff", "."], repo.path()),
        "error: files/all/etc/leak.j2 is a symlink that leads into .git, which kdrender never reads",
    );
}

#[test]
fn diff_never_prints_what_a_committed_link_into_git_holds() {
    // The link is in the base revision only: the working tree renders, and the base's checkout
    // (which holds no .git) finds the link leading nowhere.
    let repo = checkout();
    symlink(
        "../../../.git/config",
        &repo.path().join("files/all/etc/leak.j2"),
    );
    commit_all(repo.path(), "base");
    std::fs::remove_file(repo.path().join("files/all/etc/leak.j2")).unwrap();
    let stderr = assert_refused(
        run(&["diff", "."], repo.path()),
        "error: files/all/etc/leak.j2 is a broken symlink…",
    );
    assert!(
        stderr.contains("does not render, so there is nothing sound to compare with"),
        "{stderr}"
    );
}

// --- 2. The root is decided from PATH as given ------------------------------------------------

/// Another tenant's files beside the checkout: a cluster that must never be rendered.
fn other_tenant(dir: &Path) {
    write(dir, "app.yaml", TWO_ROLE_APP);
    write(dir, "cluster.yaml", &two_role_cluster_named("other-tenant"));
    write_two_role_templates(dir, "files");
}

#[test]
fn a_path_that_is_a_link_never_widens_the_root() {
    let outside = "the rendered folder envs/prod leads outside the repository root, which kdrender never reads";
    for (layout, refusal) in [
        ("a checkout, and files above it", outside),
        ("a checkout, and another checkout above it", outside),
        (
            "a tarball (no .git), and files above it",
            "envs/prod passes through the symlink",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        other_tenant(&dir.path().join("elsewhere"));
        write(&repo, "README.md", "the repository\n");
        if !layout.starts_with("a tarball") {
            git(&repo, &["init", "-q"]);
        }
        if layout.contains("another checkout") {
            git(&dir.path().join("elsewhere"), &["init", "-q"]);
        }
        // The pull request turns envs/prod into a link to a folder above the checkout.
        symlink("../../elsewhere", &repo.join("envs/prod"));
        for command in ["render", "validate"] {
            let stderr = assert_refused(run(&[command, "envs/prod"], &repo), "error: …");
            let first = stderr.lines().next().unwrap();
            assert!(first.contains(refusal), "{layout}, {command}: {stderr}");
            assert!(!stderr.contains("other-tenant"), "{stderr}");
        }
    }
}

#[test]
fn the_root_may_be_named_through_a_link_and_paths_may_climb_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    let repo = real.join("repo");
    for env in ["envs/prod", "envs/staging"] {
        other_tenant(&repo.join(env));
    }
    git(&repo, &["init", "-q"]);
    // The checkout lies below a symlinked folder (a symlinked /tmp).
    symlink("real", &dir.path().join("link"));
    let linked = dir.path().join("link/repo");

    // From inside the checkout, reached through the link: the kernel resolved it already.
    assert!(
        run(&["render", "envs/prod"], &linked)
            .ok()
            .contains("kind: StatefulSet")
    );
    assert!(
        run(&["render", "envs/staging/../prod"], &linked)
            .ok()
            .contains("kind: StatefulSet")
    );
    // --root is the user's choice, links and all.
    let named = run(
        &["render", "--root", "link/repo", "link/repo/envs/prod"],
        dir.path(),
    );
    assert!(named.ok().contains("kind: StatefulSet"));
    // Found by kdrender itself, a root is never reached through a link: it says what to do.
    let stderr = run(&["render", "link/repo/envs/prod"], dir.path()).invalid();
    assert!(stderr.contains("passes through the symlink"), "{stderr}");
    assert!(stderr.contains("name it with --root"), "{stderr}");
}

/// Runs `kdrender argocd generate .` as cmp-server does: in `dir`, with the source path set.
fn argocd_generate(dir: &Path, source_path: &str) -> Run {
    run_with(
        kdrender()
            .args(["argocd", "generate", "."])
            .current_dir(dir)
            .env("ARGOCD_APP_SOURCE_PATH", source_path)
            .env("ARGOCD_APP_NAMESPACE", "tenant"),
    )
}

/// An application folder: the cluster `ours`, and settings whose catalog is `catalog`.
fn app_folder(dir: &Path, catalog: &str) {
    write(dir, "cluster.yaml", &two_role_cluster_named("ours"));
    write(dir, "kdrender.yaml", &settings_with_catalog(catalog));
}

/// A catalog folder: the two-role app and its templates.
fn catalog_folder(dir: &Path) {
    write(dir, "app.yaml", TWO_ROLE_APP);
    write_two_role_templates(dir, "files");
}

#[test]
fn under_argo_cd_the_root_is_what_the_repo_server_sent() {
    // A whole repository: the root is above envs/prod, so the catalog of the settings is read.
    let unpacked = tempfile::tempdir().unwrap();
    let prod = unpacked.path().join("envs/prod");
    app_folder(&prod, "../../catalog");
    catalog_folder(&unpacked.path().join("catalog"));
    let stdout = argocd_generate(&prod, "envs/prod").ok();
    assert!(stdout.contains("name: ours-"), "{stdout}");

    // Only the app folder was sent (manifest-generate-paths `.`): the plugin starts at the top
    // of what was sent, and the catalog above it is refused, never looked for beside it.
    let sent = tempfile::tempdir().unwrap();
    let beside = tempfile::tempdir_in(sent.path()).unwrap();
    other_tenant(beside.path());
    let only = sent.path().join("repo");
    app_folder(&only, "../../catalog");
    let stderr = argocd_generate(&only, "envs/prod").invalid();
    assert!(
        stderr.contains("leads outside the repository root"),
        "{stderr}"
    );
    assert!(!stderr.contains("other-tenant"), "{stderr}");

    // The parent of the app folder was sent: the plugin starts in `prod`, the tail of the
    // source path, and the root is what was sent.
    let parent = tempfile::tempdir().unwrap();
    let app = parent.path().join("prod");
    app_folder(&app, "../catalog");
    catalog_folder(&parent.path().join("catalog"));
    let stdout = argocd_generate(&app, "envs/prod").ok();
    assert!(stdout.contains("name: ours-"), "{stdout}");
}

// --- 3. `kdrender fn`: spec.path stays in the folder the function runs in --------------------

/// Runs `kdrender fn` in `dir` with a RenderFunction for `path`; the output ResourceList.
fn function(dir: &Path, path: &str) -> (Run, serde_json::Value) {
    let list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: passthrough\nfunctionConfig:\n  apiVersion: kdrender.dev/v1alpha1\n  kind: RenderFunction\n  metadata:\n    name: render\n  spec:\n    path: {path:?}\n"
    );
    let run = run_with_stdin(&["fn"], dir, &list);
    let list = serde_saphyr::from_str(&run.stdout).unwrap();
    (run, list)
}

#[test]
fn the_function_reads_only_the_folder_it_runs_in() {
    let dir = tempfile::tempdir().unwrap();
    // A monorepo: this package, and another tenant's files next to it.
    git(dir.path(), &["init", "-q"]);
    let package = dir.path().join("team-a");
    other_tenant(&dir.path().join("team-b"));
    write(&package, "inputs/app.yaml", TWO_ROLE_APP);
    write(&package, "inputs/cluster.yaml", TWO_ROLE_CLUSTER);
    write_two_role_templates(&package.join("inputs"), "files");
    let (ok, list) = function(&package, "inputs");
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(list["items"].as_array().unwrap().len() > 1);

    symlink("../team-b", &package.join("linked"));
    let team_b = dir.path().join("team-b").to_string_lossy().into_owned();
    for (path, message) in [
        (
            team_b.as_str(),
            "is absolute; it must be relative to the folder the function runs in",
        ),
        ("../team-b", "leads outside the folder the function runs in"),
        (
            "inputs/../../team-b",
            "leads outside the folder the function runs in",
        ),
        ("linked", "the rendered folder"),
    ] {
        let (result, list) = function(&package, path);
        assert_eq!(result.code, 1, "{path}: {}", result.stderr);
        assert!(!result.stdout.contains("other-tenant"), "{path}");
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{path}: only the input item passes");
        let first = list["results"][0]["message"].as_str().unwrap();
        assert!(first.contains(message), "{path}: {first}");
    }

    // The .git above the package does not make the monorepo the function's root.
    write(
        &package,
        "inputs/kdrender.yaml",
        &settings_with_catalog("../../team-b"),
    );
    let (result, list) = function(&package, "inputs");
    assert_eq!(result.code, 1, "{}", result.stderr);
    let first = list["results"][0]["message"].as_str().unwrap();
    assert!(
        first.starts_with("kdrender.yaml:4:13: ../../team-b leads outside the repository root"),
        "{first}"
    );
}

// --- 4. `diff` never writes outside its temporary folder -------------------------------------

#[test]
fn diff_refuses_a_base_tree_that_would_write_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    write(&repo, "app.yaml", TWO_ROLE_APP);
    write(&repo, "cluster.yaml", TWO_ROLE_CLUSTER);
    write_two_role_templates(&repo, "files");
    git(&repo, &["init", "-q"]);
    commit_all(&repo, "base");
    let victim = dir.path().join("victim");
    write(&victim, "cluster.yaml", "original\n");

    // A tree git never checks out: a link `a` to the victim folder, and a folder `a/` whose
    // file would land in it through the link.
    let blob = |text: &str| git_with_stdin(&repo, &["hash-object", "-w", "--stdin"], text);
    let mktree = |listing: &str| git_with_stdin(&repo, &["mktree"], listing);
    let link = blob(&victim.to_string_lossy());
    let payload = blob("overwritten\n");
    let folder = mktree(&format!("100644 blob {payload}\tcluster.yaml\n"));
    let head = git(&repo, &["ls-tree", "HEAD"]);
    let tree = mktree(&format!(
        "{head}120000 blob {link}\ta\n040000 tree {folder}\ta\n"
    ));
    let commit = git(
        &repo,
        &["commit-tree", "-p", "HEAD", "-m", "crafted", &tree],
    );
    let listing = git(&repo, &["ls-tree", "-r", "--name-only", commit.trim()]);
    assert!(listing.starts_with("a\na/cluster.yaml\n"), "{listing}");

    let temporary = dir.path().join("tmp");
    std::fs::create_dir(&temporary).unwrap();
    let result = run_with(
        kdrender()
            .args(["diff", "--base", commit.trim(), "."])
            .current_dir(&repo)
            .env("TMPDIR", &temporary),
    );
    assert_eq!(
        std::fs::read_to_string(victim.join("cluster.yaml")).unwrap(),
        "original\n",
        "the base tree was written through the link, outside the temporary folder"
    );
    let stderr = result.invalid();
    assert!(
        stderr.starts_with("error: the tree of ")
            && stderr.contains("\"a/cluster.yaml\" lies below \"a\", which is a symbolic link"),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(&temporary).unwrap().collect();
    assert!(
        left.is_empty(),
        "the temporary folder stays behind: {left:?}"
    );
}

#[test]
fn diff_compares_the_repository_path_lies_in_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let foreign = dir.path().join("foreign");
    other_tenant(&foreign);
    write(&repo, "README.md", "the repository\n");
    for checkout in [&repo, &foreign] {
        git(checkout, &["init", "-q"]);
        commit_all(checkout, "base");
    }
    // The pull request links envs/prod to another checkout, whose history git would find.
    symlink("../../foreign", &repo.join("envs/prod"));
    let result = run(&["diff", "envs/prod"], &repo);
    assert!(!result.stdout.contains("other-tenant"));
    let stderr = assert_refused(
        result,
        "error: the rendered folder envs/prod leads outside the repository root, which kdrender never reads",
    );
    assert!(!stderr.contains("other-tenant"), "{stderr}");
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

// --- 6. A local app may not silently shadow a catalog app --------------------------------------

/// envs/prod with a cluster and its own `twotier`, and a catalog at the root with the vetted one.
fn shadowing_repo(overrides: &str) -> tempfile::TempDir {
    let repo = repo(&[
        ("catalog/app.yaml", TWO_ROLE_APP),
        ("envs/prod/cluster.yaml", TWO_ROLE_CLUSTER),
        (
            "envs/prod/app.yaml",
            &TWO_ROLE_APP.replace("twotier:1.0", "twotier:unvetted"),
        ),
        (
            "envs/prod/kdrender.yaml",
            &format!(
                "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  catalog: [../../catalog]\n{overrides}"
            ),
        ),
    ]);
    write_two_role_templates(&repo.path().join("catalog"), "files");
    write_two_role_templates(&repo.path().join("envs/prod"), "files");
    repo
}

fn render_prod(repo: &Path) -> Run {
    run(&["render", "envs/prod", "--root", "."], repo)
}

#[test]
fn a_local_app_that_shadows_a_catalog_app_is_an_error_unless_allowed() {
    let repo = shadowing_repo("");
    let stderr = render_prod(repo.path()).invalid();
    let mut lines = stderr.lines();
    assert_eq!(
        lines.next().unwrap(),
        "error: app.yaml:4:9: app \"twotier\" has the name of an app in the catalog (../../catalog/app.yaml:4:9), which it would silently replace"
    );
    assert!(stderr.contains("catalogOverrides"), "{stderr}");

    let allowed = shadowing_repo("  catalogOverrides: [twotier]\n");
    let stream = render_prod(allowed.path()).ok();
    assert!(stream.contains("registry.example.com/twotier:unvetted"));
    assert!(!stream.contains("registry.example.com/twotier:1.0"));

    let stale = shadowing_repo("  catalogOverrides: [kafka]\n");
    std::fs::remove_file(stale.path().join("envs/prod/app.yaml")).unwrap();
    render_prod(stale.path()).warned(
        "warning: kdrender.yaml:5:22: catalogOverrides names \"kafka\", but no app below the rendered folder replaces a catalog app of that name",
    );
}
