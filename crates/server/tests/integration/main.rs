//! The integration suite: the real router, a fresh database per test, every
//! scenario on SQLite and on PostgreSQL.

mod harness;

mod auth;
mod bad_input;
mod changelog;
mod cli;
mod crud;
mod filters;
mod jobs;
mod peeringdb;
mod peers;
mod peers_bench;
mod render;
mod rules;
mod ui;
mod ui_bench;
mod ui_browser;
mod ui_jobs;
mod ui_pages;
pub mod ui_support;
mod ui_transfer;
mod webhooks;
