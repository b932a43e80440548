//! Jinja2 macros that read `varargs` / `kwargs` accept extra positional
//! and keyword arguments and see them there. minijinja macros refuse extra
//! arguments, so such a macro is compiled under another name and bound to
//! its own name through `VarMacro`, which sorts the arguments as Jinja2
//! does before calling it.

use std::fmt;
use std::sync::{Arc, OnceLock};

use minijinja::value::{Kwargs, Object, Tuple, Value};
use minijinja::{Error, ErrorKind, State};
use regex::Regex;

/// Rewrite `{% macro m(a, b=2) %}…varargs…{% endmacro %}` into
/// `{% macro __pm_va_m(a, b=2, varargs=none, kwargs=none) %}…{% endmacro %}{% set m = … %}`.
pub fn rewrite(source: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    static USES: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"(?s)\{%([-+]?)\s*macro\s+([A-Za-z_]\w*)\s*\(((?:[^()]|\([^()]*\))*)\)\s*([-+]?)%\}(.*?)\{%([-+]?)\s*endmacro\s*([-+]?)%\}",
        )
        .unwrap()
    });
    let uses = USES.get_or_init(|| Regex::new(r"\b(varargs|kwargs)\b").unwrap());
    if !uses.is_match(source) {
        return source.to_string();
    }
    re.replace_all(source, |c: &regex::Captures| {
        let (name, params, body) = (&c[2], c[3].trim(), &c[5]);
        if !uses.is_match(body) {
            return c[0].to_string();
        }
        let names: Vec<String> = split_params(params)
            .iter()
            .map(|p| p.split('=').next().unwrap_or("").trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        let sep = if params.is_empty() { "" } else { ", " };
        let list = names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
        format!(
            "{{%{} macro __pm_va_{name}({params}{sep}varargs=none, kwargs=none) {}%}}{body}{{%{} endmacro {}%}}\
             {{% set {name} = __pm_varmacro(__pm_va_{name}, [{list}]) %}}",
            &c[1], &c[4], &c[6], &c[7]
        )
    })
    .into_owned()
}

/// Parameters split on the commas outside brackets and quotes.
fn split_params(params: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None::<char>);
    for ch in params.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// The macro as callers see it.
pub struct VarMacro {
    inner: Value,
    names: Vec<String>,
}

impl fmt::Debug for VarMacro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.inner)
    }
}

pub fn bind(inner: Value, names: Vec<String>) -> Value {
    Value::from_object(VarMacro { inner, names })
}

impl Object for VarMacro {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (positional, kwargs) = match args.split_last() {
            Some((last, rest)) if Kwargs::try_from(last.clone()).is_ok() => (rest, Kwargs::try_from(last.clone()).ok()),
            _ => (args, None),
        };
        let mut named: Vec<(String, Value)> = Vec::new();
        for (name, v) in self.names.iter().zip(positional) {
            named.push((name.clone(), v.clone()));
        }
        let extra: Vec<Value> = positional.iter().skip(self.names.len()).cloned().collect();
        let mut rest: Vec<(String, Value)> = Vec::new();
        if let Some(kw) = &kwargs {
            for key in kw.args() {
                let v: Value = kw.get(key)?;
                if self.names.iter().any(|n| n == key) {
                    if named.iter().any(|(n, _)| n == key) {
                        return Err(Error::new(ErrorKind::TooManyArguments, format!("duplicate argument `{key}`")));
                    }
                    named.push((key.to_string(), v));
                } else {
                    rest.push((key.to_string(), v));
                }
            }
        }
        named.push(("varargs".into(), Value::from(Tuple::from(extra))));
        // Sorted by name (a dict either way; `dictsort` is how templates read it).
        named.push((
            "kwargs".into(),
            Value::from(rest.into_iter().collect::<std::collections::BTreeMap<String, Value>>()),
        ));
        self.inner.call(state, &[Value::from(Kwargs::from_iter(named))])
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_macros_reading_extra_arguments_change() {
        let plain = "{% macro a(x) %}{{ x }}{% endmacro %}";
        assert_eq!(super::rewrite(plain), plain);
        let src = "{% macro k(a, b=(1, 2)) -%}{{ kwargs }}{%- endmacro %}";
        assert_eq!(
            super::rewrite(src),
            "{% macro __pm_va_k(a, b=(1, 2), varargs=none, kwargs=none) -%}{{ kwargs }}{%- endmacro %}\
             {% set k = __pm_varmacro(__pm_va_k, ['a', 'b']) %}"
        );
    }
}
