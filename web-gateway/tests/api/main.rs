//! The gateway's integration tests: the real application on a random port against a real Redis, one binary.
//! The phone side is driven through the real `SessionStore` on the same key prefix, so every transition runs
//! the same Lua scripts mobile-api would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation should fail loudly"
)]

mod cancel;
mod claim_race;
mod cli;
mod connections;
mod create;
mod csrf;
mod device;
mod directory;
mod expiry;
mod hardening;
mod health;
mod helpers;
mod jwks;
mod limits;
mod openapi;
mod pacing;
mod pages;
mod per_client;
mod poll;
mod routing;
mod shutdown;
