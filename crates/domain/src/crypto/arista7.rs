//! Arista EOS "type 7" secrets: DES-CBC under a key derived from a context
//! string (for BGP, the neighbour address), rendered `7 <base64>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use des::Des;
use des::cipher::{Block, BlockDecrypt, BlockEncrypt, KeyInit};

use super::bytes_to_string;

const MAGIC: &str = "7 ";
const SEED: [u8; 8] = [0xd5, 0xa8, 0xc9, 0x1e, 0xf5, 0xd5, 0x8a, 0x23];
const SIGNATURE: [u8; 3] = [0x4c, 0x88, 0xbb];

/// Folds `{key}_passwd` into the seed, then keeps the low 7 bits of each
/// byte with bit 0 set for odd parity (EOS clears bit 7, which DES uses).
fn des_key(key: &str) -> Des {
    let mut bytes = SEED;
    for (i, b) in format!("{key}_passwd").bytes().enumerate() {
        bytes[i % 8] ^= b;
    }
    for b in &mut bytes {
        let high = *b & 0x7e;
        *b = if high.count_ones() % 2 == 0 { high | 1 } else { high };
    }
    Des::new_from_slice(&bytes).expect("DES keys are 8 bytes")
}

fn as_block(bytes: &[u8]) -> Block<Des> {
    let array: [u8; 8] = bytes.try_into().expect("callers pass 8-byte chunks");
    array.into()
}

/// Encrypts `plain` under `key`; input already in `7 <base64>` form and
/// the empty string are returned unchanged.
pub fn encrypt(plain: &str, key: &str) -> String {
    if plain.is_empty() || is_encrypted(plain) {
        return plain.to_owned();
    }
    let data = plain.as_bytes();
    // Header (signature + pad marker) and data are padded to whole blocks;
    // the pad count is stored in the high nibble of the marker byte.
    let pad = (8 - (data.len() + 4) % 8) % 8;
    let mut buf = Vec::with_capacity(4 + data.len() + pad);
    buf.extend_from_slice(&SIGNATURE);
    buf.push((pad as u8) * 16 + 0x0e);
    buf.extend_from_slice(data);
    buf.resize(buf.len() + pad, 0);

    let cipher = des_key(key);
    let mut chain = [0u8; 8];
    for block in buf.chunks_mut(8) {
        for (b, c) in block.iter_mut().zip(chain) {
            *b ^= c;
        }
        let mut b = as_block(block);
        cipher.encrypt_block(&mut b);
        block.copy_from_slice(&b);
        chain.copy_from_slice(block);
    }
    format!("{MAGIC}{}", STANDARD.encode(&buf))
}

/// Whole DES blocks behind an optional `7 ` prefix.
fn blocks(cipher: &str) -> Option<Vec<u8>> {
    let body = cipher.strip_prefix(MAGIC).unwrap_or(cipher);
    let data = STANDARD.decode(body).ok()?;
    (!data.is_empty() && data.len() % 8 == 0).then_some(data)
}

/// Decrypts with `key`, with or without the `7 ` prefix. `None` if the input
/// is malformed or the key is wrong (bad signature or padding); empty input
/// gives `Some("")`.
pub fn decrypt(cipher: &str, key: &str) -> Option<String> {
    if cipher.is_empty() {
        return Some(String::new());
    }
    let mut data = blocks(cipher)?;
    let des = des_key(key);
    let mut chain = [0u8; 8];
    for block in data.chunks_mut(8) {
        let mut next = [0u8; 8];
        next.copy_from_slice(block);
        let mut b = as_block(block);
        des.decrypt_block(&mut b);
        block.copy_from_slice(&b);
        for (b, c) in block.iter_mut().zip(chain) {
            *b ^= c;
        }
        chain = next;
    }
    let pad = usize::from(data[3] >> 4);
    if data[..3] != SIGNATURE || pad >= 8 || data.len() - 4 < pad {
        return None;
    }
    data.truncate(data.len() - pad);
    Some(bytes_to_string(data.split_off(4)))
}

/// True for `7 ` followed by base64 of whole DES blocks. The key is not
/// needed: the format alone says whether input is already encrypted.
pub fn is_encrypted(s: &str) -> bool {
    s.starts_with(MAGIC) && blocks(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Published by the reverse engineering of EOS type 7 (isotopp).
        assert_eq!(encrypt("swordfish", "2001:db8:6939::1"), "7 1f2k70WMa17KyMEW72GaNg==");
        assert_eq!(decrypt("1f2k70WMa17KyMEW72GaNg==", "2001:db8:6939::1").as_deref(), Some("swordfish"));
        assert_eq!(encrypt("testtesttesttest", "TEST"), "7 AEeZkeT2qaavxk5/S9QDbUpTTtf7PgqU");
        assert_eq!(decrypt("7 AEeZkeT2qaavxk5/S9QDbUpTTtf7PgqU", "TEST").as_deref(), Some("testtesttesttest"));
    }

    #[test]
    fn round_trips_and_block_sizes() {
        for len in 0..=20 {
            let plain: String = "abcdefghijklmnopqrstuvwxyz".chars().take(len).collect();
            let cipher = encrypt(&plain, "192.0.2.1");
            assert_eq!(decrypt(&cipher, "192.0.2.1"), Some(plain.clone()));
            if len > 0 {
                let raw = STANDARD.decode(&cipher[2..]).unwrap();
                assert_eq!(raw.len(), (len + 4).div_ceil(8) * 8);
                assert!(is_encrypted(&cipher));
                assert_eq!(encrypt(&cipher, "192.0.2.1"), cipher);
            }
        }
        let unicode = "pässwörd✓";
        assert_eq!(decrypt(&encrypt(unicode, "k"), "k").as_deref(), Some(unicode));
    }

    #[test]
    fn deterministic_per_key() {
        let a = encrypt("mypassword", "192.0.2.1");
        assert_eq!(a, encrypt("mypassword", "192.0.2.1"));
        assert_ne!(a, encrypt("mypassword", "192.0.2.2"));
        assert_eq!(decrypt(&a, "192.0.2.2"), None, "wrong key fails the signature");
    }

    #[test]
    fn empty_and_invalid() {
        assert_eq!(encrypt("", "k"), "");
        assert_eq!(decrypt("", "k").as_deref(), Some(""));
        assert!(!is_encrypted(""));
        assert!(!is_encrypted("mypassword"));
        assert!(!is_encrypted("1f2k70WMa17KyMEW72GaNg=="), "prefix is required");
        assert!(!is_encrypted("7 "));
        assert!(!is_encrypted("7 YWJj"), "3 bytes is not a DES block");
        assert!(!is_encrypted("7 not base64!"));
        assert_eq!(decrypt("mypassword", "k"), None);
        assert_eq!(decrypt("7 AAAAAAAAAAA=", "k"), None);
    }
}
