//! Python `str` methods templates call that minijinja-contrib's `pycompat`
//! does not provide (`rsplit`, `partition`, `zfill`, `ljust`…); every other
//! method goes on to `pycompat`.

use minijinja::value::{Value, ValueKind, from_args};
use minijinja::{Error, State};

use crate::objects::err;

pub fn unknown_method(state: &mut State, value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    if value.kind() == ValueKind::String
        && let Some(s) = value.as_str()
        && let Some(v) = string_method(s, method, args)?
    {
        return Ok(v);
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

/// Jinja2's string filters where minijinja's differ: `truncate` by position,
/// `replace` with a count, `wordcount` (`\w+` runs), `center`, and `float`
/// (the default, 0.0, for what Python's `float()` refuses).
pub fn register(env: &mut minijinja::Environment<'static>) {
    env.add_filter("int", int_filter);
    let escape = |v: Value| {
        if v.is_safe() {
            return v;
        }
        Value::from_safe_string(html_escape(&crate::filters::py_str(&v)))
    };
    env.add_filter("escape", escape);
    env.add_filter("e", escape);
    env.add_filter("tojson", |v: Value, indent: Option<usize>, kwargs: minijinja::value::Kwargs| {
        let indent = match indent {
            Some(i) => Some(i),
            None => kwargs.get::<Option<usize>>("indent")?,
        };
        kwargs.assert_all_used()?;
        let json = serde_json::to_value(&v).map_err(|e| err(e.to_string()))?;
        let mut out = String::new();
        py_json(&json, indent, 0, &mut out);
        // Jinja2's `htmlsafe_json_dumps`.
        let out = out.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026").replace('\'', "\\u0027");
        Ok::<Value, Error>(Value::from_safe_string(out))
    });
    let default = |v: Value, other: Option<Value>, boolean: Option<bool>, kwargs: minijinja::value::Kwargs| {
        let boolean = match boolean {
            Some(b) => b,
            None => kwargs.get::<Option<bool>>("boolean")?.unwrap_or(false),
        };
        let other = match other {
            Some(o) => o,
            None => kwargs.get::<Option<Value>>("default_value")?.unwrap_or(Value::from("")),
        };
        kwargs.assert_all_used()?;
        Ok::<Value, Error>(if v.is_undefined() || (boolean && !v.is_true()) { other } else { v })
    };
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_filter("filesizeformat", |v: f64, binary: Option<bool>, kwargs: minijinja::value::Kwargs| {
        let binary = match binary {
            Some(b) => b,
            None => kwargs.get::<Option<bool>>("binary")?.unwrap_or(false),
        };
        kwargs.assert_all_used()?;
        Ok::<String, Error>(minijinja_contrib::filters::filesizeformat(v, Some(binary)))
    });
    env.add_filter("float", |v: Value, default: Option<Value>, kwargs: minijinja::value::Kwargs| {
        let default = match default {
            Some(d) => d,
            None => kwargs.get::<Option<Value>>("default")?.unwrap_or(Value::from(0.0)),
        };
        kwargs.assert_all_used()?;
        Ok::<Value, Error>(match v.kind() {
            ValueKind::Number => f64::try_from(v).map(Value::from).unwrap_or(default),
            ValueKind::Bool => Value::from(if v.is_true() { 1.0 } else { 0.0 }),
            ValueKind::String => py_float_text(v.as_str().unwrap_or("")).map(Value::from).unwrap_or(default),
            _ => default,
        })
    });
    env.add_filter("truncate", truncate);
    env.add_filter("replace", |v: Value, old: Value, new: Value, count: Option<i64>| {
        let (s, old, new) = (crate::filters::py_str(&v), crate::filters::py_str(&old), crate::filters::py_str(&new));
        match count {
            Some(n) if n >= 0 => s.replacen(&old, &new, n as usize),
            _ => s.replace(&old, &new),
        }
    });
    env.add_filter("wordcount", |v: Value| {
        static WORD: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let word = WORD.get_or_init(|| regex::Regex::new(r"\w+").unwrap());
        word.find_iter(&crate::filters::py_str(&v)).count()
    });
    env.add_filter("center", |v: Value, width: Option<usize>| -> Result<Value, Error> {
        let s = crate::filters::py_str(&v);
        Ok(string_method(&s, "center", &[Value::from(width.unwrap_or(80))])?.unwrap_or(v))
    });
}

/// markupsafe's escape: `& < > ' "`.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            c => out.push(c),
        }
    }
    out
}

