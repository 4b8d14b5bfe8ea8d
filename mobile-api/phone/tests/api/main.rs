//! The reference phone client against the real mobile-api (on a random port, against the test Redis:
//! `QRL_TEST_REDIS_URL`, default redis://127.0.0.1:6390), and against a stand-in for the answers the real one
//! never gives. One binary, one module per concern, as in mobile-api's own tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

mod cli;
mod client;
mod fake_api;
/// mobile-api's own test helpers (the real app on a random port, sessions created as the gateway creates
/// them), included rather than copied so that they exist once.
#[path = "../../../tests/api/helpers.rs"]
#[allow(dead_code, reason = "the phone's tests use only some of mobile-api's helpers")]
mod helpers;
