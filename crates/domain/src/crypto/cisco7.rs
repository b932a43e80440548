//! Cisco "type 7" password obfuscation: a XOR with a fixed key stream.
//!
//! Format: `7 ` then two salt digits then two hex digits per plaintext byte,
//! upper-case (`7 0822455D0A16` is `cisco`).

use rand::Rng;

use super::bytes_to_string;

const MAGIC: &str = "7 ";
const XLAT: &[u8; 53] = b"dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87";
/// Peering Manager restarts the key stream after 51 characters (IOS uses all
/// 53); keeping 51 lets ciphertexts it produced decrypt unchanged. Only
/// passwords longer than ~40 characters are affected.
const WRAP: usize = 51;

/// Obfuscates `plain` with a random salt; input already in type 7 form and
/// the empty string are returned unchanged.
pub fn encrypt(plain: &str) -> String {
    if plain.is_empty() || is_encrypted(plain) {
        return plain.to_owned();
    }
    // Salts 0-9 render identically in decimal (how IOS reads them) and in hex
    // (how Peering Manager reads them), so every reader agrees.
    let salt = rand::rng().random_range(0..=9);
    encrypt_with_salt(plain, salt)
}

fn encrypt_with_salt(plain: &str, salt: usize) -> String {
    let mut out = format!("{MAGIC}{salt:02}");
    for (i, byte) in plain.bytes().enumerate() {
        out.push_str(&format!("{:02X}", byte ^ XLAT[(salt + i) % WRAP]));
    }
    out
}

/// Recovers the plaintext, with or without the `7 ` prefix. `None` when the
/// input is not a well-formed type 7 string; empty input gives `Some("")`.
pub fn decrypt(cipher: &str) -> Option<String> {
    if cipher.is_empty() {
        return Some(String::new());
    }
    let body = cipher.strip_prefix(MAGIC).unwrap_or(cipher);
    if body.len() < 2 || !body.len().is_multiple_of(2) || !body.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let salt_digits = &body[..2];
    // IOS writes the salt in decimal (00-15); Peering Manager wrote hex
    // (00-0E). Both agree on 00-09 and only hex uses letters.
    let salt = if salt_digits.bytes().all(|b| b.is_ascii_digit()) {
        salt_digits.parse::<usize>().ok()?
    } else {
        usize::from_str_radix(salt_digits, 16).ok()?
    };
    if salt >= WRAP {
        return None;
    }
    let bytes = body.as_bytes()[2..]
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            let pair = std::str::from_utf8(pair).ok()?;
            let byte = u8::from_str_radix(pair, 16).ok()?;
            Some(byte ^ XLAT[(salt + i) % WRAP])
        })
        .collect::<Option<Vec<u8>>>()?;
    Some(bytes_to_string(bytes))
}

/// True for `7 ` followed by a decodable type 7 body.
pub fn is_encrypted(s: &str) -> bool {
    s.len() > MAGIC.len() && s.starts_with(MAGIC) && decrypt(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(decrypt("0822455D0A16").as_deref(), Some("cisco"));
        assert_eq!(decrypt("7 0822455D0A16").as_deref(), Some("cisco"));
        assert_eq!(decrypt("062506324f41584b5643").as_deref(), Some("Cisco1234"));
        // Salt 12 is decimal, as written by IOS.
        assert_eq!(
            decrypt("12405C0700040E082F26372A26213204061F0D1559575D").as_deref(),
            Some("99problemsbutpwaintone")
        );
        assert_eq!(encrypt_with_salt("cisco", 8), "7 0822455D0A16");
        assert_eq!(encrypt_with_salt("Cisco1234", 6), "7 062506324F41584B5643");
    }

    #[test]
    fn hex_salt_written_by_peering_manager() {
        // Salt 0x0A = 10: same key stream position as IOS salt "10".
        let hex = format!("7 0A{}", &encrypt_with_salt("secret", 10)[4..]);
        assert_eq!(decrypt(&hex).as_deref(), Some("secret"));
        assert_eq!(decrypt(&encrypt_with_salt("secret", 10)).as_deref(), Some("secret"));
    }

    #[test]
    fn round_trip_and_format() {
        for plain in ["mypassword", "x", "p@ss w0rd!", "ünïcödé", &"long".repeat(30)] {
            let cipher = encrypt(plain);
            assert!(cipher.starts_with("7 "), "{cipher}");
            assert!(cipher[2..].bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
            assert_eq!(cipher.len(), 4 + 2 * plain.len());
            assert!(is_encrypted(&cipher));
            assert_eq!(decrypt(&cipher).as_deref(), Some(plain));
            assert_eq!(encrypt(&cipher), cipher, "already encrypted input is kept");
        }
    }

    #[test]
    fn key_stream_wraps_after_51() {
        let plain = "a".repeat(60);
        let cipher = encrypt_with_salt(&plain, 0);
        // Byte 51 reuses XLAT[0], like byte 0.
        assert_eq!(&cipher[4..6], &cipher[4 + 2 * 51..6 + 2 * 51]);
        assert_eq!(decrypt(&cipher), Some(plain));
    }

    #[test]
    fn empty_and_invalid() {
        assert_eq!(encrypt(""), "");
        assert_eq!(decrypt("").as_deref(), Some(""));
        assert!(!is_encrypted(""));
        assert!(!is_encrypted("7 "));
        assert!(!is_encrypted("mypassword"));
        assert!(!is_encrypted("0822455D0A16"), "prefix is required");
        assert!(!is_encrypted("7 0822455D0A1"));
        assert!(!is_encrypted("7 08ZZ"));
        assert_eq!(decrypt("mypassword"), None);
        assert_eq!(decrypt("7 9900"), None, "salt beyond the key stream");
        // A clear password that merely starts with "7 " is still encrypted.
        let cipher = encrypt("7 days");
        assert_ne!(cipher, "7 days");
        assert_eq!(decrypt(&cipher).as_deref(), Some("7 days"));
    }
}
