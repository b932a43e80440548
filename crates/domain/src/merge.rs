//! Deep merge of JSON objects with Ansible `combine` semantics, used to
//! build config contexts.

use serde_json::Value;

/// How two lists found under the same key are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ListMerge {
    /// The higher-priority list wins.
    #[default]
    Replace,
    /// The lower-priority list wins.
    Keep,
    Append,
    Prepend,
    /// Append, dropping base items also present in the new list.
    AppendRp,
    /// Prepend, dropping base items also present in the new list.
    PrependRp,
}

impl ListMerge {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "replace" => Self::Replace,
            "keep" => Self::Keep,
            "append" => Self::Append,
            "prepend" => Self::Prepend,
            "append_rp" => Self::AppendRp,
            "prepend_rp" => Self::PrependRp,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Replace => "replace",
            Self::Keep => "keep",
            Self::Append => "append",
            Self::Prepend => "prepend",
            Self::AppendRp => "append_rp",
            Self::PrependRp => "prepend_rp",
        }
    }

    fn combine(self, base: &[Value], other: &[Value]) -> Vec<Value> {
        let base_only = || base.iter().filter(|v| !other.contains(v)).cloned();
        match self {
            Self::Replace => other.to_vec(),
            Self::Keep => base.to_vec(),
            Self::Append => base.iter().chain(other).cloned().collect(),
            Self::Prepend => other.iter().chain(base).cloned().collect(),
            Self::AppendRp => base_only().chain(other.iter().cloned()).collect(),
            Self::PrependRp => other.iter().cloned().chain(base_only()).collect(),
        }
    }
}

/// Merges `other` (higher priority) into `base`.
///
/// Both must be objects to be merged; otherwise `base` becomes a copy of
/// `other`. Existing keys keep their position and new keys are appended.
/// Nested objects are merged only when `recursive`, otherwise replaced;
/// `list_merge` applies to lists at any depth that is visited; every other
/// value (including `keep` for non-lists) is overridden by `other`.
pub fn deep_merge(base: &mut Value, other: &Value, recursive: bool, list_merge: ListMerge) {
    let (Value::Object(base_map), Value::Object(other_map)) = (&mut *base, other) else {
        *base = other.clone();
        return;
    };
    for (key, other_value) in other_map {
        let Some(base_value) = base_map.get_mut(key) else {
            base_map.insert(key.clone(), other_value.clone());
            continue;
        };
        match (&mut *base_value, other_value) {
            (Value::Object(_), Value::Object(_)) if recursive => {
                deep_merge(base_value, other_value, recursive, list_merge);
            }
            (Value::Array(base_list), Value::Array(other_list)) => {
                *base_list = list_merge.combine(base_list, other_list);
            }
            _ => *base_value = other_value.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn merged(base: Value, other: Value, recursive: bool, list_merge: ListMerge) -> Value {
        let mut base = base;
        deep_merge(&mut base, &other, recursive, list_merge);
        base
    }

    #[test]
    fn parse_names() {
        for name in ["replace", "keep", "append", "prepend", "append_rp", "prepend_rp"] {
            assert_eq!(ListMerge::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(ListMerge::parse("Append"), None);
        assert_eq!(ListMerge::default(), ListMerge::Replace);
    }

    #[test]
    fn into_empty_object_copies() {
        let other = json!({"b": 1, "a": {"x": [1]}});
        assert_eq!(merged(json!({}), other.clone(), true, ListMerge::Replace), other);
    }

    #[test]
    fn recursive_merge_keeps_order_and_overrides_scalars() {
        let base = json!({"a": 1, "b": {"x": 1, "y": 2}, "c": "keep"});
        let other = json!({"b": {"y": 3, "z": 4}, "a": 2, "d": null});
        let result = merged(base, other, true, ListMerge::Replace);
        assert_eq!(result, json!({"a": 2, "b": {"x": 1, "y": 3, "z": 4}, "c": "keep", "d": null}));
        let keys: Vec<&str> = result.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["a", "b", "c", "d"]);
        let inner: Vec<&str> = result["b"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(inner, ["x", "y", "z"]);
    }

    #[test]
    fn non_recursive_replaces_nested_objects() {
        let base = json!({"b": {"x": 1, "y": 2}});
        let other = json!({"b": {"y": 3}});
        assert_eq!(merged(base, other, false, ListMerge::Replace), json!({"b": {"y": 3}}));
    }

    #[test]
    fn non_recursive_still_merges_top_level_lists() {
        let base = json!({"l": [1, 2], "b": {"l": [1]}});
        let other = json!({"l": [3], "b": {"l": [2]}});
        assert_eq!(merged(base, other, false, ListMerge::Append), json!({"l": [1, 2, 3], "b": {"l": [2]}}));
    }

    #[test]
    fn list_strategies() {
        let base = json!({"l": [1, 2, 3]});
        let other = json!({"l": [3, 4, 1]});
        let cases = [
            (ListMerge::Replace, json!([3, 4, 1])),
            (ListMerge::Keep, json!([1, 2, 3])),
            (ListMerge::Append, json!([1, 2, 3, 3, 4, 1])),
            (ListMerge::Prepend, json!([3, 4, 1, 1, 2, 3])),
            (ListMerge::AppendRp, json!([2, 3, 4, 1])),
            (ListMerge::PrependRp, json!([3, 4, 1, 2])),
        ];
        for (strategy, expected) in cases {
            let result = merged(base.clone(), other.clone(), true, strategy);
            assert_eq!(result["l"], expected, "{strategy:?}");
        }
    }

    #[test]
    fn nested_lists_follow_strategy_when_recursive() {
        let base = json!({"a": {"l": [{"k": 1}]}});
        let other = json!({"a": {"l": [{"k": 2}]}});
        assert_eq!(merged(base, other, true, ListMerge::Prepend), json!({"a": {"l": [{"k": 2}, {"k": 1}]}}));
    }

    #[test]
    fn keep_only_applies_to_lists() {
        let base = json!({"l": [1], "s": "old", "o": {"x": 1}});
        let other = json!({"l": [2], "s": "new", "o": {"x": 2}});
        assert_eq!(merged(base, other, true, ListMerge::Keep), json!({"l": [1], "s": "new", "o": {"x": 2}}));
    }

    #[test]
    fn type_mismatches_override() {
        let base = json!({"a": [1], "b": {"x": 1}, "c": 1});
        let other = json!({"a": {"y": 1}, "b": [2], "c": [3]});
        assert_eq!(merged(base, other.clone(), true, ListMerge::Append), other);
        assert_eq!(merged(json!(null), json!({"a": 1}), true, ListMerge::Replace), json!({"a": 1}));
        assert_eq!(merged(json!({"a": 1}), json!([1]), true, ListMerge::Replace), json!([1]));
    }
}
