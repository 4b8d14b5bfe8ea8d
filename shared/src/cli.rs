//! What both binaries do on their command line, the same way: serve (also with no subcommand, since scripts and
//! containers start them bare) or check the configuration, and how they report: plain words, one problem per
//! line, each line led by the binary's name, and exit codes to script on (README "Operating the binaries").

use std::process::ExitCode;

use secrecy::ExposeSecret;

use crate::ErrorChain;
use crate::config::{ConfigError, ConfigErrors, RedisSettings, ServiceSettings};
use crate::server::StartupError;

#[derive(clap::Subcommand, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Command {
    /// Serve HTTP until SIGTERM or Ctrl-C (the default)
    #[default]
    Serve,
    /// Check every variable and the key and data files they name, without Redis or a port; exit 2 on problems
    CheckConfig,
}

/// A configuration problem: nothing will work until the settings change. Any other failure to start exits 1.
pub const EXIT_CONFIG: u8 = 2;

/// One line of the `check-config` summary: what, and its value (never a secret).
pub type SummaryLine = (&'static str, String);

/// How a binary reports; `name` leads every line, as in `web-gateway: cannot start: …`.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    name: &'static str,
}

impl Report {
    pub const fn new(name: &'static str) -> Self {
        Self { name }
    }

    /// Every problem on a line of its own, on stderr; exit 2.
    pub fn config_problems(self, command: Command, problems: &ConfigErrors) -> ExitCode {
        let lead = if command == Command::Serve { "cannot start: " } else { "" };
        for problem in problems.problems() {
            eprintln!("{}: {lead}{problem}", self.name);
        }
        if command == Command::CheckConfig {
            eprintln!("{}: the configuration has {} problem(s)", self.name, problems.problems().len());
        }
        ExitCode::from(EXIT_CONFIG)
    }

    /// `check-config`: the `OTEL_*` variables, then what `check` loads and summarises.
    pub fn check_config(self, check: impl FnOnce() -> Result<Vec<SummaryLine>, ConfigErrors>) -> ExitCode {
        self.checked(crate::telemetry::check().and_then(|()| check()))
    }

    /// Logs and traces for `serve` (hold the guard to the end); a refused `OTEL_*` value is a configuration
    /// problem: reported, and the exit code to return.
    pub fn telemetry(self, json: bool) -> Result<crate::telemetry::Telemetry, ExitCode> {
        crate::telemetry::init(self.name, json)
            .map_err(|e| self.cannot_start(&StartupError::Config(ConfigError::unusable(&e).into())))
    }

    /// The outcome of `check-config`: the summary on stdout (exit 0), or every problem (exit 2).
    pub fn checked(self, outcome: Result<Vec<SummaryLine>, ConfigErrors>) -> ExitCode {
        let summary = match outcome {
            Ok(summary) => summary,
            Err(problems) => return self.config_problems(Command::CheckConfig, &problems),
        };
        println!("{}: the configuration is valid", self.name);
        let width = summary.iter().map(|(what, _)| what.len()).max().unwrap_or(0);
        for (what, value) in summary {
            println!("  {what:width$}  {value}");
        }
        ExitCode::SUCCESS
    }

    /// A start that failed: every configuration problem (exit 2), or the error with its causes (exit 1).
    pub fn cannot_start(self, e: &StartupError) -> ExitCode {
        if let StartupError::Config(problems) = e {
            return self.config_problems(Command::Serve, problems);
        }
        eprintln!("{}: cannot start: {}", self.name, ErrorChain(e));
        ExitCode::FAILURE
    }

    /// How serving ended: stopped as asked (exit 0), or the server failed (exit 1).
    pub fn stopped(self, outcome: std::io::Result<()>) -> ExitCode {
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{}: the HTTP server failed: {}", self.name, ErrorChain(&e));
                ExitCode::FAILURE
            }
        }
    }
}

/// The summary lines of what both services are configured with. Secrets appear only as their public key ids.
pub fn service_summary(s: &ServiceSettings) -> Vec<SummaryLine> {
    let metrics = s.metrics_addr.map_or_else(|| "on the listen address".to_owned(), |a| a.to_string());
    let keys = match crate::Verifier::new(s.signing_secret.clone(), s.accepted_signing_secrets.clone()) {
        Ok(verifier) => match verifier.key_ids().split_first() {
            Some((issuing, [])) => format!("issuing {issuing}"),
            Some((issuing, accepted)) => format!("issuing {issuing}, also accepting {}", accepted.join(", ")),
            None => "none".to_owned(),
        },
        Err(e) => e.to_string(),
    };
    vec![
        ("listen address", s.listen_addr.to_string()),
        ("metrics", metrics),
        ("Redis", redis_summary(&s.redis)),
        ("Redis key prefix", s.redis.key_prefix.clone()),
        ("QR base URL", s.qr_base_url.as_str().to_owned()),
        ("verification keys", keys),
        ("workers", s.workers.to_string()),
        ("log format", if s.log_json { "json" } else { "text" }.to_owned()),
        ("shutdown timeout", format!("{} s", s.shutdown_timeout.as_secs())),
    ]
}

/// Where Redis is, by host and port only: a URL may carry a password.
fn redis_summary(redis: &RedisSettings) -> String {
    let addrs: Vec<String> = redis
        .node_urls()
        .iter()
        .map(|url| match redis::IntoConnectionInfo::into_connection_info(url.expose_secret()) {
            Ok(info) => info.addr().to_string(),
            Err(_) => "an invalid URL".to_owned(),
        })
        .collect();
    if redis.is_cluster() {
        format!("cluster, seed nodes {}", addrs.join(", "))
    } else {
        format!("single node {}", addrs.join(", "))
    }
}
