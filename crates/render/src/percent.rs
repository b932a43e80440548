//! Python's `'format' % values` (printf-style string formatting):
//! `'%s has %d' % (name, n)`, `'AS%08d' % asn`, `'%(k)s' % dict`.

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use crate::objects::py_float;

fn type_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// `fmt % args`, as Python computes it.
pub fn format(fmt: &str, args: &Value) -> Result<String, Error> {
    let positional: Vec<Value> = if args.is_tuple() { args.try_iter()?.collect() } else { vec![args.clone()] };
    let mapping = args.kind() == ValueKind::Map && !args.is_tuple();
    let mut next = 0usize;
    let mut used_mapping = false;
    let mut take = |name: Option<&str>| -> Result<Value, Error> {
        if let Some(name) = name {
            if !mapping {
                return Err(type_error("format requires a mapping"));
            }
            used_mapping = true;
            return args
                .get_item(&Value::from(name))
                .ok()
                .filter(|v| !v.is_undefined())
                .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, format!("KeyError: '{name}'")));
        }
        let v = positional.get(next).cloned().ok_or_else(|| type_error("not enough arguments for format string"))?;
        next += 1;
        Ok(v)
    };
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut name = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let mut key = String::new();
            let mut depth = 1;
            for k in chars.by_ref() {
                match k {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                key.push(k);
            }
            name = Some(key);
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "-+ #0".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
                      take: &mut dyn FnMut(Option<&str>) -> Result<Value, Error>|
         -> Result<Option<usize>, Error> {
            if chars.peek() == Some(&'*') {
                chars.next();
                let v = take(None)?;
                return Ok(Some(v.as_usize().ok_or_else(|| type_error("* wants int"))?));
            }
            let mut digits = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            Ok(digits.parse().ok())
        };
        let width = number(&mut chars, &mut take)?;
        let precision = if chars.peek() == Some(&'.') {
            chars.next();
            Some(number(&mut chars, &mut take)?.unwrap_or(0))
        } else {
            None
        };
        while matches!(chars.peek(), Some('h' | 'l' | 'L')) {
            chars.next();
        }
        let conv = chars.next().ok_or_else(|| type_error("incomplete format"))?;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let v = take(name.as_deref())?;
        out.push_str(&convert(conv, &v, &flags, width, precision)?);
    }
    if !used_mapping && next < positional.len() && !mapping {
        return Err(type_error("not all arguments converted during string formatting"));
    }
    Ok(out)
}

fn convert(
    conv: char,
    v: &Value,
    flags: &str,
    width: Option<usize>,
    precision: Option<usize>,
) -> Result<String, Error> {
    let left = flags.contains('-');
    let zero = flags.contains('0') && !left;
    let sign = |neg: bool| {
        if neg {
            "-"
        } else if flags.contains('+') {
            "+"
        } else if flags.contains(' ') {
            " "
        } else {
            ""
        }
    };
    let (prefix, body, numeric) = match conv {
        's' | 'r' | 'a' => {
            let mut text = if conv == 's' { py_str(v) } else { py_repr(v) };
            if let Some(p) = precision {
                text = text.chars().take(p).collect();
            }
            (String::new(), text, false)
        }
        'd' | 'i' | 'u' => {
            let n = as_int(v, conv)?;
            (sign(n < 0).to_string(), n.unsigned_abs().to_string(), true)
        }
        'o' | 'x' | 'X' => {
            if v.kind() != ValueKind::Number || !v.is_integer() {
                return Err(type_error(format!("%{conv} format: an integer is required, not {}", type_name(v))));
            }
            let n = as_int(v, conv)?;
            let m = n.unsigned_abs();
            let (digits, alt) = match conv {
                'o' => (format!("{m:o}"), "0o"),
                'x' => (format!("{m:x}"), "0x"),
                _ => (format!("{m:X}"), "0X"),
            };
            let alt = if flags.contains('#') { alt } else { "" };
            (format!("{}{alt}", sign(n < 0)), digits, true)
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let f = as_float(v, conv)?;
            let p = precision.unwrap_or(6);
            let text = match conv {
                'f' | 'F' => format!("{:.p$}", f.abs()),
                'e' | 'E' => exp_form(f.abs(), p),
                _ => general(f.abs(), p, flags.contains('#')),
            };
            let text = if conv.is_ascii_uppercase() { text.to_uppercase() } else { text };
            (sign(f.is_sign_negative() && f != 0.0 || f < 0.0).to_string(), text, true)
        }
        'c' => {
            let text = match v.as_str() {
                Some(s) if s.chars().count() == 1 => s.to_string(),
                _ => v
                    .as_i64()
                    .and_then(|n| u32::try_from(n).ok())
                    .and_then(char::from_u32)
                    .map(String::from)
                    .ok_or_else(|| type_error("%c requires int or char"))?,
            };
            (String::new(), text, false)
        }
        other => {
            return Err(type_error(format!("unsupported format character '{other}'")));
        }
    };
    let len = prefix.chars().count() + body.chars().count();
    let pad = width.unwrap_or(0).saturating_sub(len);
    Ok(if left {
        format!("{prefix}{body}{}", " ".repeat(pad))
    } else if zero && numeric {
        format!("{prefix}{}{body}", "0".repeat(pad))
    } else {
        format!("{}{prefix}{body}", " ".repeat(pad))
    })
}

