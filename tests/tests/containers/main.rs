//! The container stack of deploy/container/compose.yaml, as built and started by `deploy/containers.sh test`:
//! every request goes through its nginx (`QRL_CONTAINERS_URL`), the containers are driven with podman. The
//! tests run one at a time (`--test-threads 1`) and each leaves every container running and healthy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

mod deployment;
mod hardening;
mod login;
mod prometheus;
mod restart;
