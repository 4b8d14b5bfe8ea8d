//! mobile-api's integration tests: the real app on a random port against a real Redis
//! (`QRL_TEST_REDIS_URL`, default redis://127.0.0.1:6390; `deploy/redis.sh 6390 target/test-redis` starts one).
//! One binary, one module per concern; every test has a Redis key prefix of its own, so they run in parallel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

mod availability;
mod cli;
mod clients;
mod connections;
mod decide;
mod errors;
mod guessing;
mod helpers;
mod jwks;
mod limits;
mod lockout;
mod openapi;
mod risk;
mod scan;
mod shutdown;
mod tokens;
mod verification;
