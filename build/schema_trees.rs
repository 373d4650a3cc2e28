//! Writes the schemas the quick check reads as static trees (`src/validate/tree.rs`): Rust
//! constants in `$OUT_DIR/schema_trees.rs`, so that no run parses them. Descriptions are left
//! out (strings under a `description` key); keys are in `serde_json`'s sorted order.

use std::fmt::Write as _;
use std::path::Path;

/// The constant's name and the schema it is written from.
const SCHEMAS: [(&str, &str); 5] = [
    ("APP", "schemas/app.schema.json"),
    ("CLUSTER", "schemas/cluster.schema.json"),
    ("SETTINGS", "schemas/settings.schema.json"),
    ("ADOPTION", "schemas/adoption.schema.json"),
    ("KUBERNETES", "schemas/kubernetes.schema.json"),
];

#[expect(
    clippy::panic,
    reason = "the schemas are the crate's own files: one that cannot be read or parsed must \
              stop the build"
)]
pub fn write(manifest_dir: &Path, out_dir: &Path) {
    let mut code = String::from("// Written by build.rs from schemas/: do not edit.\n");
    for (name, file) in SCHEMAS {
        println!("cargo:rerun-if-changed={file}");
        let path = manifest_dir.join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let _ = write!(code, "pub static {name}: Tree = ");
        tree(&value, &mut code);
        code.push_str(";\n");
    }
    let target = out_dir.join("schema_trees.rs");
    std::fs::write(&target, code).unwrap_or_else(|e| panic!("{}: {e}", target.display()));
}

/// One value as a `Tree` expression. `{:?}` writes a string as a Rust literal.
fn tree(value: &serde_json::Value, code: &mut String) {
    match value {
        serde_json::Value::Null => code.push_str("Tree::Null"),
        serde_json::Value::Bool(answer) => {
            let _ = write!(code, "Tree::Bool({answer})");
        }
        serde_json::Value::Number(number) => {
            if let Some(integer) = number.as_i64() {
                let _ = write!(code, "Tree::Integer({integer})");
            } else if let Some(integer) = number.as_u64() {
                let _ = write!(code, "Tree::Unsigned({integer})");
            } else {
                let float = number.as_f64().unwrap_or_default();
                let _ = write!(code, "Tree::Float({float:?})");
            }
        }
        serde_json::Value::String(text) => {
            let _ = write!(code, "Tree::String({text:?})");
        }
        serde_json::Value::Array(items) => {
            code.push_str("Tree::Array(&[");
            for item in items {
                tree(item, code);
                code.push(',');
            }
            code.push_str("])");
        }
        serde_json::Value::Object(map) => {
            code.push_str("Tree::Object(&[");
            for (key, item) in map {
                if key == "description" && item.is_string() {
                    continue;
                }
                let _ = write!(code, "({key:?},");
                tree(item, code);
                code.push_str("),");
            }
            code.push_str("])");
        }
    }
}