/// Python's `json.dumps(v, sort_keys=True, indent=indent)` (ASCII only).
fn py_json(v: &serde_json::Value, indent: Option<usize>, level: usize, out: &mut String) {
    use serde_json::Value as J;
    let (sep, nl) = match indent {
        Some(n) => (",", Some(" ".repeat(n))),
        None => (", ", None),
    };
    let open = |out: &mut String, level: usize| {
        if let Some(pad) = &nl {
            out.push('\n');
            out.push_str(&pad.repeat(level));
        }
    };
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => match (n.is_f64(), n.as_f64()) {
            (true, Some(f)) => {
                out.push_str(&crate::objects::py_float(f).replace("inf", "Infinity").replace("nan", "NaN"))
            }
            _ => out.push_str(&n.to_string()),
        },
        J::String(s) => pm_domain::text::push_python_json_str(s, out),
        J::Array(items) if items.is_empty() => out.push_str("[]"),
        J::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                open(out, level + 1);
                py_json(x, indent, level + 1, out);
            }
            open(out, level);
            out.push(']');
        }
        J::Object(map) if map.is_empty() => out.push_str("{}"),
        J::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                open(out, level + 1);
                pm_domain::text::push_python_json_str(k, out);
                out.push_str(": ");
                py_json(&map[*k], indent, level + 1, out);
            }
            open(out, level);
            out.push('}');
        }
    }
}

/// Jinja2's `int(value, default=0, base=10)`: Python's `int()`, else
/// `int(float())`, else the default; an address gives its number.
fn int_filter(
    v: Value,
    default: Option<Value>,
    base: Option<u32>,
    kwargs: minijinja::value::Kwargs,
) -> Result<Value, Error> {
    let default = match default {
        Some(d) => d,
        None => kwargs.get::<Option<Value>>("default")?.unwrap_or(Value::from(0)),
    };
    let base = match base {
        Some(b) => b,
        None => kwargs.get::<Option<u32>>("base")?.unwrap_or(10),
    };
    kwargs.assert_all_used()?;
    if let Some(n) = crate::ip::as_int(&v) {
        return Ok(Value::from(n));
    }
    Ok(match v.kind() {
        ValueKind::Bool => Value::from(i64::from(v.is_true())),
        ValueKind::Number if v.is_integer() => v,
        ValueKind::Number => f64::try_from(v).map(|f| Value::from(f.trunc() as i128)).unwrap_or(default),
        ValueKind::String => {
            let s = v.as_str().unwrap_or("");
            match py_int_text(s, base).or_else(|| py_float_text(s).filter(|f| f.is_finite()).map(|f| f.trunc() as i128))
            {
                Some(n) => Value::from(n),
                None => default,
            }
        }
        _ => default,
    })
}

/// Python's `int(text, base)`: whitespace, sign, `_` between digits, the base's prefix (base 0: any).
fn py_int_text(s: &str, base: u32) -> Option<i128> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = t.to_ascii_lowercase();
    let (base, digits) = match (base, lower.get(..2)) {
        (0 | 16, Some("0x")) => (16, &t[2..]),
        (0 | 8, Some("0o")) => (8, &t[2..]),
        (0 | 2, Some("0b")) => (2, &t[2..]),
        (0, _) => (10, t),
        (b, _) if (2..=36).contains(&b) => (b, t),
        _ => return None,
    };
    let digits = digits.strip_prefix('_').filter(|_| digits.len() != t.len()).unwrap_or(digits);
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let n = i128::from_str_radix(&digits.replace('_', ""), base).ok()?;
    Some(if neg { -n } else { n })
}

/// Python's `float(text)`: surrounding whitespace, `_` between digits, `inf`/`nan`.
fn py_float_text(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let t = t.replace('_', "");
    match t.to_ascii_lowercase().trim_start_matches(['+', '-']) {
        "inf" | "infinity" | "nan" => return t.parse().ok(),
        x if x.is_empty() || !x.chars().all(|c| c.is_ascii_digit() || "eE.+-".contains(c)) => return None,
        _ => {}
    }
    t.parse().ok()
}

