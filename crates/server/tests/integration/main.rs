//! The integration suite: the real router, a fresh database per test, every
//! scenario on SQLite and on PostgreSQL.

mod harness;

mod auth;
mod bad_input;
mod changelog;
mod cli;
mod concurrency;
mod crud;
mod filter_fuzz;
mod filters;
mod goldens;
mod jobs;
mod peeringdb;
mod peers;
mod peers_bench;
mod pm_clients;
mod render;
mod render_security;
mod rules;
mod schema;
mod security_api;
mod ui;
mod ui_bench;
mod ui_browser;
mod ui_jobs;
mod ui_pages;
pub mod ui_support;
mod ui_transfer;
mod web_security;
mod webhook_events;
mod webhooks;
