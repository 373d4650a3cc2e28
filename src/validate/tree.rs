//! The schemas as static trees, and the one view of JSON that the quick check reads.
//!
//! Parsing the schema documents was a fifth of a small render: every run built the same
//! `serde_json` trees from the same embedded text. The build script (`build.rs`) now writes each
//! schema the quick paths read (the four input formats and the Kubernetes definitions) as a
//! [`Tree`] constant, which lives in the binary's read-only data: nothing is parsed, allocated or
//! dropped at run time. Descriptions are left out: they are for editors, and the error reports,
//! which quote them, read the parsed documents as before. A unit test holds each tree to its
//! document.
//!
//! The quick judge ([`accept`](super::accept)), the pruning walk ([`prune`](super::prune)) and the
//! pointer look-ups read schemas through [`JsonTree`], so that they take a [`Tree`] on the run's
//! path and a parsed `serde_json::Value` where one is at hand (the tests, the reports).

use std::cmp::Ordering;

/// A JSON value known when kdrender is built. An object's entries are sorted by key, in the
/// order `serde_json`'s maps keep, so both iterate alike.
#[allow(
    dead_code,
    reason = "every JSON value has its variant; today's schemas hold no null, no integer past \
              i64 and no fraction"
)]
#[derive(Debug, PartialEq)]
pub enum Tree {
    Null,
    Bool(bool),
    Integer(i64),
    Unsigned(u64),
    Float(f64),
    String(&'static str),
    Array(&'static [Tree]),
    Object(&'static [(&'static str, Tree)]),
}

/// A number as the judge compares them: integers exactly, anything with a fraction not at all.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Integer(i128),
    Fraction,
}

