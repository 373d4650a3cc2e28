//! `value!`: `serde_json::json!`'s syntax, building the object trees render returns by moving
//! what it is given into them.
//!
//! `json!` takes every interpolated expression by reference and serialises it into a new value,
//! so a subtree built by one function and placed into its parent by `json!` is copied once per
//! level it climbs: the pod spec was copied three times on its way into the StatefulSet, and
//! these copies and the drops of their originals were a fifth of a large render's instructions.
//! `value!` moves each expression in through [`IntoValue`], which exists for the types render
//! places into objects; a type without it does not compile, so nothing is converted in a way
//! that differs from `json!`'s.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A value render places into an object, turned into JSON the way serialising it would.
pub trait IntoValue {
    fn into_value(self) -> Value;
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

impl IntoValue for Map<String, Value> {
    fn into_value(self) -> Value {
        Value::Object(self)
    }
}

impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::String(self)
    }
}

impl IntoValue for &String {
    fn into_value(self) -> Value {
        Value::String(self.clone())
    }
}

impl IntoValue for &str {
    fn into_value(self) -> Value {
        Value::String(self.to_string())
    }
}

impl IntoValue for &&str {
    fn into_value(self) -> Value {
        Value::String((*self).to_string())
    }
}

impl IntoValue for &Value {
    fn into_value(self) -> Value {
        self.clone()
    }
}

impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

macro_rules! numbers {
    ($($number:ty),*) => {$(
        impl IntoValue for $number {
            fn into_value(self) -> Value {
                Value::from(self)
            }
        }
        impl IntoValue for &$number {
            fn into_value(self) -> Value {
                Value::from(*self)
            }
        }
    )*};
}
numbers!(u16, u32, u64, usize, i32, i64);

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Value {
        Value::Array(self.into_iter().map(IntoValue::into_value).collect())
    }
}

impl<T: IntoValue + Clone> IntoValue for &Vec<T> {
    fn into_value(self) -> Value {
        self.as_slice().into_value()
    }
}

impl<T: IntoValue + Clone> IntoValue for &[T] {
    fn into_value(self) -> Value {
        Value::Array(self.iter().cloned().map(IntoValue::into_value).collect())
    }
}

impl<T: IntoValue, const N: usize> IntoValue for [T; N] {
    fn into_value(self) -> Value {
        Value::Array(self.into_iter().map(IntoValue::into_value).collect())
    }
}

impl<V: IntoValue> IntoValue for BTreeMap<String, V> {
    fn into_value(self) -> Value {
        Value::Object(self.into_iter().map(|(k, v)| (k, v.into_value())).collect())
    }
}

impl<V: IntoValue + Clone> IntoValue for &BTreeMap<String, V> {
    fn into_value(self) -> Value {
        self.clone().into_value()
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self) -> Value {
        self.map_or(Value::Null, IntoValue::into_value)
    }
}

impl IntoValue for super::Kind {
    fn into_value(self) -> Value {
        Value::String(self.as_str().to_string())
    }
}

/// Builds a [`Value`] with `json!`'s syntax (`{"key": value, …}`, `[item, …]`, `null`, or any
/// expression whose type is [`IntoValue`]), moving every expression into it. Keys are string
/// literals, paths of constants, or expressions in parentheses.
macro_rules! value {
    (null) => {
        serde_json::Value::Null
    };
    ([ $($items:tt)* ]) => {
        serde_json::Value::Array($crate::render::value::value!(@array [] $($items)*))
    };
    ({ $($fields:tt)* }) => {
        serde_json::Value::Object({
            #[allow(unused_mut)]
            let mut map = serde_json::Map::new();
            $crate::render::value::value!(@object map $($fields)*);
            map
        })
    };
    ($other:expr) => {
        $crate::render::value::IntoValue::into_value($other)
    };

    // An array's items, each made a value, collected in order.
    (@array [$($done:expr,)*]) => {
        vec![$($done,)*]
    };
    (@array [$($done:expr,)*] null $(, $($rest:tt)*)?) => {
        $crate::render::value::value!(@array [$($done,)* serde_json::Value::Null,] $($($rest)*)?)
    };
    (@array [$($done:expr,)*] [$($item:tt)*] $(, $($rest:tt)*)?) => {
        $crate::render::value::value!(@array [$($done,)* $crate::render::value::value!([$($item)*]),] $($($rest)*)?)
    };
    (@array [$($done:expr,)*] {$($item:tt)*} $(, $($rest:tt)*)?) => {
        $crate::render::value::value!(@array [$($done,)* $crate::render::value::value!({$($item)*}),] $($($rest)*)?)
    };
    (@array [$($done:expr,)*] $item:expr $(, $($rest:tt)*)?) => {
        $crate::render::value::value!(@array [$($done,)* $crate::render::value::value!($item),] $($($rest)*)?)
    };

    // An object's fields, each inserted into `$map` in the order written. A key is a string
    // literal, a constant's path, or an expression in parentheses.
    (@object $map:ident) => {};
    (@object $map:ident $key:literal : $($rest:tt)*) => {
        $crate::render::value::value!(@field $map ($key) $($rest)*);
    };
    (@object $map:ident ($key:expr) : $($rest:tt)*) => {
        $crate::render::value::value!(@field $map ($key) $($rest)*);
    };
    (@object $map:ident $key:path : $($rest:tt)*) => {
        $crate::render::value::value!(@field $map ($key) $($rest)*);
    };
    (@field $map:ident ($key:expr) null $(, $($rest:tt)*)?) => {
        $map.insert(String::from($key), serde_json::Value::Null);
        $crate::render::value::value!(@object $map $($($rest)*)?);
    };
    (@field $map:ident ($key:expr) [$($item:tt)*] $(, $($rest:tt)*)?) => {
        $map.insert(String::from($key), $crate::render::value::value!([$($item)*]));
        $crate::render::value::value!(@object $map $($($rest)*)?);
    };
    (@field $map:ident ($key:expr) {$($item:tt)*} $(, $($rest:tt)*)?) => {
        $map.insert(String::from($key), $crate::render::value::value!({$($item)*}));
        $crate::render::value::value!(@object $map $($($rest)*)?);
    };
    (@field $map:ident ($key:expr) $item:expr $(, $($rest:tt)*)?) => {
        $map.insert(String::from($key), $crate::render::value::value!($item));
        $crate::render::value::value!(@object $map $($($rest)*)?);
    };
}

pub(crate) use value;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn builds_what_json_builds() {
        let name = String::from("web");
        let ports = vec![json!({"port": 80}), json!({"port": 443})];
        let labels = Map::from_iter([("app".to_string(), json!("x"))]);
        let limit: Option<u32> = None;
        let built = value!({
            "apiVersion": "v1",
            "kind": crate::render::Kind::Service,
            "metadata": {"name": &name, "labels": labels.clone(), "annotations": {}},
            "spec": {
                "ports": ports.clone(),
                "selector": null,
                "list": ["a", name.clone(), 3_u32, {"k": [true, null]}, []],
                "limit": limit,
                "count": 2_usize,
            },
        });
        let expected = json!({
            "apiVersion": "v1",
            "kind": crate::render::Kind::Service,
            "metadata": {"name": &name, "labels": labels, "annotations": {}},
            "spec": {
                "ports": ports,
                "selector": null,
                "list": ["a", name, 3_u32, {"k": [true, null]}, []],
                "limit": limit,
                "count": 2_usize,
            },
        });
        assert_eq!(built, expected);
        assert_eq!(value!([]), json!([]));
        assert_eq!(value!(null), Value::Null);
    }
}