/// `truncate(s, length=255, killwords=False, end='...', leeway=5)`.
fn truncate(v: Value, args: minijinja::value::Rest<Value>, kwargs: minijinja::value::Kwargs) -> Result<Value, Error> {
    let pick = |pos: usize, name: &str| -> Result<Option<Value>, Error> {
        Ok(if kwargs.has(name) { Some(kwargs.get(name)?) } else { args.get(pos).cloned() })
    };
    let length = pick(0, "length")?.and_then(|v| v.as_usize()).unwrap_or(255);
    let killwords = pick(1, "killwords")?.is_some_and(|v| v.is_true());
    let end = pick(2, "end")?.map(|v| crate::filters::py_str(&v)).unwrap_or_else(|| "...".into());
    let leeway = pick(3, "leeway")?.and_then(|v| v.as_usize()).unwrap_or(5);
    kwargs.assert_all_used()?;
    let s = crate::filters::py_str(&v);
    let chars: Vec<char> = s.chars().collect();
    let end_len = end.chars().count();
    if length < end_len {
        return Err(err(format!("expected length >= {end_len}, got {length}")));
    }
    if chars.len() <= length + leeway {
        return Ok(Value::from(s));
    }
    let head: String = chars[..length - end_len].iter().collect();
    if killwords {
        return Ok(Value::from(head + &end));
    }
    let head = match head.rsplit_once(' ') {
        Some((a, _)) => a.to_string(),
        None => head,
    };
    Ok(Value::from(head + &end))
}

fn tuple(items: Vec<Value>) -> Value {
    Value::from(minijinja::value::Tuple::from(items))
}

/// The fill character of `ljust`/`rjust`/`center` (one character, as Python requires).
fn fill_char(fill: Option<&str>) -> Result<char, Error> {
    match fill {
        None => Ok(' '),
        Some(f) if f.chars().count() == 1 => Ok(f.chars().next().unwrap_or(' ')),
        Some(_) => Err(err("The fill character must be exactly one character long")),
    }
}

fn string_method(s: &str, method: &str, args: &[Value]) -> Result<Option<Value>, Error> {
    let len = s.chars().count();
    Ok(Some(match method {
        "rsplit" => {
            let (sep, max): (Option<String>, Option<i64>) = from_args(args)?;
            let max = max.unwrap_or(-1);
            let mut parts: Vec<String> = match sep.as_deref() {
                Some("") => return Err(err("empty separator")),
                Some(sep) if max < 0 => s.split(sep).map(String::from).collect(),
                Some(sep) => {
                    s.rsplitn(max as usize + 1, sep).map(String::from).collect::<Vec<_>>().into_iter().rev().collect()
                }
                None => rsplit_whitespace(s, max),
            };
            if sep.is_none() {
                parts.retain(|p| !p.is_empty());
            }
            Value::from(parts)
        }
        "partition" | "rpartition" => {
            let (sep,): (String,) = from_args(args)?;
            if sep.is_empty() {
                return Err(err("empty separator"));
            }
            let found = if method == "partition" { s.split_once(&sep) } else { s.rsplit_once(&sep) };
            let parts = match found {
                Some((a, b)) => [a, &sep, b],
                None if method == "partition" => [s, "", ""],
                None => ["", "", s],
            };
            tuple(parts.iter().map(|p| Value::from(*p)).collect())
        }
        "title" => {
            // Python: a cased character after an uncased one starts a word.
            let mut out = String::with_capacity(s.len());
            let mut prev_cased = false;
            for c in s.chars() {
                let cased = c.is_lowercase() || c.is_uppercase();
                if cased && prev_cased {
                    out.extend(c.to_lowercase());
                } else if cased {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                prev_cased = cased;
            }
            Value::from(out)
        }
        "swapcase" => Value::from(
            s.chars()
                .flat_map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<Vec<_>>()
                    } else {
                        c.to_uppercase().collect::<Vec<_>>()
                    }
                })
                .collect::<String>(),
        ),
        "zfill" => {
            let (width,): (usize,) = from_args(args)?;
            let pad = width.saturating_sub(len);
            let (sign, rest) = match s.chars().next() {
                Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
                _ => (String::new(), s),
            };
            Value::from(format!("{sign}{}{rest}", "0".repeat(pad)))
        }
        "ljust" | "rjust" | "center" => {
            let (width, fill): (usize, Option<String>) = from_args(args)?;
            let fill = fill_char(fill.as_deref())?;
            let pad = width.saturating_sub(len);
            let (left, right) = match method {
                "ljust" => (0, pad),
                "rjust" => (pad, 0),
                // Python puts the odd character on the left when the text's length is odd.
                _ => {
                    let left = pad / 2 + (pad & width & 1);
                    (left, pad - left)
                }
            };
            let f = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
            Value::from(format!("{}{s}{}", f(left), f(right)))
        }
        _ => return Ok(None),
    }))
}

