//! Slugs, colours and e-mail addresses.

use std::net::IpAddr;

/// ASCII fallback of U+00C0..=U+017F after NFKD decomposition: `*` marks
/// letters without decomposition (dropped, like `ß` or `ø`), `#` the two
/// ligatures that expand to two letters.
const LATIN_FOLD: &str = "AAAAAA*CEEEEIIII*NOOOOO**UUUUY**aaaaaa*ceeeeiiii*nooooo**uuuuy*y\
AaAaAaCcCcCcCcDd**EeEeEeEeEeGgGgGgGgHh**IiIiIiIiI*##JjKk*LlLlLlLl**NnNnNnn**\
OoOoOo**RrRrRrSsSsSsSsTtTt**UuUuUuUuUuUuWwYyYZzZzZzs";

/// What Python's `normalize("NFKD", c).encode("ascii", "ignore")` keeps of a
/// character, for the scripts people actually name peering objects in.
fn push_ascii_fold(c: char, out: &mut String) {
    let cp = c as u32;
    match cp {
        0..=0x7F => out.push(c),
        0xA0 | 0xA8 | 0xAF | 0xB4 | 0xB8 => out.push(' '),
        0xAA => out.push('a'),
        0xBA => out.push('o'),
        0xB2 => out.push('2'),
        0xB3 => out.push('3'),
        0xB9 => out.push('1'),
        0xBC => out.push_str("14"),
        0xBD => out.push_str("12"),
        0xBE => out.push_str("34"),
        0x132 => out.push_str("IJ"),
        0x133 => out.push_str("ij"),
        0xC0..=0x17F => match LATIN_FOLD.as_bytes()[(cp - 0xC0) as usize] {
            b'*' | b'#' => {}
            b => out.push(char::from(b)),
        },
        // Full-width ASCII variants decompose to plain ASCII.
        0xFF01..=0xFF5E => out.extend(char::from_u32(cp - 0xFEE0)),
        0x3000 => out.push(' '),
        _ => {}
    }
}

/// Django's `slugify`: ASCII-fold, lower-case, drop everything but letters,
/// digits, underscores, hyphens and whitespace, turn runs of hyphens and
/// whitespace into one hyphen, trim hyphens and underscores at both ends.
pub fn slugify(s: &str) -> String {
    let mut folded = String::with_capacity(s.len());
    for c in s.chars() {
        push_ascii_fold(c, &mut folded);
    }
    let mut slug = String::with_capacity(folded.len());
    let mut in_separator = false;
    for c in folded.chars().map(|c| c.to_ascii_lowercase()) {
        // Python's `\s` also covers vertical tab and the separators 0x1c-0x1f.
        if matches!(c, '-' | ' ' | '\t'..='\r' | '\x1c'..='\x1f') {
            if !in_separator {
                slug.push('-');
                in_separator = true;
            }
        } else if c.is_ascii_alphanumeric() || c == '_' {
            slug.push(c);
            in_separator = false;
        }
    }
    slug.trim_matches(['-', '_']).to_owned()
}

