//! Juniper `$9$` secrets: each byte becomes a few characters whose distance
//! in a shuffled 65-letter alphabet encodes part of the value.

use rand::Rng;
use sha2::{Digest, Sha256};

use super::bytes_to_string;

const MAGIC: &str = "$9$";
/// Four letter families concatenated; a salt from family `f` is followed by
/// `3 - f` filler characters.
const ALPHABET: &[u8; 65] = b"QzF3n6/9CAtpu0OB1IREhcSyrleKvMW8LXx7N-dVbwsY2g4oaJZGUDjiHkq.mPf5T";
const FAMILY_ENDS: [usize; 4] = [15, 35, 55, 65];
/// Weights used to split the byte at position `p` (cycle of 7).
const ENCODING: [&[u32]; 7] =
    [&[1, 4, 32], &[1, 16, 32], &[1, 8, 32], &[1, 64], &[1, 32], &[1, 4, 16, 128], &[1, 32, 64]];

fn index(c: u8) -> Option<usize> {
    ALPHABET.iter().position(|&a| a == c)
}

fn filler_len(salt: u8) -> usize {
    let i = index(salt).expect("salt comes from the alphabet");
    3 - FAMILY_ENDS.iter().position(|&end| i < end).expect("index below 65")
}

/// Encodes `plain`. With a non-empty `key` the salt and filler come from
/// SHA-256 of the key, so the same (password, key) always gives the same
/// secret; without one they are random. Input already in `$9$` form and
/// the empty string are returned unchanged.
pub fn encrypt(plain: &str, key: Option<&str>) -> String {
    if plain.is_empty() || is_encrypted(plain) {
        return plain.to_owned();
    }
    let (salt, filler) = match key.filter(|k| !k.is_empty()) {
        Some(key) => {
            let digest = Sha256::digest(key.as_bytes());
            let salt = ALPHABET[usize::from(digest[0]) % 65];
            let filler = (0..filler_len(salt)).map(|i| ALPHABET[usize::from(digest[1 + i]) % 65]).collect();
            (salt, filler)
        }
        None => {
            let mut rng = rand::rng();
            let salt = ALPHABET[rng.random_range(0..65)];
            let filler = (0..filler_len(salt)).map(|_| ALPHABET[rng.random_range(0..65)]).collect();
            (salt, filler)
        }
    };
    encode(plain.as_bytes(), salt, filler)
}

fn encode(plain: &[u8], salt: u8, filler: Vec<u8>) -> String {
    let mut out = Vec::from(MAGIC.as_bytes());
    out.push(salt);
    out.extend(filler);
    let mut prev = salt;
    for (pos, &byte) in plain.iter().enumerate() {
        let weights = ENCODING[pos % 7];
        // Split greedily from the largest weight; the emitted gaps are listed
        // smallest-weight last, in the same order as `weights`.
        let mut rest = u32::from(byte);
        let mut gaps = vec![0; weights.len()];
        for (slot, &weight) in weights.iter().enumerate().rev() {
            gaps[slot] = rest / weight;
            rest %= weight;
        }
        for gap in gaps {
            let prev_index = index(prev).expect("emitted characters come from the alphabet");
            prev = ALPHABET[(gap as usize + prev_index + 1) % 65];
            out.push(prev);
        }
    }
    String::from_utf8(out).expect("alphabet is ASCII")
}

/// Decodes a `$9$` secret; `None` if malformed, `Some("")` for empty input.
pub fn decrypt(cipher: &str) -> Option<String> {
    if cipher.is_empty() {
        return Some(String::new());
    }
    let body = cipher.strip_prefix(MAGIC)?.as_bytes();
    let (&salt, rest) = body.split_first()?;
    index(salt)?;
    let mut chars = rest.get(filler_len(salt)..)?;
    let mut prev = salt;
    let mut plain = Vec::new();
    while !chars.is_empty() {
        let weights = ENCODING[plain.len() % 7];
        let (group, tail) = chars.split_at_checked(weights.len())?;
        let mut value = 0u32;
        for (&c, &weight) in group.iter().zip(weights) {
            let distance = (index(c)? + 65 - index(prev)?) % 65;
            // Consecutive equal characters never come out of the encoder.
            let gap = distance.checked_sub(1)? as u32;
            value += gap * weight;
            prev = c;
        }
        plain.push((value % 256) as u8);
        chars = tail;
    }
    Some(bytes_to_string(plain))
}

