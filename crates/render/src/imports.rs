//! Jinja2 imports a template `without context` unless told otherwise: the
//! module sees the environment's globals, not the render's variables
//! (`router`, `local_as`…). minijinja imports always see them, so such an
//! import loads the module under `noctx::<name>`, whose source first hides
//! every context variable Peering Manager passes (spec §1.4, §7.4).

use std::sync::OnceLock;

use regex::Regex;

const PREFIX: &str = "noctx::";

/// Every variable a Peering Manager render context holds.
const CONTEXT_NAMES: &[&str] = &[
    "router",
    "local_as",
    "autonomous_systems",
    "bgp_groups",
    "internet_exchange_points",
    "communities",
    "routing_policies",
    "autonomous_system",
    "affiliated_autonomous_systems",
    "dataset",
    "event",
    "timestamp",
    "model",
    "username",
    "request_id",
    "data",
    "snapshots",
];

/// `{% import 'x' as m %}` / `{% from 'x' import a %}` without `with context`
/// → the same tag on `noctx::x`.
pub fn rewrite(source: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"(?s)\{%([-+]?)(\s*(?:import|from)\s+)(["'])([^"']*)(["'])(.*?)([-+]?)%\}"#).unwrap()
    });
    if !source.contains("import") {
        return source.to_string();
    }
    re.replace_all(source, |c: &regex::Captures| {
        let rest = &c[6];
        let with_context = rest.split_whitespace().collect::<Vec<_>>().windows(2).any(|w| w == ["with", "context"]);
        if with_context || c[4].starts_with(PREFIX) {
            return c[0].to_string();
        }
        format!("{{%{}{}{}{PREFIX}{}{}{}{}%}}", &c[1], &c[2], &c[3], &c[4], &c[5], rest, &c[7])
    })
    .into_owned()
}

/// The template name behind a `noctx::` name, if it is one.
pub fn without_context(name: &str) -> Option<&str> {
    name.strip_prefix(PREFIX)
}

/// What a module imported without context starts with: every context
/// variable set to undefined (never printed: `set` writes nothing).
pub fn hide_context() -> String {
    CONTEXT_NAMES.iter().map(|n| format!("{{% set {n} = __pm_no_such_variable %}}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn imports_without_context_are_marked() {
        assert_eq!(
            super::rewrite("{%- import 'configuration::m' as m %}"),
            "{%- import 'noctx::configuration::m' as m %}"
        );
        assert_eq!(super::rewrite("{% from \"a\" import b as c %}"), "{% from \"noctx::a\" import b as c %}");
        let with = "{% from 'a' import b with context %}";
        assert_eq!(super::rewrite(with), with);
    }
}
