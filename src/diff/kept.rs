//! Objects kept between the two renders of `diff`, in a compact form: each object's canonical
//! text (compact JSON; serde_json writes map keys sorted, so two objects are equal exactly when
//! their texts are) and what the plan reads besides its value (identity, role, rollout facts).
//!
//! The base revision is kept this way ([`Side`]); each cluster of the working tree, rendered
//! meanwhile, waits for the whole base and is compared with it as soon as it is rendered
//! ([`Kept::same_as`] writes the new object into a reused buffer and compares the texts),
//! and only objects that differ are parsed back into trees. Neither render's object trees are
//! ever all held at once.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::fleet::ClusterRef;
use crate::emit::compact;
use crate::render::{Kind, Object, RolloutFacts};
use crate::source::Origin;

/// An object's identity in a render: kind, namespace and name (as the plan matches objects).
pub type Key = (Kind, String, String);

/// An object without its tree: its canonical text and everything else the plan reads.
#[derive(Debug)]
pub struct Kept {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub cluster: String,
    role: Option<String>,
    origin: Origin,
    rollout: Option<Box<RolloutFacts>>,
    patches: Vec<usize>,
    text: Box<str>,
    /// The tree itself, for an object nested too deep to parse back ([`DEEPEST_PARSED`]).
    deep: Option<Box<Value>>,
}

impl Kept {
    /// `object`, its tree replaced by its text.
    pub fn keep(object: Object) -> Kept {
        let text: Box<str> = compact::with_text(&object.value, |text| Box::from(text));
        let deep = nests_deeper(&object.value, DEEPEST_PARSED).then(|| Box::new(object.value));
        Kept {
            kind: object.kind,
            namespace: object.namespace,
            name: object.name,
            cluster: object.cluster,
            role: object.role,
            origin: object.origin,
            rollout: object.rollout,
            patches: object.patches,
            text,
            deep,
        }
    }

    pub fn key(&self) -> Key {
        (self.kind, self.namespace.clone(), self.name.clone())
    }

    /// [`Kept::key`], borrowed.
    fn key_ref(&self) -> (Kind, &str, &str) {
        (self.kind, &self.namespace, &self.name)
    }

    pub fn cluster_ref(&self) -> ClusterRef {
        ClusterRef {
            namespace: self.namespace.clone(),
            name: self.cluster.clone(),
        }
    }

    /// The size of the object as compact JSON, which the output limit counts.
    pub fn size(&self) -> usize {
        self.text.len()
    }

    /// The object again, its tree parsed back from its text.
    pub fn object(&self) -> Object {
        let value = match &self.deep {
            Some(tree) => Value::clone(tree),
            // The text is serde_json's own writing of a Value, nested no deeper than it reads.
            None => serde_json::from_str(&self.text).unwrap_or(Value::Null),
        };
        self.with_value(value)
    }

    /// The object with `value` as its tree (for an object equal on both sides, the other
    /// side's tree).
    pub fn with_value(&self, value: Value) -> Object {
        Object {
            value,
            kind: self.kind,
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            cluster: self.cluster.clone(),
            role: self.role.clone(),
            origin: self.origin,
            rollout: self.rollout.clone(),
            patches: self.patches.clone(),
        }
    }

    /// Whether `value` is this object's tree, and the size of `value` as compact JSON.
    pub fn same_as(&self, value: &Value) -> (bool, usize) {
        compact::with_text(value, |text| (*text == *self.text, text.len()))
    }
}

/// Objects nested deeper than this keep their tree besides their text: serde_json reads no
/// deeper than 128 levels (rendered objects nest a few levels beyond what the loader accepts of
/// their inputs, 64, so this is for safety, never for speed).
const DEEPEST_PARSED: usize = 100;

/// Whether `value`'s arrays and objects nest more than `limit` levels deep (`{}` is one level).
/// The walk goes no deeper than that, and visits only the tree's containers and values, not the
/// bytes of its text.
fn nests_deeper(value: &Value, limit: usize) -> bool {
    let deeper = |child: &Value| limit > 0 && nests_deeper(child, limit - 1);
    match value {
        Value::Array(items) => limit == 0 || items.iter().any(deeper),
        Value::Object(map) => limit == 0 || map.values().any(deeper),
        _ => false,
    }
}

/// Whether two objects belong to one cluster.
fn same_cluster(a: &Kept, b: &Kept) -> bool {
    a.cluster == b.cluster && a.namespace == b.namespace
}

/// One render's objects, kept, by cluster and by key; and the names of every cluster it
/// rendered (for `--cluster`), those left out included.
#[derive(Debug, Default)]
pub struct Side {
    objects: Vec<Kept>,
    by_cluster: BTreeMap<ClusterRef, Vec<usize>>,
    /// Indices into `objects`, sorted by key, one per key (the last object of a key, if a
    /// render ever held two): looked up by borrowed names, so no key is ever copied.
    by_key: Vec<usize>,
    pub names: BTreeSet<String>,
}

impl Side {
    /// The objects in output order, and the names of the clusters rendered.
    pub fn new(objects: Vec<Kept>, names: BTreeSet<String>) -> Side {
        let mut by_cluster: BTreeMap<ClusterRef, Vec<usize>> = BTreeMap::new();
        // A cluster's objects come together: its name is copied once, not once per object.
        let mut current: Option<(&Kept, &mut Vec<usize>)> = None;
        for (index, kept) in objects.iter().enumerate() {
            match &mut current {
                Some((first, indices)) if same_cluster(first, kept) => indices.push(index),
                _ => {
                    let indices = by_cluster.entry(kept.cluster_ref()).or_default();
                    indices.push(index);
                    current = Some((kept, indices));
                }
            }
        }
        let key = |index: &usize| objects.get(*index).map(Kept::key_ref);
        let mut by_key: Vec<usize> = (0..objects.len()).collect();
        // Equal keys: the later object first, so that it is the one kept.
        by_key.sort_unstable_by(|a, b| key(a).cmp(&key(b)).then(b.cmp(a)));
        by_key.dedup_by(|later, earlier| key(later) == key(earlier));
        Side {
            objects,
            by_cluster,
            by_key,
            names,
        }
    }