/// Stored colours are six lower-case hex digits without `#`.
pub fn is_valid_colour(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Django `SlugField` rule: ASCII letters, digits, underscores, hyphens.
pub fn is_valid_slug(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Django `EmailValidator`, approximately: dot-atom or quoted local part,
/// then a dotted host name with a 2+ character TLD, `localhost`, or an
/// address literal such as `[192.0.2.1]`.
pub fn is_valid_email(s: &str) -> bool {
    if s.is_empty() || s.len() > 320 {
        return false;
    }
    let Some((user, domain)) = s.rsplit_once('@') else {
        return false;
    };
    (is_dot_atom(user) || is_quoted_string(user)) && is_email_domain(domain)
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c)
}

fn is_dot_atom(user: &str) -> bool {
    !user.is_empty() && user.split('.').all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

fn is_quoted_string(user: &str) -> bool {
    let Some(inner) = user.strip_prefix('"').and_then(|u| u.strip_suffix('"')) else {
        return false;
    };
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        let ok = match c {
            '\\' => chars.next().is_some_and(|e| matches!(e, '\x01'..='\x09' | '\x0b' | '\x0c' | '\x0e'..='\x7f')),
            // Django's qtext: no NUL, TAB, LF, CR, space or double quote.
            '\x01'..='\x08' | '\x0b' | '\x0c' | '\x0e'..='\x1f' | '!' | '#'..='\x7f' => true,
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn is_email_domain(domain: &str) -> bool {
    if domain == "localhost" {
        return true;
    }
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        return literal.parse::<IpAddr>().is_ok();
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((tld, hosts)) = labels.split_last() else {
        return false;
    };
    // Non-ASCII letters stand in for internationalised names, which Django
    // accepts after converting them to punycode.
    let label_char = |c: char| c.is_alphanumeric();
    let host_ok = |label: &&str| {
        !label.is_empty()
            && label.chars().count() <= 63
            && label.chars().all(|c| label_char(c) || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let tld_len = tld.chars().count();
    !hosts.is_empty()
        && hosts.iter().all(host_ok)
        && (2..=63).contains(&tld_len)
        && tld.chars().all(|c| label_char(c) || c == '-')
        && !tld.ends_with('-')
}

/// Append `s` as Python's `json.dumps` writes a string (`ensure_ascii=True`):
/// quoted, with `\b \f \n \r \t` escapes and every other control or non-ASCII
/// character as `\uXXXX` (UTF-16 units). Webhook bodies and the `tojson`
/// filter both print JSON the way Peering Manager does.
pub fn push_python_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_like_django() {
        let cases = [
            ("Hello World", "hello-world"),
            ("  Hello   World  ", "hello-world"),
            ("Equinix Paris (PA2)", "equinix-paris-pa2"),
            ("AS-SET: foo/bar", "as-set-foobar"),
            ("France-IX -- Paris", "france-ix-paris"),
            ("snake_case_name", "snake_case_name"),
            ("_-leading and trailing-_", "leading-and-trailing"),
            ("Zürich Éléphant", "zurich-elephant"),
            ("Straße Ørsted", "strae-rsted"),
            ("Łódź", "odz"),
            ("ＡＢＣ１２３", "abc123"),
            ("½ price", "12-price"),
            ("日本語", ""),
            ("", ""),
            ("a\tb\nc", "a-b-c"),
        ];
        for (input, expected) in cases {
            assert_eq!(slugify(input), expected, "{input:?}");
        }
    }

    #[test]
    fn fold_table_is_complete() {
        assert_eq!(LATIN_FOLD.len(), 0x180 - 0xC0);
        assert_eq!(slugify("ŉ ſ Ŀ"), "n-s-l");
    }

    #[test]
    fn colours() {
        assert!(is_valid_colour("9e9e9e"));
        assert!(is_valid_colour("000000"));
        assert!(!is_valid_colour("9E9E9E"));
        assert!(!is_valid_colour("#9e9e9e"));
        assert!(!is_valid_colour("9e9e9"));
        assert!(!is_valid_colour("9e9e9eff"));
        assert!(!is_valid_colour("gggggg"));
    }

    #[test]
    fn slugs() {
        assert!(is_valid_slug("ams-ix_1"));
        assert!(is_valid_slug("A"));
        assert!(!is_valid_slug(""));
        assert!(!is_valid_slug("with space"));
        assert!(!is_valid_slug("zürich"));
        assert!(!is_valid_slug("a.b"));
    }

    #[test]
    fn emails() {
        for ok in [
            "noc@example.com",
            "first.last+tag@sub.example.co.uk",
            "o'brien@example.org",
            "peering@localhost",
            "user@[192.0.2.1]",
            "user@[2001:db8::1]",
            "\"john..doe\"@example.com",
            "\"john\\ doe\"@example.com",
            "x@xn--bcher-kva.example",
            "noc@bücher.example",
        ] {
            assert!(is_valid_email(ok), "{ok:?}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "user@",
            "user@example",
            "user@example.c",
            "user@-example.com",
            "user@example-.com",
            "user@example..com",
            ".user@example.com",
            "us..er@example.com",
            "user.@example.com",
            "us er@example.com",
            "user@exa mple.com",
            "user@[300.0.0.1]",
            "\"unterminated@example.com",
            "\"john doe\"@example.com",
        ] {
            assert!(!is_valid_email(bad), "{bad:?}");
        }
    }
}