/// What a JSON value is, one level deep.
pub enum View<'a, T> {
    Null,
    Bool(bool),
    Number(Number),
    String(&'a str),
    Array(&'a [T]),
    Object,
}

/// A read-only view of JSON, by [`Tree`] and by `serde_json::Value` alike.
pub trait JsonTree: Sized {
    fn view(&self) -> View<'_, Self>;

    /// An object's value at `key`.
    fn get(&self, key: &str) -> Option<&Self>;

    /// An object's entries, in key order; `None` for anything else.
    fn entries(&self) -> Option<impl Iterator<Item = (&str, &Self)>>;

    fn is_object(&self) -> bool {
        matches!(self.view(), View::Object)
    }

    fn as_str(&self) -> Option<&str> {
        match self.view() {
            View::String(text) => Some(text),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self.view() {
            View::Bool(answer) => Some(answer),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&[Self]> {
        match self.view() {
            View::Array(items) => Some(items),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<Number> {
        match self.view() {
            View::Number(number) => Some(number),
            _ => None,
        }
    }

    /// A non-negative integer, as `serde_json::Value::as_u64` reads it.
    fn as_u64(&self) -> Option<u64> {
        match self.as_number()? {
            Number::Integer(integer) => u64::try_from(integer).ok(),
            Number::Fraction => None,
        }
    }
}

impl JsonTree for Tree {
    fn view(&self) -> View<'_, Tree> {
        match self {
            Tree::Null => View::Null,
            Tree::Bool(answer) => View::Bool(*answer),
            Tree::Integer(integer) => View::Number(Number::Integer(i128::from(*integer))),
            Tree::Unsigned(integer) => View::Number(Number::Integer(i128::from(*integer))),
            Tree::Float(_) => View::Number(Number::Fraction),
            Tree::String(text) => View::String(text),
            Tree::Array(items) => View::Array(items),
            Tree::Object(_) => View::Object,
        }
    }

    fn get(&self, key: &str) -> Option<&Tree> {
        let Tree::Object(entries) = self else {
            return None;
        };
        let at = entries
            .binary_search_by(|(name, _)| name.as_bytes().cmp(key.as_bytes()))
            .ok()?;
        entries.get(at).map(|(_, value)| value)
    }

    fn entries(&self) -> Option<impl Iterator<Item = (&str, &Tree)>> {
        match self {
            Tree::Object(entries) => Some(entries.iter().map(|(key, value)| (*key, value))),
            _ => None,
        }
    }
}

impl JsonTree for serde_json::Value {
    fn view(&self) -> View<'_, serde_json::Value> {
        match self {
            serde_json::Value::Null => View::Null,
            serde_json::Value::Bool(answer) => View::Bool(*answer),
            serde_json::Value::Number(number) => View::Number(
                number
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| number.as_u64().map(i128::from))
                    .map_or(Number::Fraction, Number::Integer),
            ),
            serde_json::Value::String(text) => View::String(text),
            serde_json::Value::Array(items) => View::Array(items),
            serde_json::Value::Object(_) => View::Object,
        }
    }

    fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.as_object()?.get(key)
    }

    fn entries(&self) -> Option<impl Iterator<Item = (&str, &serde_json::Value)>> {
        let map = self.as_object()?;
        Some(map.iter().map(|(key, value)| (key.as_str(), value)))
    }
}

/// Whether two values are equal as JSON Schema compares them; `None` when a number with a
/// fraction takes part (JSON Schema's `1 == 1.0` is left to the validator).
pub fn same<A: JsonTree, B: JsonTree>(a: &A, b: &B) -> Option<bool> {
    match (a.view(), b.view()) {
        (View::Number(Number::Integer(x)), View::Number(Number::Integer(y))) => Some(x == y),
        (View::Number(_), View::Number(_)) => None,
        (View::Null, View::Null) => Some(true),
        (View::Bool(x), View::Bool(y)) => Some(x == y),
        (View::String(x), View::String(y)) => Some(x == y),
        (View::Array(xs), View::Array(ys)) => {
            if xs.len() != ys.len() {
                return Some(false);
            }
            all_same(xs.iter().zip(ys).map(|(x, y)| same(x, y)))
        }
        (View::Object, View::Object) => {
            let (Some(xs), Some(ys)) = (a.entries(), b.entries()) else {
                return Some(false);
            };
            if a.entries().map(Iterator::count) != b.entries().map(Iterator::count) {
                return Some(false);
            }
            // Both iterate in key order: equal objects pair up key by key.
            all_same(xs.zip(ys).map(
                |((kx, x), (ky, y))| {
                    if kx == ky { same(x, y) } else { Some(false) }
                },
            ))
        }
        _ => Some(false),
    }
}

/// Pairs compared in order: surely different at the first pair that surely differs, else unsure
/// if any pair is unsure.
fn all_same(answers: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut answer = Some(true);
    for pair in answers {
        match pair {
            Some(true) => {}
            Some(false) => return Some(false),
            None => answer = None,
        }
    }
    answer
}

/// Two integers' order (a number with a fraction: unsure).
pub fn compare(a: Number, b: Number) -> Option<Ordering> {
    match (a, b) {
        (Number::Integer(x), Number::Integer(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

/// The trees `build.rs` writes from `schemas/`.
pub mod schemas {
    use super::Tree;

    include!(concat!(env!("OUT_DIR"), "/schema_trees.rs"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::SchemaKind;
    use crate::validate::kubernetes::{self, without_descriptions};

    /// The tree as the `serde_json::Value` it stands for.
    fn to_json(tree: &Tree) -> serde_json::Value {
        match tree {
            Tree::Null => serde_json::Value::Null,
            Tree::Bool(answer) => serde_json::Value::Bool(*answer),
            Tree::Integer(integer) => (*integer).into(),
            Tree::Unsigned(integer) => (*integer).into(),
            Tree::Float(float) => (*float).into(),
            Tree::String(text) => (*text).into(),
            Tree::Array(items) => items.iter().map(to_json).collect(),
            Tree::Object(entries) => entries
                .iter()
                .map(|(key, value)| ((*key).to_string(), to_json(value)))
                .collect(),
        }
    }

    fn parsed_without_descriptions(text: &str) -> serde_json::Value {
        let mut value = serde_json::from_str(text).unwrap();
        without_descriptions(&mut value);
        value
    }

    #[test]
    fn each_tree_is_its_schema_without_the_descriptions() {
        for kind in SchemaKind::ALL {
            let tree = kind.tree();
            assert_eq!(
                to_json(tree),
                parsed_without_descriptions(kind.text()),
                "{kind:?}"
            );
        }
        let definitions = kubernetes::definitions().unwrap();
        let mut expected = definitions.clone();
        without_descriptions(&mut expected);
        assert_eq!(to_json(&schemas::KUBERNETES), expected);
    }

    #[test]
    fn keys_are_sorted_as_serde_json_sorts_them_and_found_by_search() {
        fn check(tree: &Tree) {
            if let Tree::Object(entries) = tree {
                assert!(entries.windows(2).all(|pair| pair[0].0 < pair[1].0));
                for (key, value) in entries.iter() {
                    assert!(std::ptr::eq(tree.get(key).unwrap(), value), "{key}");
                    check(value);
                }
            }
            if let Tree::Array(items) = tree {
                items.iter().for_each(check);
            }
        }
        for kind in SchemaKind::ALL {
            check(kind.tree());
        }
        check(&schemas::KUBERNETES);
        assert_eq!(schemas::APP.get("no such keyword"), None);
    }

    #[test]
    fn numbers_compare_as_integers_or_not_at_all() {
        let json: serde_json::Value = serde_json::json!([1, -1, 1.5, 18446744073709551615u64]);
        let views: Vec<_> = json
            .as_array()
            .unwrap()
            .iter()
            .map(JsonTree::as_number)
            .collect();
        assert_eq!(views[0], Some(Number::Integer(1)));
        assert_eq!(views[1], Some(Number::Integer(-1)));
        assert_eq!(views[2], Some(Number::Fraction));
        assert_eq!(views[3], Some(Number::Integer(i128::from(u64::MAX))));
        assert_eq!(Tree::Integer(-1).as_u64(), None);
        assert_eq!(Tree::Unsigned(7).as_u64(), Some(7));
        assert_eq!(same(&Tree::Integer(1), &serde_json::json!(1)), Some(true));
        assert_eq!(same(&Tree::Float(1.0), &serde_json::json!(1)), None);
        assert_eq!(same(&Tree::String("a"), &serde_json::json!(1)), Some(false));
        let object = Tree::Object(&[("a", Tree::Integer(1)), ("b", Tree::Null)]);
        assert_eq!(
            same(&object, &serde_json::json!({"a": 1, "b": null})),
            Some(true)
        );
        assert_eq!(
            same(&object, &serde_json::json!({"a": 1, "c": null})),
            Some(false)
        );
        assert_eq!(
            same(&object, &serde_json::json!({"a": 1.0, "b": null})),
            None
        );
        assert_eq!(same(&object, &serde_json::json!({"a": 1})), Some(false));
    }
}
