//! The binary as operators meet it: `--version`, `--help`, `check-config`, and a start that fails, each in a
//! clean environment. No secret of the environment is ever printed.

use std::time::Duration;

use mobile_api::config::env_groups;
use qrlogin_shared::test_support::bin::{Ran, assert_help_lists, dev_env_with, run};

const BIN: &str = env!("CARGO_BIN_EXE_mobile-api");
const LIMIT: Duration = Duration::from_secs(20);
/// Seed nodes with a password: it must never be printed.
const CLUSTER: &str = "redis://:redis-password-must-not-show@127.0.0.1:7001,redis://127.0.0.1:7002";
/// Too short to be accepted, and never to be printed either.
const SHORT_SECRET: &str = "short-user-token-secret";

fn mobile_api(args: &[&str], changes: &[(&str, Option<&str>)]) -> Ran {
    let changes = [&[("QRL_REDIS_CLUSTER_NODES", Some(CLUSTER))][..], changes].concat();
    run(BIN, args, &dev_env_with(&changes), LIMIT)
}

/// Nothing secret of deploy/dev.env or of the Redis URLs shows in `out`.
fn assert_no_secret(out: &str) {
    let secrets = [
        "dev-only-not-secret-0123456789abcdef0123456789",
        "dev-only-user-token-secret-0123456789abcdef",
        "redis-password-must-not-show",
        SHORT_SECRET,
    ];
    for secret in secrets {
        assert!(!out.contains(secret), "a secret is printed:\n{out}");
    }
}

#[test]
fn version_prints_the_crate_version() {
    let ran = mobile_api(&["--version"], &[]);

    assert_eq!(ran.code, Some(0));
    assert_eq!(ran.stdout.trim(), format!("mobile-api {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn help_says_what_it_is_and_lists_every_variable_required_ones_marked() {
    let ran = mobile_api(&["--help"], &[]);

    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(ran.stdout.contains("qrlogin mobile API"), "{}", ran.stdout);
    assert!(ran.stdout.contains("check-config"), "{}", ran.stdout);
    assert_help_lists(&ran.stdout, &env_groups());
    assert_no_secret(&ran.output());
}

#[test]
fn check_config_accepts_the_development_settings_and_prints_no_secret() {
    let ran = mobile_api(&["check-config"], &[]);

    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(ran.stdout.contains("the configuration is valid"), "{}", ran.stdout);
    assert!(ran.stdout.contains("cluster, seed nodes 127.0.0.1:7001, 127.0.0.1:7002"), "{}", ran.stdout);
    assert!(ran.stdout.contains("HS256 with a shared secret"), "{}", ran.stdout);
    assert_no_secret(&ran.output());
}

#[test]
fn check_config_lists_every_problem_and_exits_2() {
    let problems = [
        ("QRL_USER_JWT_ISSUER", None),
        ("QRL_RISK_FAR_KM", Some("far")),
        ("QRL_USER_JWT_SECRET", Some(SHORT_SECRET)),
        ("QRL_GEOIP_CITY_DB", Some("/nonexistent/city.mmdb")),
    ];

    let ran = mobile_api(&["check-config"], &problems);

    assert_eq!(ran.code, Some(2), "{}", ran.output());
    let lines: Vec<&str> = ran.stderr.lines().collect();
    let expected = [
        "mobile-api: QRL_USER_JWT_SECRET is invalid: must be at least 32 bytes",
        "mobile-api: QRL_USER_JWT_ISSUER is required (development values: deploy/dev.env)",
        "mobile-api: QRL_RISK_FAR_KM is invalid: invalid float literal",
        "mobile-api: QRL_GEOIP_CITY_DB is invalid: cannot read /nonexistent/city.mmdb: No such file or directory",
        "mobile-api: the configuration has 4 problem(s)",
    ];
    assert_eq!(lines.len(), expected.len(), "{}", ran.stderr);
    for (line, expected) in lines.iter().zip(expected) {
        assert!(line.starts_with(expected), "{line}\nis not\n{expected}");
    }
    assert_no_secret(&ran.output());
}

#[test]
fn check_config_loads_the_key_and_the_city_database_it_names() {
    let ran = mobile_api(
        &["check-config"],
        &[
            ("QRL_USER_JWT_ALG", Some("ES256")),
            ("QRL_USER_JWT_SECRET", None),
            ("QRL_USER_JWT_PUBLIC_KEY_PEM", Some("not a key")),
            ("QRL_GEOIP_CITY_DB", Some("README.md")),
        ],
    );

    assert_eq!(ran.code, Some(2), "{}", ran.output());
    assert!(ran.stderr.contains("QRL_USER_JWT_PUBLIC_KEY_PEM does not hold a key"), "{}", ran.stderr);
    assert!(ran.stderr.contains("cannot read the city database README.md"), "{}", ran.stderr);
}

#[test]
fn a_start_with_a_missing_variable_says_so_in_plain_words_and_exits_2() {
    let ran = mobile_api(&[], &[("QRL_USER_JWT_AUDIENCE", None)]);

    assert_eq!(ran.code, Some(2), "{}", ran.output());
    assert_eq!(
        ran.stderr.trim(),
        "mobile-api: cannot start: QRL_USER_JWT_AUDIENCE is required (development values: deploy/dev.env)"
    );
    assert!(!ran.output().contains("Missing("), "{}", ran.output());
}
