//! Template source adjustments so minijinja lays out whitespace exactly as
//! Jinja2 does.

use std::sync::OnceLock;

use regex::Regex;

/// Jinja2's lexer turns every `\r\n` and lone `\r` of the source into `\n`
/// (`newline_sequence`), so a template saved with CRLF renders LF.
pub fn normalise_newlines(source: &str) -> String {
    if !source.contains('\r') {
        return source.to_string();
    }
    source.replace("\r\n", "\n").replace('\r', "\n")
}

/// With `trim_blocks`, Jinja2 keeps the newline right after `{% raw %}`
/// (only `-%}` removes it) while minijinja removes it; doubling that
/// newline makes minijinja print the one Jinja2 prints.
pub fn keep_newline_after_raw(source: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"(\{%[-+]?\s*raw\s*%\})\n").unwrap());
    re.replace_all(source, "$1\n\n").into_owned()
}

/// Both adjustments, for a source rendered with these flags.
pub fn prepare(source: &str, trim: bool) -> String {
    let source = normalise_newlines(source);
    if trim { keep_newline_after_raw(&source) } else { source }
}

#[cfg(test)]
mod tests {
    #[test]
    fn crlf_and_raw() {
        assert_eq!(super::normalise_newlines("a\r\nb\rc\n"), "a\nb\nc\n");
        assert_eq!(super::prepare("{% raw %}\nx{% endraw %}", true), "{% raw %}\n\nx{% endraw %}");
        assert_eq!(super::prepare("{% raw -%}\nx", true), "{% raw -%}\nx");
        assert_eq!(super::prepare("{% raw %}\nx", false), "{% raw %}\nx");
    }
}
