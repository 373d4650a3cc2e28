//! The Kubernetes version the output is for (`--kube-version`): each rendered object is judged
//! against the Kubernetes features it relies on. A feature the version does not have at all is
//! an error (the API server would refuse the object, or drop the field without a word); one the
//! version has only behind a feature gate that is off by default is a warning that says what
//! happens without it.
//!
//! [`FEATURES`] lists every field kdrender renders that a release since 1.9 added, with the
//! release that added it and the release that turned it on by default, as Kubernetes' own
//! feature-gate tables give them. Fields an app or cluster passes through (its own security
//! context, probes, environment) are the author's and are not judged. [`MINIMUM`] is the oldest version on which everything kdrender
//! renders works as documented; docs/command-line.md states it.

use std::fmt;

use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics};
use crate::render::{Kind, Object};

/// A Kubernetes minor version, `1.27`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

/// The oldest Kubernetes every rendered field works on as documented: StatefulSets'
/// `persistentVolumeClaimRetentionPolicy` is on by default from 1.27.
pub const MINIMUM: KubeVersion = KubeVersion::new(1, 27);

impl KubeVersion {
    pub const fn new(major: u32, minor: u32) -> KubeVersion {
        KubeVersion { major, minor }
    }

    /// `1.27`, `v1.27` or `1.27.3` (the patch release changes no API).
    pub fn parse(text: &str) -> Result<KubeVersion, VersionError> {
        let bad = || VersionError(text.to_string());
        let digits = text.strip_prefix('v').unwrap_or(text);
        let mut parts = digits.split('.');
        let mut number = || -> Result<u32, VersionError> {
            let part = parts.next().ok_or_else(bad)?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let (major, minor) = (number()?, number()?);
        let patch = parts.next();
        if major != 1 || parts.next().is_some() {
            return Err(bad());
        }
        if let Some(patch) = patch
            && (patch.is_empty() || !patch.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        Ok(KubeVersion::new(major, minor))
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A `--kube-version` that is not a Kubernetes version.
#[derive(Debug, thiserror::Error)]
#[error(
    "\"{0}\" is not a Kubernetes version: write MAJOR.MINOR, as in 1.27 (v1.27 and 1.27.3 work too)"
)]
pub struct VersionError(String);

/// A Kubernetes feature some rendered objects rely on.
pub struct Feature {
    /// What the objects hold, as a reader finds it (`StatefulSet field persistentVolumeClaimRetentionPolicy`).
    pub what: &'static str,
    /// The kind of object it is in.
    pub kind: Kind,
    /// Whether an object of that kind uses it.
    pub used_by: fn(&Value) -> bool,
    /// The first release that has it; older ones refuse or drop it.
    pub since: KubeVersion,
    /// The first release that has it on by default, when earlier ones had it behind a feature
    /// gate, with that gate and what happens while it is off.
    pub gated: Option<Gate>,
}

/// A feature gate that was off by default in the releases before `on_from`.
pub struct Gate {
    pub name: &'static str,
    pub on_from: KubeVersion,
    /// What happens on a cluster where the gate is off.
    pub without: &'static str,
}

const POD: [&str; 3] = ["spec", "template", "spec"];

/// Every field kdrender renders that a Kubernetes release since 1.9 added, oldest first.
pub const FEATURES: [Feature; 7] = [
    Feature {
        what: "block volumes (volumeMode: Block)",
        kind: Kind::StatefulSet,
        used_by: |o| {
            any_at(
                o,
                &["spec", "volumeClaimTemplates", "*", "spec", "volumeMode"],
            )
        },
        since: KubeVersion::new(1, 9),
        gated: Some(Gate {
            name: "BlockVolume",
            on_from: KubeVersion::new(1, 13),
            without: "the API server drops volumeMode and volumeDevices, and the role gets a filesystem instead of a block device",
        }),
    },
    Feature {
        what: "the container field subPathExpr (each member's own folder on a shared mount)",
        kind: Kind::StatefulSet,
        used_by: |o| any_container_has(o, &["volumeMounts", "*", "subPathExpr"]),
        since: KubeVersion::new(1, 14),
        gated: Some(Gate {
            name: "VolumeSubpathEnvExpansion",
            on_from: KubeVersion::new(1, 15),
            without: "the API server drops the field, and every member mounts the same folder",
        }),
    },
    Feature {
        what: "the pod field fsGroupChangePolicy",
        kind: Kind::StatefulSet,
        used_by: |o| {
            any_at(
                o,
                &[&POD[..], &["securityContext", "fsGroupChangePolicy"]].concat(),
            )
        },
        since: KubeVersion::new(1, 18),
        gated: Some(Gate {
            name: "ConfigurableFSGroupPolicy",
            on_from: KubeVersion::new(1, 20),
            without: "the API server drops the field, and the kubelet changes the group of every file on the volume at each start",
        }),
    },
    Feature {
        what: "the seccompProfile field of security contexts",
        kind: Kind::StatefulSet,
        used_by: |o| {
            any_at(
                o,
                &[&POD[..], &["securityContext", "seccompProfile"]].concat(),
            ) || any_container_has(o, &["securityContext", "seccompProfile"])
        },
        since: KubeVersion::new(1, 19),
        gated: None,
    },
    Feature {
        what: "the size of memory-backed emptyDir volumes (/tmp, /run, /run/lock, /dev/shm)",
        kind: Kind::StatefulSet,
        used_by: has_sized_memory_volume,
        since: KubeVersion::new(1, 20),
        gated: Some(Gate {
            name: "SizeMemoryBackedVolumes",
            on_from: KubeVersion::new(1, 22),
            without: "the volume is as large as the node allows, and the limit is enforced only by evicting the pod",
        }),
    },
    Feature {
        what: "PodDisruptionBudgets of policy/v1",
        kind: Kind::PodDisruptionBudget,
        used_by: |o| o.get("apiVersion").and_then(Value::as_str) == Some("policy/v1"),
        since: KubeVersion::new(1, 21),
        gated: None,
    },
    Feature {
        what: "the StatefulSet field persistentVolumeClaimRetentionPolicy",
        kind: Kind::StatefulSet,
        used_by: |o| any_at(o, &["spec", "persistentVolumeClaimRetentionPolicy"]),
        since: KubeVersion::new(1, 23),
        gated: Some(Gate {
            name: "StatefulSetAutoDeletePVC",
            on_from: KubeVersion::new(1, 27),
            without: "the API server drops the field, and a member removed by a scale-down keeps its volume, which comes back stale when the role grows again (KubeDirector deleted it)",
        }),
    },
];

/// Judges one cluster's objects against `version`: one diagnostic per feature the cluster's
/// objects rely on and the version lacks, pointed at the cluster.
pub fn check(objects: &[Object], version: KubeVersion, diagnostics: &mut Diagnostics) {
    for feature in &FEATURES {
        let user = objects
            .iter()
            .find(|o| o.kind == feature.kind && (feature.used_by)(&o.value));
        if let Some(object) = user
            && let Some(diagnostic) = judge(feature, version)
        {
            diagnostics.push(diagnostic.at(object.origin));
        }
    }
}

/// What `version` makes of a feature: nothing when it has it on by default.
fn judge(feature: &Feature, version: KubeVersion) -> Option<Diagnostic> {
    if version < feature.since {
        return Some(
            Diagnostic::error(format!(
                "Kubernetes {version} (--kube-version) lacks {}, which came in {}",
                feature.what, feature.since
            ))
            .help(format!(
                "kdrender's output needs Kubernetes {MINIMUM} or later; render for the cluster's real version, or upgrade it"
            )),
        );
    }
    let gate = feature
        .gated
        .as_ref()
        .filter(|gate| version < gate.on_from)?;
    Some(
        Diagnostic::warning(format!(
            "Kubernetes {version} (--kube-version) has {} only with the {} feature gate, which is off by default before {}",
            feature.what, gate.name, gate.on_from
        ))
        .help(format!("without the gate, {}", gate.without)),
    )
}

/// Whether some container or init container of a StatefulSet's pod has a value at `path`.
fn any_container_has(object: &Value, path: &[&str]) -> bool {
    ["containers", "initContainers"].iter().any(|list| {
        let full: Vec<&str> = POD
            .iter()
            .chain([list, &"*"])
            .chain(path)
            .copied()
            .collect();
        any_at(object, &full)
    })
}

/// Whether `value` has something at `path`, where `*` stands for every item of a list.
fn any_at(value: &Value, path: &[&str]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    match (*first, value) {
        ("*", Value::Array(items)) => items.iter().any(|item| any_at(item, rest)),
        (key, Value::Object(map)) => map.get(key).is_some_and(|v| any_at(v, rest)),
        _ => false,
    }
}

/// Whether a StatefulSet's pod has a memory-backed emptyDir with a size limit.
fn has_sized_memory_volume(object: &Value) -> bool {
    let volumes = POD
        .iter()
        .try_fold(object, |value, key| value.get(key))
        .and_then(|spec| spec.get("volumes"))
        .and_then(Value::as_array);
    volumes.into_iter().flatten().any(|volume| {
        let dir = volume.get("emptyDir");
        dir.and_then(|d| d.get("medium")).and_then(Value::as_str) == Some("Memory")
            && dir.and_then(|d| d.get("sizeLimit")).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_are_read_as_helm_and_kubectl_write_them() {
        for text in ["1.27", "v1.27", "1.27.3", "v1.27.0"] {
            assert_eq!(
                KubeVersion::parse(text).unwrap(),
                KubeVersion::new(1, 27),
                "{text}"
            );
        }
        for text in [
            "", "1", "1.", "1.x", "2.0", "1.27.3.4", "1.27.", "v", "1.-2", "１.27",
        ] {
            assert!(KubeVersion::parse(text).is_err(), "{text}");
        }
        assert!(KubeVersion::new(1, 9) < KubeVersion::new(1, 27));
    }

    #[test]
    fn each_feature_is_refused_before_it_exists_and_warned_about_behind_its_gate() {
        let retention = &FEATURES[6];
        assert!(
            judge(retention, KubeVersion::new(1, 22))
                .unwrap()
                .is_error()
        );
        let warned = judge(retention, KubeVersion::new(1, 26)).unwrap();
        assert_eq!(warned.severity, crate::diag::Severity::Warning);
        assert!(
            warned.message.contains("StatefulSetAutoDeletePVC"),
            "{}",
            warned.message
        );
        assert!(judge(retention, MINIMUM).is_none());
        // Nothing kdrender renders needs more than the stated minimum.
        assert!(FEATURES.iter().all(|f| judge(f, MINIMUM).is_none()));
        assert!(
            FEATURES
                .iter()
                .any(|f| judge(f, KubeVersion::new(1, 26)).is_some())
        );
    }

    #[test]
    fn paths_with_stars_look_into_every_item() {
        let object = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "a"}, {"volumeMounts": [{"subPathExpr": "$(POD_NAME)"}]}],
            "volumes": [{"emptyDir": {}}, {"emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}],
        }}}});
        assert!(any_container_has(
            &object,
            &["volumeMounts", "*", "subPathExpr"]
        ));
        assert!(!any_container_has(
            &object,
            &["securityContext", "seccompProfile"]
        ));
        assert!(has_sized_memory_volume(&object));
        assert!(!has_sized_memory_volume(
            &json!({"spec": {"template": {"spec": {
                "volumes": [{"emptyDir": {"sizeLimit": "1Gi"}}],
            }}}})
        ));
    }
}