/// `str.rsplit()` without separator: runs of whitespace, at most `max` splits from the right.
fn rsplit_whitespace(s: &str, max: i64) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = s.trim_end();
    while !rest.is_empty() {
        if max >= 0 && parts.len() as i64 == max {
            parts.push(rest.to_string());
            break;
        }
        match rest.rfind(char::is_whitespace) {
            Some(i) => {
                let ws = rest[i..].chars().next().map(char::len_utf8).unwrap_or(1);
                parts.push(rest[i + ws..].to_string());
                rest = rest[..i].trim_end();
            }
            None => {
                parts.push(rest.to_string());
                break;
            }
        }
    }
    parts.reverse();
    parts
}

#[cfg(test)]
mod tests {
    fn m(s: &str, method: &str, args: &[minijinja::value::Value]) -> String {
        let v = super::string_method(s, method, args).unwrap().unwrap();
        crate::objects::with_repr(|| v.to_string())
    }

    #[test]
    fn numbers_from_text_as_python() {
        assert_eq!(super::py_int_text("  12 ", 10), Some(12));
        assert_eq!(super::py_int_text("0x1F", 16), Some(31));
        assert_eq!(super::py_int_text("0b101", 2), Some(5));
        assert_eq!(super::py_int_text("ff", 16), Some(255));
        assert_eq!(super::py_int_text("1_000", 10), Some(1000));
        assert_eq!(super::py_int_text("3.9", 10), None);
        assert_eq!(super::py_float_text("1e3"), Some(1000.0));
        assert_eq!(super::py_float_text("x"), None);
    }

    #[test]
    fn json_as_jinja2() {
        let v: serde_json::Value = serde_json::json!({"z": [1, null], "a": "Zürich", "h": "<'&\"\n"});
        let mut out = String::new();
        super::py_json(&v, None, 0, &mut out);
        assert_eq!(out, r#"{"a": "Z\u00fcrich", "h": "<'&\"\n", "z": [1, null]}"#);
        let mut out = String::new();
        super::py_json(&serde_json::json!([1, "two", {}]), Some(2), 0, &mut out);
        assert_eq!(out, "[\n  1,\n  \"two\",\n  {}\n]");
        assert_eq!(super::html_escape("<b>&\"'"), "&lt;b&gt;&amp;&#34;&#39;");
    }

    #[test]
    fn string_methods_as_python() {
        use minijinja::value::Value;
        assert_eq!(m("a.b.c", "rsplit", &[".".into(), 1.into()]), "['a.b', 'c']");
        assert_eq!(m(" a b  c ", "rsplit", &[Value::from(()), 1.into()]), "[' a b', 'c']");
        assert_eq!(m("a.b.c", "partition", &[".".into()]), "('a', '.', 'b.c')");
        assert_eq!(m("abc", "rpartition", &[".".into()]), "('', '', 'abc')");
        assert_eq!(m("aBc", "swapcase", &[]), "AbC");
        assert_eq!(m("ams-edge-1.nw.example", "title", &[]), "Ams-Edge-1.Nw.Example");
        assert_eq!(m("o'neil 1st", "title", &[]), "O'Neil 1St");
        assert_eq!(m("-7", "zfill", &[4.into()]), "-007");
        assert_eq!(m("ab", "ljust", &[5.into(), ".".into()]), "ab...");
        assert_eq!(m("ab", "rjust", &[4.into()]), "  ab");
        assert_eq!(m("x", "center", &[4.into(), "*".into()]), "*x**");
        assert_eq!(m("ab", "center", &[5.into(), "*".into()]), "**ab*");
    }
}
