//! Folder output (`render -o DIR`): one file per object and a `kustomization.yaml` listing them,
//! for Flux and for review.
//!
//! Files are named `<namespace>/<cluster>/<kind>-<name>.yaml`. The folder is replaced as a whole:
//! everything is rendered in memory first, written into a fresh folder beside `DIR`, and swapped
//! in with renames, so a failed render or write leaves `DIR` exactly as it was, and files of
//! objects that no longer exist disappear. A folder that is not kdrender's output (no marker in
//! its `kustomization.yaml`) is never replaced, so a typo cannot wipe an unrelated folder.

use std::fs;
use std::path::{Path, PathBuf};

use crate::emit;
use crate::render::Object;

/// First line of the kustomization.yaml that kdrender writes; its presence marks the folder as
/// kdrender's to replace.
pub const MARKER: &str =
    "# Written by kdrender: this folder is replaced on every render; edit the inputs instead.";

/// The file an object is written to, relative to the output folder.
pub fn file_name(object: &Object) -> String {
    format!(
        "{}/{}/{}-{}.yaml",
        object.namespace,
        object.cluster,
        object.kind.to_ascii_lowercase(),
        object.name
    )
}

/// The folder's contents: relative path → text, in a stable order.
pub fn contents(objects: &[Object]) -> Result<Vec<(String, String)>, String> {
    let mut files = Vec::with_capacity(objects.len() + 1);
    for object in objects {
        files.push((file_name(object), emit::to_yaml(&object.value)?));
    }
    files.sort();
    let mut kustomization = format!(
        "{MARKER}\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
    );
    for (path, _) in &files {
        kustomization.push_str("- ");
        kustomization.push_str(path);
        kustomization.push('\n');
    }
    files.push(("kustomization.yaml".to_string(), kustomization));
    Ok(files)
}

/// Replaces `dir` with the given files.
pub fn replace(dir: &Path, files: &[(String, String)]) -> Result<(), String> {
    let shown = dir.display();
    if dir.exists() {
        if !dir.is_dir() {
            return Err(format!("{shown} exists and is not a folder"));
        }
        if !is_ours(dir)? {
            return Err(format!(
                "{shown} is not empty and was not written by kdrender (its kustomization.yaml lacks kdrender's marker); refusing to replace it"
            ));
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{shown} names no folder"))?;
    let staging = parent.join(format!(".{base}.kdrender-new-{}", std::process::id()));
    let retired = parent.join(format!(".{base}.kdrender-old-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    if let Err(error) = write_all(&staging, files) {
        let _ = fs::remove_dir_all(&staging);
        return Err(error);
    }
    if dir.exists() {
        fs::rename(dir, &retired).map_err(|e| {
            let _ = fs::remove_dir_all(&staging);
            format!("cannot move {shown} aside: {e}")
        })?;
    }
    if let Err(e) = fs::rename(&staging, dir) {
        // Put the previous folder back.
        let _ = fs::rename(&retired, dir);
        let _ = fs::remove_dir_all(&staging);
        return Err(format!("cannot move the new output into {shown}: {e}"));
    }
    let _ = fs::remove_dir_all(&retired);
    Ok(())
}

/// An empty folder, or one whose kustomization.yaml starts with the marker.
fn is_ours(dir: &Path) -> Result<bool, String> {
    let mut entries =
        fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    if entries.next().is_none() {
        return Ok(true);
    }
    Ok(fs::read_to_string(dir.join("kustomization.yaml"))
        .is_ok_and(|text| text.lines().next() == Some(MARKER)))
}

fn write_all(staging: &Path, files: &[(String, String)]) -> Result<(), String> {
    for (relative, text) in files {
        let path = staging.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = names
            .iter()
            .map(|n| (n.to_string(), format!("{n}\n")))
            .collect();
        files.push((
            "kustomization.yaml".into(),
            format!("{MARKER}\nkind: Kustomization\n"),
        ));
        files
    }

    #[test]
    fn replacing_removes_stale_files_and_keeps_foreign_folders() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("rendered");
        replace(
            &out,
            &files(&["ns/a/configmap-x.yaml", "ns/a/service-y.yaml"]),
        )
        .unwrap();
        replace(&out, &files(&["ns/a/configmap-x.yaml"])).unwrap();
        assert!(out.join("ns/a/configmap-x.yaml").exists());
        assert!(!out.join("ns/a/service-y.yaml").exists());
        // Nothing is left beside the folder.
        let beside: Vec<_> = fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(beside.len(), 1);

        let foreign = root.path().join("notes");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("todo.txt"), "keep me").unwrap();
        let error = replace(&foreign, &files(&["a.yaml"])).unwrap_err();
        assert!(error.contains("refusing to replace it"), "{error}");
        assert_eq!(
            fs::read_to_string(foreign.join("todo.txt")).unwrap(),
            "keep me"
        );
    }
}