/// True for `$9$` followed by a decodable secret.
pub fn is_encrypted(s: &str) -> bool {
    s.len() > MAGIC.len() && s.starts_with(MAGIC) && decrypt(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(decrypt("$9$LbHX-wg4Z").as_deref(), Some("lc"));
        assert_eq!(decrypt("$9$1HFIyKXxdsgJ-VH.Pfn6lKMXdsZUi5Qnikfz").as_deref(), Some("testPassWord"));
        assert_eq!(
            decrypt("$9$40aikFn/9tOQFRSleXxoJGDi.CA0Ihr.PRSylXxGDi.Qn/9p0BEz3rvLNY2.P5QF/").as_deref(),
            Some("99problemsbutpwaintone")
        );
    }

    #[test]
    fn encoder_matches_reference_output() {
        // Salt 'L' (family 1) takes two filler characters: "bH".
        assert_eq!(encode(b"lc", b'L', b"bH".to_vec()), "$9$LbHX-wg4Z");
        let cipher = "$9$1HFIyKXxdsgJ-VH.Pfn6lKMXdsZUi5Qnikfz";
        assert_eq!(encode(b"testPassWord", b'1', b"HF".to_vec()), cipher);
    }

    #[test]
    fn keyed_encryption_is_deterministic() {
        let a = encrypt("mypassword", Some("192.0.2.1"));
        assert_eq!(a, encrypt("mypassword", Some("192.0.2.1")));
        let b = encrypt("mypassword", Some("192.0.2.2"));
        assert_ne!(a, b);
        assert_eq!(decrypt(&a).as_deref(), Some("mypassword"));
        assert_eq!(decrypt(&b).as_deref(), Some("mypassword"));
        // The salt is derived from the first digest byte.
        let digest = Sha256::digest(b"192.0.2.1");
        assert_eq!(a.as_bytes()[3], ALPHABET[usize::from(digest[0]) % 65]);
        for (i, &c) in a.as_bytes()[4..4 + filler_len(a.as_bytes()[3])].iter().enumerate() {
            assert_eq!(c, ALPHABET[usize::from(digest[1 + i]) % 65]);
        }
    }

    #[test]
    fn round_trips() {
        let long = "x".repeat(100);
        for plain in ["a", "mypassword", "~!@#$%^&*()_+ {}", "päss", "日本", long.as_str()] {
            for key in [None, Some("2001:db8::1/64")] {
                let cipher = encrypt(plain, key);
                assert!(cipher.starts_with("$9$"));
                assert!(is_encrypted(&cipher), "{cipher}");
                assert_eq!(decrypt(&cipher).as_deref(), Some(plain), "{cipher}");
                assert_eq!(encrypt(&cipher, key), cipher);
            }
        }
    }

    #[test]
    fn empty_key_is_random() {
        let seen: std::collections::HashSet<String> = (0..20).map(|_| encrypt("mypassword", Some(""))).collect();
        assert!(seen.len() > 1);
    }

    #[test]
    fn empty_and_invalid() {
        assert_eq!(encrypt("", Some("k")), "");
        assert_eq!(decrypt("").as_deref(), Some(""));
        assert!(!is_encrypted(""));
        assert!(!is_encrypted("$9$"));
        assert!(!is_encrypted("mypassword"));
        assert_eq!(decrypt("mypassword"), None);
        assert_eq!(decrypt("$9$LbHX-wg4"), None, "truncated group");
        assert_eq!(decrypt("$9$Lb"), None, "missing filler");
        assert_eq!(decrypt("$9$LbHX!wg4Z"), None, "outside the alphabet");
        assert_eq!(decrypt("$9$LbHXXwg4Z"), None, "zero distance");
    }
}
