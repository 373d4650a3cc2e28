//! Records where the binary was built from, for `kdrender --version`: the commit of the git
//! checkout the crate is the top of, else the commit `cargo package` recorded in
//! `.cargo_vcs_info.json` (a crates.io build), else a plain "commit unknown". A release build
//! that has no `.git` (a container build) may name its commit in `KDRENDER_BUILD_COMMIT`.
//!
//! The text reaches `--version` and the man page only, never rendered output.
//!
//! It also writes the schemas as static trees for the quick check (`build/schema_trees.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "build/schema_trees.rs"]
mod schema_trees;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=KDRENDER_BUILD_COMMIT");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let build = given_commit()
        .map(|commit| format!("commit {commit}"))
        .or_else(|| checkout_commit(&manifest_dir).map(|commit| format!("commit {commit}")))
        .or_else(|| {
            packaged_commit(&manifest_dir)
                .map(|commit| format!("commit {commit}, from the published crate"))
        })
        .unwrap_or_else(|| "commit unknown: not built from a git checkout".to_string());
    println!("cargo:rustc-env=KDRENDER_BUILD={build}");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    schema_trees::write(&manifest_dir, &out_dir);
}

/// `KDRENDER_BUILD_COMMIT`, when it is a commit id (40 or 64 hex digits).
fn given_commit() -> Option<String> {
    let given = std::env::var("KDRENDER_BUILD_COMMIT").ok()?;
    is_commit_id(&given).then_some(given)
}

fn is_commit_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The commit checked out, when the crate's folder is the top of a git working tree (a crate
/// vendored into another repository must not report that repository's commit). Cargo runs
/// this script again when HEAD moves.
fn checkout_commit(manifest_dir: &Path) -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git")
            .args(args)
            .current_dir(manifest_dir)
            .output()
            .ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        output.status.success().then(|| text.trim().to_string())
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(&top).ok()? != std::fs::canonicalize(manifest_dir).ok()? {
        return None;
    }
    // HEAD itself, the branch it names (a loose ref, or packed), and packed-refs.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])?];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.extend(git(&["rev-parse", "--git-path", &branch]));
    }
    watched.extend(git(&["rev-parse", "--git-path", "packed-refs"]));
    for path in watched {
        let path = manifest_dir.join(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    git(&["rev-parse", "HEAD"]).filter(|commit| is_commit_id(commit))
}

/// The commit `cargo package` recorded: `{"git": {"sha1": "…"}, …}`.
fn packaged_commit(manifest_dir: &Path) -> Option<String> {
    let path = manifest_dir.join(".cargo_vcs_info.json");
    let text = std::fs::read_to_string(path).ok()?;
    // A small, fixed format: the "sha1" value is found without parsing the file.
    let after = text.split_once("\"sha1\"")?.1;
    let value = after.split('"').nth(1)?;
    is_commit_id(value).then(|| value.to_string())
}
