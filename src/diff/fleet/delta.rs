//! What changed in an object, as data: every field whose value differs, by its path, with the
//! value before and after. Unlike the unified diff of the object's YAML, it does not depend on
//! where the fields happen to sort (a ConfigMap's per-member keys sort by the cluster's name),
//! nor on the lines around a change; and unlike the changed lines alone, it says which field
//! they belong to.

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
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                within(path, &key.replace('~', "~0").replace('/', "~1"), |path| {
                    walk(a.get(key), b.get(key), path, out);
                });
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for index in 0..a.len().max(b.len()) {
                within(path, &index.to_string(), |path| {
                    walk(a.get(index), b.get(index), path, out);
                });
            }
        }
        (a, b) if a != b => out.push(json!([path.clone(), side(a), side(b)])),
        _ => {}
    }
}

/// Runs `inside` with `/segment` appended to `path`, then takes it off again.
fn within(path: &mut String, segment: &str, inside: impl FnOnce(&mut String)) {
    let length = path.len();
    path.push('/');
    path.push_str(segment);
    inside(path);
    path.truncate(length);
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
            delta(&json!({"n": null}), &json!({})),
            json!([["/n", [null], []]])
        );
    }
}