    pub fn get(&self, key: &Key) -> Option<&Kept> {
        self.find(key.0, &key.1, &key.2)
    }

    /// The object of this kind, namespace and name.
    pub fn find(&self, kind: Kind, namespace: &str, name: &str) -> Option<&Kept> {
        let wanted = (kind, namespace, name);
        let at = self
            .by_key
            .binary_search_by(|index| {
                let key = self.objects.get(*index).map(Kept::key_ref);
                key.cmp(&Some(wanted))
            })
            .ok()?;
        self.by_key
            .get(at)
            .and_then(|&index| self.objects.get(index))
    }

    /// The objects of one cluster, in output order.
    pub fn cluster(&self, cluster: &ClusterRef) -> impl Iterator<Item = &Kept> {
        self.by_cluster
            .get(cluster)
            .into_iter()
            .flatten()
            .filter_map(|&index| self.objects.get(index))
    }

    /// Every cluster with objects, in order.
    pub fn clusters(&self) -> impl Iterator<Item = &ClusterRef> {
        self.by_cluster.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Object {
        Object {
            value,
            kind: Kind::ConfigMap,
            name: "c".into(),
            namespace: "n".into(),
            cluster: "c".into(),
            role: None,
            origin: Origin {
                file: crate::source::FileId(0),
                span: crate::source::Span::default(),
            },
            rollout: None,
            patches: Vec::new(),
        }
    }

    #[test]
    fn a_side_finds_each_object_by_key_and_each_cluster_s_objects_in_order() {
        let kept = |kind, namespace: &str, cluster: &str, name: &str| {
            Kept::keep(Object {
                kind,
                namespace: namespace.into(),
                cluster: cluster.into(),
                name: name.into(),
                ..object(json!({ "name": name }))
            })
        };
        // Output order: namespace, cluster, then kind and name.
        let side = Side::new(
            vec![
                kept(Kind::ConfigMap, "a", "db", "db-files"),
                kept(Kind::Service, "a", "db", "db"),
                kept(Kind::StatefulSet, "a", "db", "db-0"),
                kept(Kind::ConfigMap, "a", "web", "web-files"),
                kept(Kind::Service, "b", "db", "db"),
            ],
            BTreeSet::new(),
        );
        let found = |kind, namespace, name| {
            side.find(kind, namespace, name)
                .map(|k| (k.namespace.as_str(), k.cluster.as_str(), k.name.as_str()))
        };
        assert_eq!(found(Kind::Service, "a", "db"), Some(("a", "db", "db")));
        assert_eq!(found(Kind::Service, "b", "db"), Some(("b", "db", "db")));
        assert_eq!(
            found(Kind::ConfigMap, "a", "web-files"),
            Some(("a", "web", "web-files"))
        );
        assert_eq!(found(Kind::StatefulSet, "a", "db"), None);
        assert_eq!(found(Kind::Service, "c", "db"), None);
        let key = (Kind::StatefulSet, "a".to_string(), "db-0".to_string());
        assert_eq!(side.get(&key).map(|k| k.name.as_str()), Some("db-0"));
        let db = ClusterRef {
            namespace: "a".into(),
            name: "db".into(),
        };
        let names: Vec<&str> = side.cluster(&db).map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["db-files", "db", "db-0"]);
        assert_eq!(side.clusters().count(), 3);
    }

    #[test]
    fn an_object_is_the_same_as_its_own_tree_only() {
        let value = json!({"b": [1, 2.5, "x\n"], "a": {"deep": null}});
        let kept = Kept::keep(object(value.clone()));
        assert_eq!(kept.same_as(&value), (true, kept.size()));
        assert_eq!(kept.object().value, value);
        // A prefix of the text, a longer text, and a number of another type are all different.
        assert!(!kept.same_as(&json!({"a": {"deep": null}})).0);
        assert!(
            !kept
                .same_as(&json!({"b": [1, 2.5, "x\n"], "a": {"deep": null}, "c": 1}))
                .0
        );
        assert!(
            !kept
                .same_as(&json!({"b": [1.0, 2.5, "x\n"], "a": {"deep": null}}))
                .0
        );
    }

    #[test]
    fn a_deep_tree_comes_back_whole() {
        let mut value = json!("leaf");
        for _ in 0..100 {
            value = json!({ "k": [value], "s": "{[\\\"" });
        }
        assert!(nests_deeper(&value, 199) && !nests_deeper(&value, 200));
        let kept = Kept::keep(object(value.clone()));
        assert!(kept.deep.is_some());
        assert_eq!(kept.object().value, value);
        assert!(kept.same_as(&value).0);
        let shallow = json!({"s": "[[[[{{{{", "a": [[1]]});
        assert!(nests_deeper(&shallow, 2) && !nests_deeper(&shallow, 3));
        assert!(Kept::keep(object(shallow)).deep.is_none());
        // Just past the limit, and just within it.
        let nested = |levels: usize| (1..levels).fold(json!([]), |inner, _| json!([inner]));
        assert!(
            Kept::keep(object(nested(DEEPEST_PARSED + 1)))
                .deep
                .is_some()
        );
        assert!(Kept::keep(object(nested(DEEPEST_PARSED))).deep.is_none());
    }
}
