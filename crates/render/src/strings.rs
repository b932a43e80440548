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
