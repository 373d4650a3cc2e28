//! In-memory `/tmp`, `/run` and `/run/lock` for every app container, as KubeDirector gave every
//! member (newer systemd wants `/run/lock` apart), each limited to KubeDirector's 20Gi.
//!
//! A folder the app container already mounts at exactly that path (a persisted `/run`, say) keeps
//! its own mount: two mounts at one path are refused by the API server. Mounts below these
//! folders (config files, a persisted `/run/app`, a Secret) sit on top of them, since container
//! runtimes mount shallower paths first. Only the app container has them: the init step seeds a
//! persisted folder below them from the image's, as it does every other.

use super::value::value;
use serde_json::Value;

use super::names::TMPFS_FOLDERS;

/// KubeDirector's size limit for each of the in-memory folders.
const SIZE_LIMIT: &str = "20Gi";

/// The in-memory folders' volumes and the app container's mounts of them, leaving out any
/// folder that one of `taken` (the app container's other mounts) already mounts.
pub fn folders(taken: &[Value]) -> (Vec<Value>, Vec<Value>) {
    let mounted = |path: &str| taken.iter().any(|m| m["mountPath"] == path);
    TMPFS_FOLDERS
        .iter()
        .filter(|(_, path)| !mounted(path))
        .map(|(name, path)| {
            (
                value!({"name": name, "emptyDir": {"medium": "Memory", "sizeLimit": SIZE_LIMIT}}),
                value!({"name": name, "mountPath": path}),
            )
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_folder_is_in_memory_and_limited_as_in_kubedirector() {
        let (volumes, mounts) = folders(&[]);
        let paths: Vec<&str> = mounts
            .iter()
            .filter_map(|m| m["mountPath"].as_str())
            .collect();
        assert_eq!(paths, ["/tmp", "/run", "/run/lock"]);
        for volume in &volumes {
            assert_eq!(
                volume["emptyDir"],
                value!({"medium": "Memory", "sizeLimit": "20Gi"})
            );
        }
        for (volume, mount) in volumes.iter().zip(&mounts) {
            assert_eq!(volume["name"], mount["name"]);
        }
    }

    #[test]
    fn a_folder_the_app_mounts_itself_keeps_its_own_mount() {
        let persisted_run = value!({"name": "p", "mountPath": "/run", "subPath": "run"});
        let (volumes, mounts) = folders(&[persisted_run]);
        let paths: Vec<&str> = mounts
            .iter()
            .filter_map(|m| m["mountPath"].as_str())
            .collect();
        assert_eq!(paths, ["/tmp", "/run/lock"]);
        assert_eq!(volumes.len(), 2);
    }
}
