//! What the two benchmark tools (`src/bin/login_bench`, `src/bin/push_bench`) share: their child processes
//! ([`procs`]: a guard that kills each, readiness, the services' command line and environment, whether a
//! binary is older than its sources) and their own look at Redis ([`redis_probe`]: one plain command per
//! connection). What only one tool measures stays in that tool.
//!
//! Errors here are values, not panics: a bench reports them as `<tool>: <error>` and exits non-zero.

pub mod procs;
pub mod redis_probe;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The running tool's name (`login-bench`, `push-bench`), for the messages it prints.
pub fn tool_name() -> String {
    let exe = std::env::current_exe().ok();
    exe.as_deref().and_then(std::path::Path::file_name).map_or("bench".into(), |n| n.to_string_lossy().into_owned())
}
