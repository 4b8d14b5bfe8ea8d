//! The reference phone client: does what the qrlogin app does, from a terminal. Reads the login QR from a
//! picture (a screenshot of the login page works) or from its text, scans it with the user's token, shows where
//! the login comes from and approves or denies it. Also mints development user tokens for the local stack.
//! The work is in the `qrlogin_phone` library and the flags in `cli.rs`; this file only runs, prints and asks.
//!
//! Exit codes: 0 done, 1 a failure (its message and causes on stderr), 2 a usage error.

mod cli;

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use clap::error::ErrorKind;
use qrlogin_phone::dev_token::DevTokenSettings;
use qrlogin_phone::{PhoneClient, PhoneError};
use qrlogin_shared::ErrorChain;
use qrlogin_shared::qr_link::QrBaseUrl;
use qrlogin_shared::session::Decision;

use crate::cli::{Account, Cli, Command, DevTokenArgs, EndArgs, ScanArgs, SessionsArgs, StatusArgs};

/// Lifetime of the token `scan --user` mints: one login's worth.
const SCAN_TOKEN_TTL: Duration = Duration::from_secs(300);

type Error = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
    let result = match cli.command {
        Command::Scan(args) => scan(args),
        Command::Status(args) => status(args),
        Command::Sessions(args) => sessions(args),
        Command::End(args) => end(args),
        Command::DevToken(args) => dev_token(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qrlogin-phone: {}", ErrorChain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// `--help` and `--version` go to stdout with success; a usage error goes to stderr with clap's message and
/// usage, exit 2. Its "Usage:" heading is printed as "usage:", as this command always did (scripts look for it).
fn usage(e: &clap::Error) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        // A closed stdout (`qrlogin-phone --help | head -1`) is nothing to report.
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    eprint!("{}", e.render().to_string().replacen("Usage:", "usage:", 1));
    ExitCode::from(2)
}

fn dev_token(args: &DevTokenArgs) -> Result<(), Error> {
    println!("{}", mint(&args.user, Duration::from_secs(args.ttl_secs))?);
    Ok(())
}

fn mint(user: &str, ttl: Duration) -> Result<String, Error> {
    Ok(DevTokenSettings::from_env()?.mint(user, ttl)?)
}

fn scan(args: ScanArgs) -> Result<(), Error> {
    let decision = args.decision();
    let text = match (args.text, &args.picture) {
        (Some(text), _) => text,
        (None, Some(path)) => {
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            qrlogin_phone::decode_qr_image(&bytes).map_err(|e| format!("{}: {}", path.display(), ErrorChain(&e)))?
        }
        // clap requires one of the two; kept as an error rather than a panic.
        (None, None) => return Err("scan needs a picture file or --text <qr text>".into()),
    };
    let token = user_token(args.token, args.user.as_deref())?;
    let site = match &args.site {
        Some(site) => Some(QrBaseUrl::parse(site).map_err(|e| format!("--site {site:?}: {e}"))?),
        None => None,
    };
    // Checked here first only to say what was read; the client checks again before any call.
    let link = qrlogin_phone::split_link(&text, site.as_ref()).map_err(|e| match e {
        PhoneError::NotALoginLink => format!("{e}; the QR reads {:?}", text.chars().take(80).collect::<String>()),
        e => e.to_string(),
    })?;
    println!("QR code: {link}");
    let mut client = PhoneClient::new(&args.api, token)?;
    if let Some(site) = site {
        client = client.with_expected_site(site);
    }

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    println!("Scanning with {}/v1/scan …", args.api.trim_end_matches('/'));
    let scanned = runtime.block_on(client.scan(&text))?;
    println!("\n{}", qrlogin_phone::describe_requester(&scanned));

    let decision = match decision {
        Some(decision) => decision,
        None => ask()?,
    };
    // Number matching: only someone looking at the browser being logged in can read its number.
    let check_code = match (decision, scanned.check_code_required) {
        (Decision::Confirm, true) => Some(match args.check_code.clone() {
            Some(code) => code,
            None => prompt("Type the number the browser shows: ")?,
        }),
        _ => None,
    };
    let (uuid, verification) = (&scanned.link.uuid, &scanned.link.verification);
    runtime.block_on(client.decide(decision, uuid, verification, check_code.as_deref()))?;
    match decision {
        Decision::Confirm => println!(
            "Approved: the browser that showed this QR is logged in on its next poll, unless it cancels first \
             (`qrlogin-phone status {uuid}` tells)."
        ),
        Decision::Deny => println!("Denied: the browser that showed this QR is told the login was refused."),
    }
    Ok(())
}

/// `--token`, else a development token minted for `--user`, else `$QRL_PHONE_TOKEN`.
fn user_token(token: Option<String>, user: Option<&str>) -> Result<String, Error> {
    Ok(match (token, user) {
        (Some(token), _) => token,
        (None, Some(user)) => {
            println!("Minting a development token for {user}.");
            mint(user, SCAN_TOKEN_TTL)?
        }
        (None, None) => std::env::var("QRL_PHONE_TOKEN")
            .map_err(|_| "no user token: pass --token <token>, set QRL_PHONE_TOKEN, or use --user <id> locally")?,
    })
}

fn status(args: StatusArgs) -> Result<(), Error> {
    let client = account_client(args.account)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let status = runtime.block_on(client.await_outcome(args.uuid.trim(), Duration::from_secs(args.wait)))?;
    println!("{}: {}", status.as_str(), qrlogin_phone::describe_outcome(status));
    Ok(())
}

fn sessions(args: SessionsArgs) -> Result<(), Error> {
    let client = account_client(args.account)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let sessions = runtime.block_on(client.sessions())?;
    if sessions.is_empty() {
        println!("no web sessions: this user is logged in nowhere");
    }
    for s in sessions {
        let place = s.location.map(|l| l.city.map_or(l.country.clone(), |c| format!("{c}, {}", l.country)));
        let latest = if s.current_login { "  (latest login)" } else { "" };
        println!(
            "{}  {} on {}, {}; since {}, last seen {}{latest}",
            s.sid,
            s.browser,
            s.os,
            place.as_deref().unwrap_or("location unknown"),
            s.created_at,
            s.last_seen
        );
    }
    Ok(())
}

fn end(args: EndArgs) -> Result<(), Error> {
    let client = account_client(args.account)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let sid = args.sid.as_deref().map(str::trim).filter(|_| !args.all);
    runtime.block_on(client.end_sessions(sid))?;
    println!("{}", if sid.is_some() { "logged out: that browser's session is ended" } else { "logged out everywhere" });
    Ok(())
}

fn account_client(account: Account) -> Result<PhoneClient, Error> {
    let token = user_token(account.token, account.user.as_deref())?;
    Ok(PhoneClient::new(&account.api, token)?)
}

/// Asks on the terminal; anything but yes (an empty line, end of input) is no.
fn ask() -> Result<Decision, Error> {
    Ok(match prompt("Approve this login? [y/N] ")?.to_ascii_lowercase().as_str() {
        "y" | "yes" => Decision::Confirm,
        _ => Decision::Deny,
    })
}

/// One line from the terminal, trimmed.
fn prompt(question: &str) -> Result<String, Error> {
    print!("{question}");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim().to_owned())
}
