//! Pod security: the security contexts of the pods kdrender renders.
//!
//! Where the renderer decides, pods pass what a platform's admission policy checks: every
//! container runs with `allowPrivilegeEscalation: false` and `capabilities.drop: [ALL]` plus
//! exactly the app's declared `capabilities`, and the pod with the `RuntimeDefault` seccomp
//! profile. The app's own `podSecurityContext` wins key by key. `systemdRequired` apps keep the
//! container runtime's capabilities and privilege escalation for their app container: systemd
//! starts services as other users, and those images' users log in and use `sudo`.
//!
//! The init step runs as the app's user when the pod names a non-root one (or asks for
//! `runAsNonRoot`); it then copies persisted directories as that user, onto a volume made
//! writable by `fsGroup`. Otherwise, when it has persisted directories to seed, it runs as root
//! with only the capabilities that copying with owners, modes and file capabilities intact
//! needs: a root app (or one whose user only the image knows) may act as several users.

use super::value::value;
use serde_json::{Map, Value};

use crate::model::App;

/// What the init step needs to copy persisted directories as root, keeping them as the image
/// has them: owners (`CHOWN`), files only their owner may read (`DAC_OVERRIDE`), modes and
/// times of files it no longer owns (`FOWNER`), set-group-id bits (`FSETID`), and file
/// capabilities (`SETFCAP`). All are in Pod Security's "baseline" set.
pub const ROOT_INIT_CAPABILITIES: [&str; 5] =
    ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETFCAP"];

/// Who the init step runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitUser {
    /// The pod's user (the app's): nothing to copy, or the app runs as a non-root user.
    App,
    /// Root, to seed persisted directories with their owners intact.
    Root,
}

impl InitUser {
    /// Root only when persisted directories are seeded and the app is not known to run as a
    /// non-root user.
    pub fn of(persisted: &[String], app_context: Option<&Value>) -> InitUser {
        if persisted.is_empty() || runs_as_non_root(app_context) {
            InitUser::App
        } else {
            InitUser::Root
        }
    }
}

/// The pod names a non-root user, or refuses root (`runAsNonRoot: true`).
fn runs_as_non_root(context: Option<&Value>) -> bool {
    let Some(context) = context else {
        return false;
    };
    context["runAsUser"].as_u64().is_some_and(|uid| uid > 0)
        || context["runAsNonRoot"].as_bool() == Some(true)
}

/// The pod's security context: the app's, over kdrender's defaults. A pod whose app names a
/// non-root user also refuses root (`runAsNonRoot`), as Pod Security's "restricted" profile
/// asks. When the init step seeds persisted directories as the app's user and the app names
/// that user but no `fsGroup`, the pod gets one (the user's group, else its id), so that the
/// user can write to its volume.
pub fn pod_context(app_context: Option<&Value>, init: InitUser, seeds: bool) -> Value {
    let mut context = match app_context {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    context
        .entry("seccompProfile")
        .or_insert_with(|| value!({"type": "RuntimeDefault"}));
    if context
        .get("runAsUser")
        .and_then(Value::as_u64)
        .is_some_and(|uid| uid > 0)
    {
        context.entry("runAsNonRoot").or_insert(value!(true));
    }
    if init == InitUser::App && seeds && !context.contains_key("fsGroup") {
        let user = context.get("runAsUser").and_then(Value::as_u64);
        let group = context.get("runAsGroup").and_then(Value::as_u64);
        if let Some(group) = group.or(user.filter(|&uid| uid > 0)) {
            context.insert("fsGroup".into(), value!(group));
            // Change the volume's group once, not on every start.
            context
                .entry("fsGroupChangePolicy")
                .or_insert_with(|| value!("OnRootMismatch"));
        }
    }
    Value::Object(context)
}

/// The app container's security context: no privilege escalation, and no capabilities but the
/// app's declared ones, except for systemd apps (see the module documentation).
pub fn app_container_context(app: &App) -> Option<Value> {
    let mut capabilities = Map::new();
    if !app.capabilities.is_empty() {
        capabilities.insert("add".into(), value!(&app.capabilities));
    }
    if app.systemd_required {
        return (!capabilities.is_empty()).then(|| value!({"capabilities": capabilities}));
    }
    capabilities.insert("drop".into(), value!(["ALL"]));
    Some(value!({"allowPrivilegeEscalation": false, "capabilities": capabilities}))
}

/// The init step's security context.
pub fn init_container_context(init: InitUser) -> Value {
    match init {
        InitUser::App => value!({
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
        }),
        InitUser::Root => value!({
            "runAsUser": 0,
            "runAsGroup": 0,
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"], "add": ROOT_INIT_CAPABILITIES},
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIRS: [&str; 2] = ["/etc", "/data"];

    fn dirs() -> Vec<String> {
        DIRS.map(String::from).to_vec()
    }

    #[test]
    fn the_init_step_is_root_only_to_seed_for_a_root_or_unknown_user() {
        assert_eq!(InitUser::of(&[], None), InitUser::App);
        assert_eq!(InitUser::of(&dirs(), None), InitUser::Root);
        let root = value!({"runAsUser": 0});
        assert_eq!(InitUser::of(&dirs(), Some(&root)), InitUser::Root);
        let user = value!({"runAsUser": 999});
        assert_eq!(InitUser::of(&dirs(), Some(&user)), InitUser::App);
        let non_root = value!({"runAsNonRoot": true});
        assert_eq!(InitUser::of(&dirs(), Some(&non_root)), InitUser::App);
        let nonsense = value!({"runAsUser": "999"});
        assert_eq!(InitUser::of(&dirs(), Some(&nonsense)), InitUser::Root);
    }

    #[test]
    fn the_pod_gets_seccomp_and_an_fs_group_unless_the_app_says_otherwise() {
        let user = value!({"runAsUser": 999, "runAsGroup": 998});
        assert_eq!(
            pod_context(Some(&user), InitUser::App, true),
            value!({
                "runAsUser": 999,
                "runAsGroup": 998,
                "runAsNonRoot": true,
                "fsGroup": 998,
                "fsGroupChangePolicy": "OnRootMismatch",
                "seccompProfile": {"type": "RuntimeDefault"},
            })
        );
        let only_user = value!({"runAsUser": 1000});
        assert_eq!(
            pod_context(Some(&only_user), InitUser::App, true)["fsGroup"],
            1000
        );
        // Nothing to seed: no fsGroup.
        assert_eq!(
            pod_context(Some(&only_user), InitUser::App, false),
            value!({"runAsUser": 1000, "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}})
        );
        // The app's own choices win.
        let own = value!({
            "runAsUser": 1000,
            "runAsNonRoot": false,
            "fsGroup": 5,
            "seccompProfile": {"type": "Unconfined"},
        });
        assert_eq!(pod_context(Some(&own), InitUser::App, true), own);
        for root in [None, Some(value!({"runAsUser": 0}))] {
            let context = pod_context(root.as_ref(), InitUser::Root, true);
            assert_eq!(context["seccompProfile"]["type"], "RuntimeDefault");
            assert!(context.get("runAsNonRoot").is_none(), "{context}");
            assert!(context.get("fsGroup").is_none(), "{context}");
        }
    }
}
