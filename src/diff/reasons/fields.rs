//! The fields in which two values differ, named as a reviewer finds them: `containers[app].image`,
//! `env[JAVA_OPTS].value`, `volumeMounts[/etc/x]`.

use std::collections::BTreeSet;

use serde_json::Value;

/// One field that differs: its path and both values (`null` when absent).
pub struct Change {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

impl Change {
    pub(super) fn new(field: &str, before: &Value, after: &Value) -> Change {
        Change {
            field: field.to_string(),
            before: before.clone(),
            after: after.clone(),
        }
    }
}

/// The value at a JSON pointer, `null` where there is none (as indexing a `Value` gives).
pub fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&Value::Null)
}

/// Leaf differences between two values, as `(field path, before, after)`. Lists of objects
/// are matched by a field that names their items (`containers[app]`, `env[JAVA_OPTS]`,
/// `volumeMounts[/etc/x]`), other lists by position.
pub fn differences(path: &str, before: &Value, after: &Value, out: &mut Vec<Change>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                differences(
                    &join(path, key),
                    b.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(b), Value::Array(a)) => match identity(b, a) {
            Some(field) => named_item_differences(path, field, b, a, out),
            None if b.len() == a.len() => {
                for (i, (x, y)) in b.iter().zip(a).enumerate() {
                    differences(&join(path, &format!("[{i}]")), x, y, out);
                }
            }
            None => out.push(Change::new(path, before, after)),
        },
        _ => out.push(Change::new(path, before, after)),
    }
}

/// A field path with one more segment: `a.b`, or `a[x]` for list items.
fn join(path: &str, segment: &str) -> String {
    if path.is_empty() {
        segment.to_string()
    } else if segment.starts_with('[') {
        format!("{path}{segment}")
    } else {
        format!("{path}.{segment}")
    }
}

/// The differences of two lists whose items are named by `field`, item by item.
fn named_item_differences(
    path: &str,
    field: &str,
    before: &[Value],
    after: &[Value],
    out: &mut Vec<Change>,
) {
    let name = |v: &Value| {
        v.pointer(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let names: BTreeSet<String> = before.iter().chain(after).map(name).collect();
    for n in names {
        let find = |list: &[Value]| {
            list.iter()
                .find(|v| name(v) == n)
                .cloned()
                .unwrap_or(Value::Null)
        };
        differences(
            &join(path, &format!("[{n}]")),
            &find(before),
            &find(after),
            out,
        );
    }
}

/// The field (a JSON pointer) that names the items of two lists of objects, if one is present
/// and unique in every item of both: `mountPath` for volume mounts (which share volume names),
/// `devicePath` for devices, `name`, then `metadata.name` for volume claim templates.
fn identity(before: &[Value], after: &[Value]) -> Option<&'static str> {
    let unique = |list: &[Value], field: &str| {
        let mut seen = BTreeSet::new();
        list.iter().all(|v| {
            v.pointer(field)
                .and_then(Value::as_str)
                .is_some_and(|s| seen.insert(s.to_string()))
        })
    };
    if before.is_empty() && after.is_empty() {
        return None;
    }
    ["/mountPath", "/devicePath", "/name", "/metadata/name"]
        .into_iter()
        .find(|field| unique(before, field) && unique(after, field))
}

/// A value as a reviewer reads it (`None` when absent); long ones are shortened.
pub fn brief(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(shorten(s)),
        other => Some(shorten(&other.to_string())),
    }
}

/// At most 120 characters.
pub(super) fn shorten(text: &str) -> String {
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(119).collect::<String>())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_name_fields_by_path_and_list_items_by_name() {
        let before = json!({"containers": [{"name": "app", "image": "a:1", "env": [{"name": "X", "value": "1"}]}], "dns": ["a"]});
        let after = json!({"containers": [{"name": "app", "image": "a:2", "env": [{"name": "X", "value": "2"}, {"name": "Y", "value": "3"}]}], "dns": ["a"]});
        let mut out = Vec::new();
        differences("", &before, &after, &mut out);
        let fields: Vec<&str> = out.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "containers[app].env[X].value",
                "containers[app].env[Y]",
                "containers[app].image"
            ]
        );
        assert_eq!(
            (&out[2].before, &out[2].after),
            (&json!("a:1"), &json!("a:2"))
        );
    }

    #[test]
    fn volume_mounts_are_named_by_their_path() {
        let before = json!([{"name": "config-files", "mountPath": "/etc/a"}]);
        let after = json!([{"name": "config-files-755", "mountPath": "/etc/a"}]);
        let mut out = Vec::new();
        differences("volumeMounts", &before, &after, &mut out);
        assert_eq!(out[0].field, "volumeMounts[/etc/a].name");
    }
}
