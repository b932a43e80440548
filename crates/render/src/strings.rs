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
    env.add_filter("replace", |s: String, old: String, new: String, count: Option<i64>| match count {
        Some(n) if n >= 0 => s.replacen(&old, &new, n as usize),
        _ => s.replace(&old, &new),
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
    fn string_methods_as_python() {
        use minijinja::value::Value;
        assert_eq!(m("a.b.c", "rsplit", &[".".into(), 1.into()]), "['a.b', 'c']");
        assert_eq!(m(" a b  c ", "rsplit", &[Value::from(()), 1.into()]), "[' a b', 'c']");
        assert_eq!(m("a.b.c", "partition", &[".".into()]), "('a', '.', 'b.c')");
        assert_eq!(m("abc", "rpartition", &[".".into()]), "('', '', 'abc')");
        assert_eq!(m("aBc", "swapcase", &[]), "AbC");
        assert_eq!(m("-7", "zfill", &[4.into()]), "-007");
        assert_eq!(m("ab", "ljust", &[5.into(), ".".into()]), "ab...");
        assert_eq!(m("ab", "rjust", &[4.into()]), "  ab");
        assert_eq!(m("x", "center", &[4.into(), "*".into()]), "*x**");
        assert_eq!(m("ab", "center", &[5.into(), "*".into()]), "**ab*");
    }
}
