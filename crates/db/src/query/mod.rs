//! From query parameters and permission constraints to SQL conditions.

pub mod constraint;
pub mod custom;
pub mod filter;
