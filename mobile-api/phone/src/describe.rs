//! What the user sees before approving: where the login comes from, in words, with warnings. This is the
//! defence against a relayed QR (README "Security"): a user who reads "Firefox on Windows, 5 min ago" while
//! sitting at a Mac they just opened should deny.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use qrlogin_shared::requester::sanitize_user_agent;
use qrlogin_shared::session::{RiskLevel, Signal};

use crate::ScanResult;

/// A login page opened longer ago than this was probably not opened by the user just now.
const STALE_AFTER: Duration = Duration::from_secs(60);

/// Something the user should weigh before approving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// The login was requested this long ago: not a page the user just opened.
    Stale(Duration),
    /// The request time could not be read, so its age is unknown.
    UnknownTime,
    /// The QR link's site was not compared with the app's own (no expected site configured).
    UncheckedSite(String),
    /// The server judged the login medium or high risk (see the signals).
    Risky(RiskLevel),
}

impl ScanResult {
    /// The warnings for this login, judged at `now`.
    pub fn warnings(&self, now: SystemTime) -> Vec<Warning> {
        let mut warnings = Vec::new();
        match age(&self.requester.created_at, now) {
            Some(age) if age > STALE_AFTER => warnings.push(Warning::Stale(age)),
            Some(_) => {}
            None => warnings.push(Warning::UnknownTime),
        }
        if !self.site_checked {
            warnings.push(Warning::UncheckedSite(self.link.site.clone()));
        }
        if self.risk.level > RiskLevel::Low {
            warnings.push(Warning::Risky(self.risk.level));
        }
        warnings
    }
}

/// [`describe_requester_at`] now.
pub fn describe_requester(scan: &ScanResult) -> String {
    describe_requester_at(scan, SystemTime::now())
}

/// Several lines for the user: the site, the risk with its reasons, the browser and OS (as the server parsed
/// them), where it is, whether it logged in as this user before, how long ago it asked, the time left, and every
/// [`Warning`] as a line starting with `WARNING:`. The browser's own `User-Agent` is shown only cleaned and
/// quoted, as its unverified words: a forged one cannot pass for what the server found.
pub fn describe_requester_at(scan: &ScanResult, now: SystemTime) -> String {
    let r = &scan.requester;
    let mut out = String::new();
    let when = match age(&r.created_at, now) {
        Some(age) => format!("{} ago ({})", human(age), r.created_at),
        None => format!("at an unknown time ({:?})", r.created_at),
    };
    let place = match &r.location {
        Some(l) => {
            format!("{}{} (IP {})", l.city.as_ref().map(|c| format!("{c}, ")).unwrap_or_default(), l.country, r.ip)
        }
        None => format!("unknown location (IP {})", r.ip),
    };
    let device =
        if r.known_device { "this browser logged in as you before" } else { "a browser that never logged in as you" };
    // Writing to a String cannot fail.
    let _ = writeln!(out, "Login request for {}", scan.link.site);
    let _ = writeln!(out, "  risk:      {}", scan.risk.level.as_str().to_uppercase());
    for signal in &scan.risk.signals {
        let _ = writeln!(out, "             - {}", in_words(*signal));
    }
    let _ = writeln!(out, "  browser:   {} on {}", r.browser, r.os);
    let _ = writeln!(out, "  from:      {place}");
    let _ = writeln!(out, "  device:    {device}");
    let _ = writeln!(out, "  requested: {when}");
    let _ = writeln!(out, "  decide within {}", human(Duration::from_secs(scan.expires_in)));
    let _ = writeln!(
        out,
        "  (the browser calls itself {:?}: its own words, not checked)",
        sanitize_user_agent(&r.user_agent)
    );
    for warning in scan.warnings(now) {
        let _ = match warning {
            Warning::Stale(age) => writeln!(
                out,
                "WARNING: this login was requested {} ago; if you did not just open the login page yourself, deny it",
                human(age)
            ),
            Warning::UnknownTime => writeln!(out, "WARNING: the time of this request is unknown"),
            Warning::UncheckedSite(site) => writeln!(
                out,
                "WARNING: the site {site} was not checked against this app's own site; deny unless you know it"
            ),
            Warning::Risky(RiskLevel::High) => writeln!(
                out,
                "WARNING: HIGH RISK: this login does not come from where you are; someone may have sent you their \
                 QR code. Deny it unless you are sure the browser is yours"
            ),
            Warning::Risky(_) => {
                writeln!(out, "WARNING: check that the browser, place and device above are yours before you approve")
            }
        };
    }
    out
}

/// A risk signal as the user reads it.
pub fn in_words(signal: Signal) -> &'static str {
    match signal {
        Signal::FarFromPhone => "the browser is far from this phone (another country, or far away)",
        Signal::SameNetwork => "the browser is on the same network as this phone",
        Signal::NewDevice => "this browser never logged in as you",
        Signal::NoLocation => "the browser's location is unknown",
        Signal::PhoneNotLocated => "this phone's location is unknown, so the distance was not checked",
        Signal::UnknownBrowser => "the browser does not say which browser it is",
    }
}

/// A short description of a browser from its user agent, e.g. "Chrome 120 on Linux". A heuristic for showing
/// the user, not for any decision: user agents are chosen by the client and can lie.
pub fn browser_summary(user_agent: &str) -> String {
    // Order matters: Chromium-based browsers also say "Chrome/" and "Safari/", and iOS says "like Mac OS X".
    const BROWSERS: [(&str, &str); 10] = [
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("EdgiOS/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("curl/", "curl"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    let version = |token: &str| {
        user_agent.split_once(token).map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).collect::<String>())
    };
    let browser = BROWSERS
        .iter()
        .find_map(|(token, name)| version(token).map(|v| (*name, v)))
        .or_else(|| user_agent.contains("Safari/").then(|| ("Safari", version("Version/").unwrap_or_default())));
    let browser = match browser {
        Some((name, v)) if v.is_empty() => name.to_owned(),
        Some((name, v)) => format!("{name} {v}"),
        None => "unknown browser".to_owned(),
    };
    match SYSTEMS.iter().find(|(token, _)| user_agent.contains(token)) {
        Some((_, system)) => format!("{browser} on {system}"),
        None => browser,
    }
}

