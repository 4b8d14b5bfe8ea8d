//! Runs a service binary as an operator or a container would: a clean environment holding only the variables
//! given, from the repository root, bounded in time (a binary that starts serving by mistake fails the test).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{WORKSPACE_ROOT, dev_env};

/// How a run ended and what it printed.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Everything printed, for "never shows this" checks.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// deploy/dev.env with `changes` applied: `Some` sets a variable, `None` unsets it.
pub fn dev_env_with(changes: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> =
        dev_env().into_iter().filter(|(k, _)| !changes.iter().any(|(name, _)| name == k)).collect();
    vars.extend(changes.iter().filter_map(|(k, v)| v.map(|v| ((*k).to_owned(), v.to_owned()))));
    vars
}

/// `bin args...` with only `vars` in its environment; panics when it runs longer than `limit`.
pub fn run(bin: &str, args: &[&str], vars: &[(String, String)], limit: Duration) -> Ran {
    let mut child = Command::new(bin)
        .args(args)
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .current_dir(WORKSPACE_ROOT)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the binary") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("{bin} {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |pipe: Option<&mut dyn Read>| {
        let mut text = String::new();
        pipe.expect("piped").read_to_string(&mut text).expect("utf-8 output");
        text
    };
    let stdout = read(child.stdout.as_mut().map(|p| p as &mut dyn Read));
    let stderr = read(child.stderr.as_mut().map(|p| p as &mut dyn Read));
    Ran { code: status.code(), stdout, stderr }
}

/// `--help` (its stdout `help`) has a line for every variable of `groups`, led by its name, and marks the
/// required ones.
#[track_caller]
pub fn assert_help_lists(help: &str, groups: &[crate::config::vars::EnvGroup]) {
    use crate::config::vars::{self, VarDefault};
    for v in vars::all(groups) {
        let line = help.lines().find(|l| l.split_whitespace().next() == Some(v.name));
        let line = line.unwrap_or_else(|| panic!("{} not in --help:\n{help}", v.name));
        if matches!(v.default, VarDefault::Required | VarDefault::RequiredWhen(_)) {
            assert!(line.contains("[required"), "{line}");
        }
    }
}