fn type_name(v: &Value) -> &'static str {
    match v.kind() {
        ValueKind::String => "str",
        ValueKind::None | ValueKind::Undefined => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if v.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

fn as_int(v: &Value, conv: char) -> Result<i128, Error> {
    match v.kind() {
        ValueKind::Bool => Ok(i128::from(v.is_true())),
        ValueKind::Number if v.is_integer() => {
            i128::try_from(v.clone()).map_err(|_| type_error("integer out of range"))
        }
        ValueKind::Number => Ok(f64::try_from(v.clone()).map(|f| f.trunc() as i128).unwrap_or(0)),
        _ => Err(type_error(format!("%{conv} format: a real number is required, not {}", type_name(v)))),
    }
}

fn as_float(v: &Value, conv: char) -> Result<f64, Error> {
    match v.kind() {
        ValueKind::Bool => Ok(if v.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(v.clone()).map_err(|_| type_error("number out of range")),
        _ => Err(type_error(format!("%{conv} format: a real number is required, not {}", type_name(v)))),
    }
}

/// `1.234500e+04`.
fn exp_form(f: f64, p: usize) -> String {
    let s = format!("{f:.p$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

/// `%g`: exponent form when the exponent is < -4 or >= precision; no trailing zeros.
fn general(f: f64, p: usize, keep_zeros: bool) -> String {
    let p = p.max(1);
    if f == 0.0 {
        return "0".into();
    }
    let exp = format!("{f:.prec$e}", prec = p - 1);
    let e: i32 = exp.split_once('e').and_then(|(_, e)| e.parse().ok()).unwrap_or(0);
    let trim = |s: String| {
        if keep_zeros || !s.contains('.') { s } else { s.trim_end_matches('0').trim_end_matches('.').to_string() }
    };
    if e < -4 || e >= p as i32 {
        let s = exp_form(f, p - 1);
        let (m, rest) = s.split_once('e').unwrap_or((&s, ""));
        format!("{}e{rest}", trim(m.to_string()))
    } else {
        let decimals = (p as i32 - 1 - e).max(0) as usize;
        trim(format!("{f:.decimals$}"))
    }
}

/// Python's `str()` of a value, as `%s` prints it.
fn py_str(v: &Value) -> String {
    if v.kind() == ValueKind::Number
        && !v.is_integer()
        && let Ok(f) = f64::try_from(v.clone())
    {
        return py_float(f);
    }
    crate::filters::py_str(v)
}

/// Python's `repr()`: strings quoted as Python quotes them.
pub fn py_repr(v: &Value) -> String {
    match v.as_str() {
        Some(s) if v.kind() == ValueKind::String => {
            let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
            let mut out = String::with_capacity(s.len() + 2);
            out.push(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        _ => py_str(v),
    }
}

#[cfg(test)]
mod tests {
    use minijinja::value::Value;

    fn f(fmt: &str, v: Value) -> String {
        super::format(fmt, &v).unwrap_or_else(|e| format!("ERR {e}"))
    }

    fn t(items: Vec<Value>) -> Value {
        Value::from(minijinja::value::Tuple::from(items))
    }

    #[test]
    fn formats_as_python() {
        assert_eq!(f("%s has %d IXP sessions", t(vec!["r1".into(), 3.into()])), "r1 has 3 IXP sessions");
        assert_eq!(f("AS%08d", 64500.into()), "AS00064500");
        assert_eq!(f("%x %X %o", t(vec![255.into(), 255.into(), 8.into()])), "ff FF 10");
        assert_eq!(f("%05.1f%%", 99.5.into()), "099.5%");
        assert_eq!(f("%05.2f", 1.23456.into()), "01.23");
        assert_eq!(f("%-6s|%6s|", t(vec!["ab".into(), "cd".into()])), "ab    |    cd|");
        assert_eq!(f("%r", "q".into()), "'q'");
        assert_eq!(f("%r", "it's".into()), "\"it's\"");
        assert_eq!(f("%s", Value::from(())), "None");
        assert_eq!(f("%s %s", t(vec![true.into(), 2.5.into()])), "True 2.5");
        assert_eq!(f("%d", 3.9.into()), "3");
        assert_eq!(f("%+d % d", t(vec![5.into(), 5.into()])), "+5  5");
        assert_eq!(f("%#x %#o", t(vec![255.into(), 8.into()])), "0xff 0o10");
        assert_eq!(f("%e %g %g", t(vec![12345.678.into(), 0.0001.into(), 1e20.into()])), "1.234568e+04 0.0001 1e+20");
        let d = Value::from(std::collections::BTreeMap::from([("name", Value::from("x")), ("n", Value::from(2))]));
        assert_eq!(f("%(name)s=%(n)03d", d), "x=002");
        assert!(f("%d", "x".into()).starts_with("ERR"));
        assert!(f("%s %s", "x".into()).starts_with("ERR"));
        assert!(f("%s", t(vec![1.into(), 2.into()])).starts_with("ERR"));
    }
}
