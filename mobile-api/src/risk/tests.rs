#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::path::PathBuf;

use super::*;

/// The committed test database (`tests/geo/make-city-db.py` says what is in it).
pub fn test_db() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/geo/city-test.mmdb"))
}

fn judge() -> RiskJudge {
    RiskJudge { geo: GeoDb::open(&test_db()).unwrap(), far_km: 500.0, device_memory: Duration::from_secs(86_400) }
}

fn requester(ip: &str, ua: &str) -> Requester {
    Requester { ip: ip.into(), user_agent: ua.into(), created_at: "2026-01-01T00:00:00Z".into() }
}

const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

#[test]
fn the_test_database_locates_documentation_addresses() {
    let geo = GeoDb::open(&test_db()).unwrap();
    let berlin = geo.locate("192.0.2.7".parse().unwrap()).unwrap();
    assert_eq!((berlin.location.country.as_str(), berlin.location.city.as_deref()), ("DE", Some("Berlin")));
    assert!(berlin.coordinates.is_some());
    let france = geo.locate("2001:db8:2::1".parse().unwrap()).unwrap();
    assert_eq!((france.location.city, france.coordinates), (None, None));
    assert_eq!(geo.locate("198.51.100.200".parse().unwrap()), None);
    assert_eq!(geo.locate("::ffff:192.0.2.7".parse().unwrap()).map(|p| p.location.country), Some("DE".into()));
    assert_eq!(GeoDb::none().locate("192.0.2.7".parse().unwrap()), None);
    assert!(GeoDb::open(std::path::Path::new("/nonexistent/city.mmdb")).is_err());
}

#[test]
fn another_country_is_high_and_names_the_signal() {
    let judged = judge().judge_known(&requester("203.0.113.9", CHROME), "192.0.2.50", true);
    assert_eq!(judged.risk.level, RiskLevel::High);
    assert_eq!(judged.risk.signals, [Signal::FarFromPhone]);
    assert_eq!(judged.requester.browser, "Chrome 131");
    assert_eq!(judged.requester.os, "Linux");
    assert_eq!(judged.requester.location.unwrap().city.as_deref(), Some("New York"));
}

#[test]
fn distance_counts_within_a_country() {
    // Freiburg is about 640 km from Berlin, Hamburg about 255 km.
    assert_eq!(
        judge().judge_known(&requester("2001:db8:1::5", CHROME), "192.0.2.50", true).risk.level,
        RiskLevel::High
    );
    let near = judge().judge_known(&requester("198.51.100.9", CHROME), "192.0.2.50", true);
    assert_eq!((near.risk.level, near.risk.signals), (RiskLevel::Low, vec![]));
    let d = distance_km((52.52, 13.405), (53.55, 9.993));
    assert!((250.0..260.0).contains(&d), "{d}");
}

#[test]
fn a_new_device_or_an_unlocated_browser_is_medium_unless_in_the_phones_network() {
    let new = judge().judge_known(&requester("198.51.100.9", CHROME), "192.0.2.50", false);
    assert_eq!((new.risk.level, new.risk.signals), (RiskLevel::Medium, vec![Signal::NewDevice]));

    let unlocated = judge().judge_known(&requester("198.51.100.200", CHROME), "192.0.2.50", true);
    assert_eq!(unlocated.risk.level, RiskLevel::Medium);
    assert_eq!(unlocated.risk.signals, [Signal::NoLocation]);
    assert_eq!(unlocated.requester.location, None);

    let home = judge().judge_known(&requester("198.51.100.200", CHROME), "198.51.100.201", false);
    assert_eq!(home.risk.level, RiskLevel::Low);
    assert_eq!(
        home.risk.signals,
        [Signal::SameNetwork, Signal::NoLocation, Signal::PhoneNotLocated, Signal::NewDevice]
    );
}

#[test]
fn a_forged_user_agent_is_cleaned_and_names_no_browser() {
    let forged = "Safari \u{2014} your Mac, home Wi-Fi, Berlin \u{2705} verified by app\u{202E}ppa\u{202C}\r\n";
    let judged = judge().judge_known(&requester("198.51.100.9", forged), "192.0.2.50", true);
    assert_eq!(judged.requester.browser, "unknown");
    assert!(!judged.requester.user_agent.contains('\u{202E}'));
    assert!(!judged.requester.user_agent.contains('\n'));
    assert_eq!((judged.risk.level, judged.risk.signals), (RiskLevel::Medium, vec![Signal::UnknownBrowser]));
}

#[test]
fn networks_are_compared_by_slash_24_and_slash_48() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(same_network(ip("192.0.2.1"), ip("192.0.2.254")));
    assert!(!same_network(ip("192.0.2.1"), ip("192.0.3.1")));
    assert!(same_network(ip("2001:db8:1:aa::1"), ip("2001:db8:1:bb::2")));
    assert!(!same_network(ip("2001:db8:1::1"), ip("2001:db8:2::1")));
    assert!(same_network(ip("::ffff:192.0.2.1"), ip("192.0.2.9")));
    assert!(!same_network(ip("192.0.2.1"), ip("2001:db8::1")));
}

#[test]
fn without_a_database_every_login_is_unlocated() {
    let judge = RiskJudge { geo: GeoDb::none(), far_km: 500.0, device_memory: Duration::from_secs(1) };
    let judged = judge.judge_known(&requester("192.0.2.1", CHROME), "203.0.113.1", true);
    assert_eq!(judged.risk.signals, [Signal::NoLocation, Signal::PhoneNotLocated]);
    assert_eq!(judged.risk.level, RiskLevel::Medium);
}
