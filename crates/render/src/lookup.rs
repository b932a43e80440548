//! Django keyword lookups evaluated in memory (`filter(slug="x")`,
//! `asn__gt=5`, `router__name="r1"`, `ip_address__family=6`).

use minijinja::Error;
use minijinja::value::{Value, ValueKind};

use crate::objects::{Item, as_item, as_set};

const LOOKUPS: &[&str] = &[
    "exact",
    "iexact",
    "in",
    "isnull",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "family",
];

/// Identity of a value for equality: model instances compare by id.
fn key_of(v: &Value) -> Value {
    match as_item(v) {
        Some(i) => Value::from(i.obj.id),
        // Addresses compare by their text, as the database compares them.
        None if v.downcast_object_ref::<crate::ip::Ip>().is_some() => Value::from(v.to_string()),
        // Datetimes compare as ISO text (what a template would write to compare with).
        None => match v.downcast_object_ref::<crate::datetime::PyDateTime>() {
            Some(t) => Value::from(t.0.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()),
            None => v.clone(),
        },
    }
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

pub fn matches(it: &Item, key: &str, want: &Value) -> Result<bool, Error> {
    let mut parts: Vec<&str> = key.split("__").collect();
    let lookup =
        if parts.len() > 1 && LOOKUPS.contains(parts.last().unwrap()) { parts.pop().unwrap() } else { "exact" };
    let mut current = Item { graph: it.graph.clone(), obj: it.obj.clone() };
    let last = parts.pop().unwrap_or("");
    for p in parts {
        match current.related(p)? {
            Some(next) => current = next,
            None => return Ok(lookup == "isnull" && want.is_true()),
        }
    }
    let Some(have) = current.field(last)? else {
        // Unknown attribute: Django would raise; the list fallback drops the item.
        return Ok(false);
    };
    if let Some(s) = as_set(&have) {
        // M2M: true when any member matches.
        let ids: Vec<Value> = s.ids.iter().map(|i| Value::from(*i)).collect();
        return Ok(match lookup {
            "isnull" => ids.is_empty() == want.is_true(),
            "in" => want.try_iter()?.any(|w| ids.contains(&key_of(&w))),
            _ => ids.contains(&key_of(want)),
        });
    }
    let have = key_of(&have);
    Ok(match lookup {
        "exact" => have == key_of(want),
        "iexact" => text(&have).to_lowercase() == text(want).to_lowercase(),
        "in" => want.try_iter()?.any(|w| key_of(&w) == have),
        "isnull" => have.is_none() == want.is_true(),
        "gt" => !have.is_none() && have > key_of(want),
        "gte" => !have.is_none() && have >= key_of(want),
        "lt" => !have.is_none() && have < key_of(want),
        "lte" => !have.is_none() && have <= key_of(want),
        "contains" => text(&have).contains(&text(want)),
        "icontains" => text(&have).to_lowercase().contains(&text(want).to_lowercase()),
        "startswith" => text(&have).starts_with(&text(want)),
        "istartswith" => text(&have).to_lowercase().starts_with(&text(want).to_lowercase()),
        "endswith" => text(&have).ends_with(&text(want)),
        "iendswith" => text(&have).to_lowercase().ends_with(&text(want).to_lowercase()),
        "family" => {
            let fam = if have.kind() == ValueKind::String {
                pm_domain::net::ip_version(have.as_str().unwrap())
            } else {
                None
            };
            fam.map(i64::from) == want.as_i64()
        }
        _ => false,
    })
}
