//! The command line of `qrlogin-phone`: what `--help` prints is written here, next to the flag it describes.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};
use qrlogin_shared::session::Decision;

/// mobile-api on the local stack (`deploy/stack.sh`).
const DEFAULT_API: &str = "http://127.0.0.1:8081";

/// The reference qrlogin phone client: does what the app does, from a terminal.
///
/// Reads the login QR from a picture (a screenshot of the login page works) or from its text, scans it with the
/// user's token, shows where the login comes from and approves or denies it. Also mints development user tokens
/// for the local stack.
#[derive(Debug, Parser)]
// `flatten_help`: `qrlogin-phone --help` shows every subcommand's flags, not just their names.
#[command(name = "qrlogin-phone", version, arg_required_else_help = true, flatten_help = true)]
#[command(after_help = "dev-token and scan --user need mobile-api's development token settings: \
    QRL_USER_JWT_ALG=HS256, QRL_USER_JWT_SECRET, QRL_USER_JWT_ISSUER, QRL_USER_JWT_AUDIENCE \
    (`set -a; . deploy/dev.env`).\n\
    Exit status: 0 done, 1 failed (the reason on stderr), 2 bad arguments.")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    Scan(ScanArgs),
    Status(StatusArgs),
    Sessions(SessionsArgs),
    End(EndArgs),
    DevToken(DevTokenArgs),
}

/// The user's own credentials for mobile-api, as every command that calls it takes them.
#[derive(Debug, Args)]
pub(crate) struct Account {
    /// mobile-api's base URL.
    #[arg(long, value_name = "URL", default_value = DEFAULT_API)]
    pub(crate) api: String,

    /// The user's bearer token, as the app holds it. [default: $QRL_PHONE_TOKEN]
    #[arg(long, value_name = "TOKEN", conflicts_with = "user")]
    pub(crate) token: Option<String>,

    /// Instead of a token, mint a five-minute development token for this user (as dev-token does).
    #[arg(long, value_name = "ID")]
    pub(crate) user: Option<String>,
}

/// List where the user is logged in: the live web sessions of their logins, newest first.
///
/// Asks mobile-api's GET /v1/sessions; prints one line per session: its sid, browser, OS, location, when it
/// began and was last seen, and which is the latest login.
#[derive(Debug, Args)]
pub(crate) struct SessionsArgs {
    #[command(flatten)]
    pub(crate) account: Account,
}

/// Log a browser out: end one web session (by the sid `sessions` lists), or all of them.
///
/// Calls mobile-api's DELETE /v1/sessions/<sid> (or DELETE /v1/sessions with --all). The web backend learns of
/// it when it next introspects the token.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["sid", "all"])))]
pub(crate) struct EndArgs {
    /// The session's sid.
    pub(crate) sid: Option<String>,

    /// End every web session of the user.
    #[arg(long)]
    pub(crate) all: bool,

    #[command(flatten)]
    pub(crate) account: Account,
}

/// Show how a login the user scanned stands, and once decided how it ended.
///
/// Asks mobile-api's GET /v1/logins/<uuid> and prints the status (scanned, confirmed, claimed, denied,
/// cancelled, expired) and what the app shows for it. A confirmed login ends claimed (the browser got in),
/// cancelled (in the browser) or expired (never collected); mobile-api remembers that for five minutes.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The login's uuid (from the QR link, or the scan's output).
    pub(crate) uuid: String,

    #[command(flatten)]
    pub(crate) account: Account,

    /// Wait up to this many seconds for a final status (asking once a second), as an app does after a confirm.
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub(crate) wait: u64,
}

/// Read a login QR, scan it, show where the login comes from, then approve or deny it.
///
/// Sends the QR's text to mobile-api's /v1/scan, prints the requester (IP, browser, how long ago, warnings),
/// asks "Approve this login? [y/N]" unless --approve or --deny is given, and calls /v1/confirm or /v1/deny.
/// Anything but "y" or "yes" (an empty line, end of input) denies.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("qr").required(true).args(["picture", "text"])))]
pub(crate) struct ScanArgs {
    /// A PNG or JPEG picture with the login QR in it, e.g. a screenshot of the whole login page.
    pub(crate) picture: Option<PathBuf>,

    /// The QR's text instead of a picture: <site>/q/<uuid>.<verification>.
    #[arg(long, value_name = "QR_TEXT")]
    pub(crate) text: Option<String>,

    /// mobile-api's base URL.
    #[arg(long, value_name = "URL", default_value = DEFAULT_API)]
    pub(crate) api: String,

    /// The site QR links must be for (the app's own, e.g. https://login.example.com); a link for any other
    /// site is refused before anything is sent. Without it any site is accepted, with a warning.
    #[arg(long, value_name = "URL", env = "QRL_QR_BASE_URL")]
    pub(crate) site: Option<String>,

    /// The user's bearer token, as the app holds it. [default: $QRL_PHONE_TOKEN]
    // Not clap's `env`: an inherited QRL_PHONE_TOKEN must not make `--user` a conflict.
    #[arg(long, value_name = "TOKEN", conflicts_with = "user")]
    pub(crate) token: Option<String>,

    /// Instead of a token, mint a five-minute development token for this user, as dev-token does (needs the
    /// settings dev-token needs).
    #[arg(long, value_name = "ID")]
    pub(crate) user: Option<String>,

    /// Approve without asking.
    #[arg(long, conflicts_with = "deny")]
    pub(crate) approve: bool,

    /// Deny without asking.
    #[arg(long)]
    pub(crate) deny: bool,

    /// The number the browser shows, for a login that asks for it (otherwise it is asked for on the terminal).
    #[arg(long, value_name = "NN", conflicts_with = "deny")]
    pub(crate) check_code: Option<String>,
}

impl ScanArgs {
    /// The decision given on the command line, if any (clap has refused both at once).
    pub(crate) fn decision(&self) -> Option<Decision> {
        match (self.approve, self.deny) {
            (true, _) => Some(Decision::Confirm),
            (_, true) => Some(Decision::Deny),
            _ => None,
        }
    }
}

/// Print a user token for the local stack.
///
/// Needs mobile-api's development settings, with the identity provider's shared secret: QRL_USER_JWT_ALG=HS256,
/// QRL_USER_JWT_SECRET, QRL_USER_JWT_ISSUER and QRL_USER_JWT_AUDIENCE (`set -a; . deploy/dev.env`). Refuses when
/// mobile-api checks tokens against public keys (any other algorithm, or QRL_USER_JWKS_URL).
#[derive(Debug, Args)]
pub(crate) struct DevTokenArgs {
    /// The user the token is for (its `sub`).
    #[arg(long, value_name = "ID")]
    pub(crate) user: String,

    /// How long the token is valid, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub(crate) ttl_secs: u64,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_flag_is_documented() {
        let cli = Cli::command();
        for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
            assert!(sub.get_about().is_some(), "{}", sub.get_name());
            for arg in sub.get_arguments().filter(|a| !["help", "version"].contains(&a.get_id().as_str())) {
                assert!(arg.get_help().is_some(), "{} {}", sub.get_name(), arg.get_id());
            }
        }
    }
}
