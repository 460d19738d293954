//! Property-test inputs for the providers' JSON parsers: documents made of the fields a parser
//! reads (and others), with values of every JSON type, sometimes cut short. String values of
//! the secret fields always carry [`CANARY`], so a test can check no error quotes them.

use proptest::prelude::*;
use serde_json::Value;

/// Marks every generated secret value.
pub(crate) const CANARY: &str = "SECRET-CANARY-";

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::String),
        Just(Value::String("2030-01-02T03:04:05Z".into())),
        Just(Value::String("Success".into())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON object (or, sometimes, another value) over `fields`, as bytes; a document is
/// sometimes cut at an arbitrary byte. Fields named in `secret_fields` get canary strings
/// when they are strings.
pub(crate) fn document(
    fields: &'static [&'static str],
    secret_fields: &'static [&'static str],
) -> impl Strategy<Value = Vec<u8>> {
    let field = prop::sample::select(fields);
    let value = prop_oneof![
        3 => any_json(),
        2 => "[A-Za-z0-9/+]{0,24}".prop_map(Value::String),
        1 => Just(Value::from(1)),
    ];
    (
        prop::collection::vec((field, value, "[A-Za-z0-9]{4,12}"), 0..8),
        any::<bool>(),
        any::<Option<prop::sample::Index>>(),
        any_json(),
    )
        .prop_map(move |(entries, object, cut, other)| {
            let doc = if object {
                let mut map = serde_json::Map::new();
                for (name, value, tag) in entries {
                    let value = match value {
                        Value::String(_) if secret_fields.contains(&name) => {
                            Value::String(format!("{CANARY}{tag}"))
                        }
                        v => v,
                    };
                    map.insert(name.to_owned(), value);
                }
                Value::Object(map)
            } else {
                other
            };
            let mut bytes = serde_json::to_vec(&doc).unwrap_or_default();
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            bytes
        })
}
