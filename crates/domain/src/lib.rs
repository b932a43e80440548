//! Pure domain rules of Peering Manager: value validation, ciphers and
//! helpers that need no database or I/O, so every layer can share them.

pub mod as_set;
pub mod asn;
pub mod community;
pub mod crypto;
pub mod jsonb;
pub mod merge;
pub mod net;
pub mod text;
