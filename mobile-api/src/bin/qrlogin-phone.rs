//! The reference phone client: does what the qrlogin app does, from a terminal. Reads the login QR from a
//! picture (a screenshot of the login page works) or from its text, scans it with the user's token, shows where
//! the login comes from and approves or denies it. Also mints development user tokens for the local stack.
//! The work is in `mobile_api::phone`; this file only parses arguments, prints and asks.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use mobile_api::config::UserJwtSettings;
use mobile_api::dev_token;
use mobile_api::phone::{self, PhoneClient, PhoneError};
use qrlogin_shared::config::Env;
use qrlogin_shared::qr_link::QrBaseUrl;

const USAGE: &str = "\
usage:
  qrlogin-phone scan (<picture.png|picture.jpg> | --text <qr text>) [--api <url>] [--site <url>]
                     [--token <token> | --user <id>] [--approve | --deny]
  qrlogin-phone dev-token --user <id> [--ttl-secs <n>]

scan       reads the login QR (a PNG or JPEG, e.g. a screenshot of the login page, or the QR's text), sends
           it to mobile-api's /v1/scan, shows where the login comes from, asks \"Approve this login? [y/N]\"
           and calls /v1/confirm or /v1/deny.
  --api      mobile-api's base URL (default http://127.0.0.1:8081)
  --site     the site QR links must be for (default $QRL_QR_BASE_URL); links for any other site are refused
  --token    the user's token (default $QRL_PHONE_TOKEN)
  --user     instead, mint a development token for this user (as dev-token does)
  --approve, --deny   decide without asking
dev-token  prints a user token for the local stack; needs the development HS256 settings of mobile-api
           (QRL_USER_JWT_ALG=HS256, QRL_USER_JWT_SECRET, _ISSUER, _AUDIENCE: `set -a; . deploy/dev.env`)";

const DEFAULT_API: &str = "http://127.0.0.1:8081";
/// Lifetime of the token `scan --user` mints: one login's worth.
const SCAN_TOKEN_TTL: Duration = Duration::from_secs(300);

type Error = Box<dyn std::error::Error>;

enum Outcome {
    Done,
    Usage(String),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let result = match args.first().map(String::as_str) {
        Some("scan") => scan(rest),
        Some("dev-token") => dev_token(rest),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Ok(Outcome::Usage("expected a command".to_owned())),
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Usage(problem)) => {
            eprintln!("qrlogin-phone: {problem}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("qrlogin-phone: {}", with_causes(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// The message and every cause under it, the way a user needs it ("… : Connection refused").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        message = format!("{message}: {c}");
        cause = c.source();
    }
    message
}

fn dev_token(args: &[String]) -> Result<Outcome, Error> {
    let mut user = None;
    let mut ttl = 3600;
    for pair in args.chunks(2) {
        match pair {
            [flag, value] if flag == "--user" => user = Some(value.clone()),
            [flag, value] if flag == "--ttl-secs" => {
                ttl = value.parse().map_err(|e| format!("--ttl-secs {value:?}: {e}"))?;
            }
            _ => return Ok(Outcome::Usage(format!("dev-token: unexpected {:?}", pair.join(" ")))),
        }
    }
    let Some(user) = user else { return Ok(Outcome::Usage("dev-token needs --user <id>".to_owned())) };
    println!("{}", mint(&user, Duration::from_secs(ttl))?);
    Ok(Outcome::Done)
}

fn mint(user: &str, ttl: Duration) -> Result<String, Error> {
    let settings = UserJwtSettings::from_env(&Env::from_process())?;
    Ok(dev_token::mint(&settings, user, ttl)?)
}

enum Source {
    Picture(String),
    Text(String),
}

enum Decision {
    Approve,
    Deny,
}

struct ScanArgs {
    source: Source,
    api: String,
    site: Option<String>,
    token: Option<String>,
    user: Option<String>,
    decision: Option<Decision>,
}

fn parse_scan(args: &[String]) -> Result<ScanArgs, String> {
    let (mut source, mut api, mut site, mut token, mut user, mut decision) = (None, None, None, None, None, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().cloned().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--text" => set_once(&mut source, Source::Text(value("--text")?), "the QR")?,
            "--api" => set_once(&mut api, value("--api")?, "--api")?,
            "--site" => set_once(&mut site, value("--site")?, "--site")?,
            "--token" => set_once(&mut token, value("--token")?, "--token")?,
            "--user" => set_once(&mut user, value("--user")?, "--user")?,
            "--approve" => set_once(&mut decision, Decision::Approve, "--approve/--deny")?,
            "--deny" => set_once(&mut decision, Decision::Deny, "--approve/--deny")?,
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path => set_once(&mut source, Source::Picture(path.to_owned()), "the QR")?,
        }
    }
    if token.is_some() && user.is_some() {
        return Err("give --token or --user, not both".to_owned());
    }
    let source = source.ok_or("scan needs a picture file or --text <qr text>")?;
    Ok(ScanArgs { source, api: api.unwrap_or_else(|| DEFAULT_API.to_owned()), site, token, user, decision })
}

fn set_once<T>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), String> {
    match slot.replace(value) {
        Some(_) => Err(format!("{name} given twice")),
        None => Ok(()),
    }
}

fn scan(args: &[String]) -> Result<Outcome, Error> {
    let args = match parse_scan(args) {
        Ok(args) => args,
        Err(problem) => return Ok(Outcome::Usage(problem)),
    };
    let text = match &args.source {
        Source::Text(text) => text.clone(),
        Source::Picture(path) => {
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
            phone::decode_qr_image(&bytes).map_err(|e| format!("{path}: {}", with_causes(&e)))?
        }
    };
    let token = match (args.token, args.user) {
        (Some(token), _) => token,
        (None, Some(user)) => {
            println!("Minting a development token for {user}.");
            mint(&user, SCAN_TOKEN_TTL)?
        }
        (None, None) => std::env::var("QRL_PHONE_TOKEN")
            .map_err(|_| "no user token: pass --token <token>, set QRL_PHONE_TOKEN, or use --user <id> locally")?,
    };
    let site = match args.site.or_else(|| std::env::var("QRL_QR_BASE_URL").ok()) {
        Some(site) => Some(QrBaseUrl::parse(&site).map_err(|e| format!("--site {site:?}: {e}"))?),
        None => None,
    };
    // Checked here first only to say what was read; the client checks again before any call.
    let link = phone::split_link(&text, site.as_ref()).map_err(|e| match e {
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
    println!("\n{}", phone::describe_requester(&scanned));

    let decision = match args.decision {
        Some(decision) => decision,
        None => ask()?,
    };
    let (uuid, verification) = (&scanned.link.uuid, &scanned.link.verification);
    match decision {
        Decision::Approve => {
            runtime.block_on(client.confirm(uuid, verification))?;
            println!("Approved: the browser that showed this QR is logged in on its next poll.");
        }
        Decision::Deny => {
            runtime.block_on(client.deny(uuid, verification))?;
            println!("Denied: the browser that showed this QR is told the login was refused.");
        }
    }
    Ok(Outcome::Done)
}

/// Asks on the terminal; anything but yes (an empty line, end of input) is no.
fn ask() -> Result<Decision, Error> {
    print!("Approve this login? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Decision::Approve,
        _ => Decision::Deny,
    })
}