/// How long before `now` an RFC 3339 time was; a time in the future (clock skew) counts as just now.
fn age(rfc3339: &str, now: SystemTime) -> Option<Duration> {
    let then = OffsetDateTime::parse(rfc3339, &Rfc3339).ok()?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let then = u64::try_from(then.unix_timestamp()).ok()?;
    Some(Duration::from_secs(now.saturating_sub(then)))
}

/// "5 s", "3 min", "2 h 5 min", "3 days".
fn human(d: Duration) -> String {
    match d.as_secs() {
        s @ 0..60 => format!("{s} s"),
        s @ 60..3600 => format!("{} min", s / 60),
        s @ 3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;
    use crate::{Location, QrLink, RequesterDetails, Risk};

    #[test]
    fn common_browsers_are_named_with_their_major_version_and_system() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                "Chrome 120 on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/121.0.0.0 Safari/537.36 Edg/121.0.2277.83",
                "Edge 121 on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:122.0) Gecko/20100101 Firefox/122.0",
                "Firefox 122 on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                 Version/17.2 Mobile/15E148 Safari/604.1",
                "Safari 17 on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/120.0.6099.144 Mobile Safari/537.36",
                "Chrome 120 on Android",
            ),
            ("curl/8.5.0", "curl 8"),
            ("", "unknown browser"),
            ("Mozilla/5.0 (X11; Linux x86_64) qrlogin-test", "unknown browser on Linux"),
        ];
        for (ua, expected) in cases {
            assert_eq!(browser_summary(ua), expected, "{ua}");
        }
    }

    fn scan(created_at: &str, site_checked: bool) -> ScanResult {
        ScanResult {
            uuid: "u".to_owned(),
            requester: RequesterDetails {
                ip: "198.51.100.4".to_owned(),
                user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0".to_owned(),
                created_at: created_at.to_owned(),
                browser: "Firefox 128".to_owned(),
                os: "Linux".to_owned(),
                location: Some(Location { country: "DE".to_owned(), city: Some("Hamburg".to_owned()) }),
                known_device: true,
            },
            risk: Risk { level: RiskLevel::Low, signals: vec![] },
            expires_in: 250,
            link: QrLink {
                site: "https://login.example.com".to_owned(),
                uuid: "u".to_owned(),
                verification: "v".into(),
            },
            site_checked,
            check_code_required: false,
        }
    }

    fn at(rfc3339: &str) -> SystemTime {
        let t = OffsetDateTime::parse(rfc3339, &Rfc3339).unwrap();
        UNIX_EPOCH + Duration::from_secs(u64::try_from(t.unix_timestamp()).unwrap())
    }

    #[test]
    fn a_fresh_request_on_a_checked_site_has_no_warning() {
        let s = scan("2025-06-01T12:00:00Z", true);

        let text = describe_requester_at(&s, at("2025-06-01T12:00:12Z"));

        assert!(s.warnings(at("2025-06-01T12:00:12Z")).is_empty());
        assert!(text.contains("198.51.100.4") && text.contains("Firefox 128 on Linux"), "{text}");
        assert!(text.contains("Hamburg, DE") && text.contains("logged in as you before"), "{text}");
        assert!(text.contains("12 s ago") && text.contains("4 min"), "{text}");
        assert!(!text.contains("WARNING"), "{text}");
    }

    #[test]
    fn old_unknown_and_unchecked_requests_are_warned_about() {
        let now = at("2025-06-01T12:05:00Z");

        assert_eq!(scan("2025-06-01T12:00:00Z", true).warnings(now), [Warning::Stale(Duration::from_secs(300))]);
        assert_eq!(
            scan("yesterday", false).warnings(now),
            [Warning::UnknownTime, Warning::UncheckedSite("https://login.example.com".to_owned())]
        );
        let text = describe_requester_at(&scan("2025-06-01T12:00:00Z", true), now);
        assert!(text.contains("WARNING: this login was requested 5 min ago"), "{text}");
    }

    #[test]
    fn a_forged_user_agent_is_never_shown_as_what_the_server_found() {
        let forged = "Safari \u{2014} your Mac, home Wi-Fi, Berlin \u{2705} verified by app\u{202E}\r\n";
        let mut s = scan("2025-06-01T12:00:00Z", true);
        s.requester.user_agent = forged.to_owned();
        s.requester.browser = "unknown".to_owned();
        s.requester.os = "unknown".to_owned();
        s.requester.location = None;
        s.requester.known_device = false;
        s.risk = Risk { level: RiskLevel::High, signals: vec![Signal::FarFromPhone, Signal::NewDevice] };

        let text = describe_requester_at(&s, at("2025-06-01T12:00:05Z"));

        assert!(!text.contains(forged) && !text.contains('\u{202E}') && !text.contains('\r'), "{text}");
        assert!(text.contains("browser:   unknown on unknown"), "{text}");
        assert!(!text.lines().any(|l| l.trim_start().starts_with("Safari")), "{text}");
        assert!(text.contains("risk:      HIGH") && text.contains("far from this phone"), "{text}");
        assert!(text.contains("never logged in as you") && text.contains("unknown location"), "{text}");
        assert!(text.contains("WARNING: HIGH RISK"), "{text}");
    }
}
