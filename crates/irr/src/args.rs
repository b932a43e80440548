//! The bgpq3/bgpq4 arguments Peering Manager passes per family
//! (`BGPQ3_ARGS`, default `-A -r 8 -R 24` for IPv4 and `-A -r 16 -R 48`
//! for IPv6, or the AS's `irr_ipv*_prefixes_args_override`), understood by
//! the native client.

use crate::{Family, IrrError, Shaping};

/// Parsed arguments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BgpqArgs {
    pub shaping: Shaping,
    /// `-p`: keep private ASNs (bgpq4 drops them from AS lists and from
    /// single-ASN prefix lists unless given).
    pub allow_private: bool,
}

impl BgpqArgs {
    /// Peering Manager's default arguments for `family`.
    pub fn pm_default(family: Family) -> BgpqArgs {
        let words: &[&str] = match family {
            Family::V4 => &["-A", "-r", "8", "-R", "24"],
            Family::V6 => &["-A", "-r", "16", "-R", "48"],
        };
        BgpqArgs::parse(family, words).expect("valid defaults")
    }

    /// Parses argv words (`-A`, `-p`, `-r N`, `-R N`, `-m N`; values may be
    /// attached, `-R24`). Anything else is refused rather than ignored: the
    /// native client must not silently build a different filter than bgpq4.
    pub fn parse<S: AsRef<str>>(family: Family, words: &[S]) -> Result<BgpqArgs, IrrError> {
        let mut args = BgpqArgs::default();
        let mut words = words.iter().map(AsRef::as_ref);
        while let Some(word) = words.next() {
            let bad = || IrrError::BadArgument(word.to_owned());
            let Some(flag) = word.strip_prefix('-').and_then(|w| w.chars().next()) else {
                return Err(bad());
            };
            let attached = &word[1 + flag.len_utf8()..];
            match flag {
                'A' | 'p' if !attached.is_empty() => return Err(bad()),
                'A' => args.shaping.aggregate = true,
                'p' => args.allow_private = true,
                'r' | 'R' | 'm' => {
                    let value = if attached.is_empty() { words.next().ok_or_else(bad)? } else { attached };
                    let len: u8 = value.parse().map_err(|_| IrrError::BadArgument(format!("{word} {value}")))?;
                    if len == 0 || len > family.max_len() {
                        return Err(IrrError::BadArgument(format!("{word} {value}")));
                    }
                    *match flag {
                        'r' => &mut args.shaping.refine_low,
                        'R' => &mut args.shaping.refine,
                        _ => &mut args.shaping.max_len,
                    } = Some(len);
                }
                _ => return Err(bad()),
            }
        }
        Ok(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pm_defaults() {
        let v4 = BgpqArgs::pm_default(Family::V4);
        assert_eq!(v4.shaping, Shaping { aggregate: true, refine: Some(24), refine_low: Some(8), max_len: None });
        assert!(!v4.allow_private);
        assert_eq!(BgpqArgs::pm_default(Family::V6).shaping.refine, Some(48));
    }

    #[test]
    fn attached_values_and_errors() {
        let args = BgpqArgs::parse(Family::V4, &["-R24", "-p", "-m", "24"]).unwrap();
        assert_eq!(args.shaping.refine, Some(24));
        assert_eq!(args.shaping.max_len, Some(24));
        assert!(args.allow_private);
        assert!(BgpqArgs::parse(Family::V4, &["-R", "33"]).is_err());
        assert!(BgpqArgs::parse(Family::V6, &["-R", "64"]).is_ok());
        assert!(BgpqArgs::parse(Family::V4, &["-R"]).is_err());
        assert!(BgpqArgs::parse(Family::V4, &["-3"]).is_err());
        assert!(BgpqArgs::parse(Family::V4, &["24"]).is_err());
        assert_eq!(BgpqArgs::parse::<&str>(Family::V4, &[]).unwrap(), BgpqArgs::default());
    }
}
