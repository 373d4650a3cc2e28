//! What changed in an object, as data: every field whose value differs, by its path, with the
//! value before and after. Unlike the unified diff of the object's YAML, it does not depend on
//! where the fields happen to sort (a ConfigMap's per-member keys sort by the cluster's name),
//! nor on the lines around a change; and unlike the changed lines alone, it says which field
//! they belong to.

use std::cmp::Ordering;
use std::fmt::Write;

use serde_json::{Value, json};

/// The fields that differ between `before` and `after`, as `[path, [before], [after]]`, where
/// a side's list is empty when the field is absent there. Paths are JSON pointers.
pub fn delta(before: &Value, after: &Value) -> Value {
    let mut entries = Vec::new();
    walk(Some(before), Some(after), &mut String::new(), &mut entries);
    Value::Array(entries)
}

fn walk(before: Option<&Value>, after: Option<&Value>, path: &mut String, out: &mut Vec<Value>) {
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            // Both maps iterate in key order: their keys merge into one ordered walk.
            let (mut a, mut b) = (a.iter().peekable(), b.iter().peekable());
            loop {
                let order = match (a.peek(), b.peek()) {
                    (None, None) => break,
                    (Some((x, _)), Some((y, _))) => x.cmp(y),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                };
                let taken = match order {
                    Ordering::Less => a.next().map(|(key, x)| (key, Some(x), None)),
                    Ordering::Greater => b.next().map(|(key, y)| (key, None, Some(y))),
                    Ordering::Equal => a
                        .next()
                        .zip(b.next())
                        .map(|((key, x), (_, y))| (key, Some(x), Some(y))),
                };
                let Some((key, x, y)) = taken else { break };
                let length = path.len();
                push_segment(path, key);
                walk(x, y, path, out);
                path.truncate(length);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for index in 0..a.len().max(b.len()) {
                let length = path.len();
                // Writing to a String cannot fail.
                let _ = write!(path, "/{index}");
                walk(a.get(index), b.get(index), path, out);
                path.truncate(length);
            }
        }
        (a, b) if a != b => out.push(json!([path.clone(), side(a), side(b)])),
        _ => {}
    }
}

/// Appends `/key` to a JSON pointer, `~` written `~0` and `/` written `~1`.
fn push_segment(path: &mut String, key: &str) {
    path.push('/');
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

fn side(value: Option<&Value>) -> Value {
    match value {
        Some(value) => json!([value]),
        None => json!([]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_by_path_and_absence_is_not_null() {
        let before = json!({"a": {"x": 1}, "b": {"x": 1}, "list": [1, 2], "n": null});
        let after = json!({"a": {"x": 1}, "b": {"x": 2}, "list": [1], "n": null, "new": "v"});
        assert_eq!(
            delta(&before, &after),
            json!([
                ["/b/x", [1], [2]],
                ["/list/1", [2], []],
                ["/new", [], ["v"]]
            ])
        );
        // The same change under another key is another change.
        let other = json!({"a": {"x": 2}, "b": {"x": 1}, "list": [1], "n": null, "new": "v"});
        assert_ne!(delta(&before, &after), delta(&before, &other));
        // A key with `/` or `~` cannot pass for a path.
        assert_eq!(
            delta(&json!({"a/b": 1}), &json!({"a/b": 2})),
            json!([["/a~1b", [1], [2]]])
        );
        assert_eq!(
            delta(&json!({"x": {"~/": [0, 1]}}), &json!({"x": {"~/": [0, 2]}})),
            json!([["/x/~0~1/1", [1], [2]]])
        );
        assert_eq!(
            delta(&json!({"n": null}), &json!({})),
            json!([["/n", [null], []]])
        );
    }
}
