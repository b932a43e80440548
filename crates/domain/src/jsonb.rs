//! PostgreSQL `jsonb` key order. Peering Manager stores JSON (config
//! contexts, local context data, NAPALM arguments…) as `jsonb`, which keeps
//! object keys sorted shorter first, then bytewise; templates iterating a
//! context and API clients see that order. Normalising every JSON value we
//! read gives the same order on SQLite as on PostgreSQL.

use serde_json::{Map, Value};

/// `jsonb`'s order of two object keys.
pub fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// The value with every object's keys in `jsonb` order (nested ones too).
pub fn normalise(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().map(|(k, v)| (k, normalise(v))).collect();
            entries.sort_by(|a, b| key_order(&a.0, &b.0));
            Value::Object(entries.into_iter().collect::<Map<_, _>>())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(normalise).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn shorter_keys_first_then_bytes() {
        let v = super::normalise(json!({"cisco-iosxr": 1, "cisco-ios": {"zeta": 1, "b": 2, "B": 3}, "ntp": []}));
        assert_eq!(v.to_string(), r#"{"ntp":[],"cisco-ios":{"B":3,"b":2,"zeta":1},"cisco-iosxr":1}"#);
    }
}
