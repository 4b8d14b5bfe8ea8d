//! The binary as operators meet it: `--version`, `--help`, `check-config`, and a start that fails, each in a
//! clean environment. No secret of the environment is ever printed.

use std::net::TcpListener;
use std::time::Duration;

use qrlogin_shared::test_support::bin::{Ran, assert_help_lists, dev_env_with, run};
use web_gateway::config::env_groups;

const BIN: &str = env!("CARGO_BIN_EXE_web-gateway");
const LIMIT: Duration = Duration::from_secs(20);
/// A Redis URL with a password: it must never be printed.
const REDIS_URL: &str = "redis://:redis-password-must-not-show@127.0.0.1:6399";

fn web_gateway(args: &[&str], changes: &[(&str, Option<&str>)]) -> Ran {
    let changes = [&[("REDIS_URL", Some(REDIS_URL))][..], changes].concat();
    run(BIN, args, &dev_env_with(&changes), LIMIT)
}

/// Nothing secret of deploy/dev.env, of the Redis URL or of the key file shows in `out`.
fn assert_no_secret(out: &str) {
    let pem = std::fs::read_to_string(web_gateway::test_support::WEB_KEY_PEM_FILE).unwrap();
    let key_line = pem.lines().nth(1).unwrap();
    for secret in ["dev-only-not-secret-0123456789abcdef0123456789", "redis-password-must-not-show", key_line] {
        assert!(!out.contains(secret), "a secret is printed:\n{out}");
    }
}

#[test]
fn version_prints_the_crate_version() {
    let ran = web_gateway(&["--version"], &[]);

    assert_eq!(ran.code, Some(0));
    assert_eq!(ran.stdout.trim(), format!("web-gateway {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn help_says_what_it_is_and_lists_every_variable_required_ones_marked() {
    let ran = web_gateway(&["--help"], &[]);

    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(ran.stdout.contains("qrlogin web gateway"), "{}", ran.stdout);
    assert!(ran.stdout.contains("check-config"), "{}", ran.stdout);
    assert_help_lists(&ran.stdout, &env_groups());
    assert_no_secret(&ran.output());
}

#[test]
fn check_config_accepts_the_development_settings_and_prints_no_secret() {
    let ran = web_gateway(&["check-config"], &[]);

    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(ran.stdout.contains("the configuration is valid"), "{}", ran.stdout);
    assert!(ran.stdout.contains("single node 127.0.0.1:6399"), "{}", ran.stdout);
    assert!(ran.stdout.contains("users.json"), "{}", ran.stdout);
    assert_no_secret(&ran.output());
}

#[test]
fn check_config_lists_every_problem_and_exits_2() {
    let problems = [
        ("QRL_QR_BASE_URL", None),
        ("QRL_REDIS_POOL_SIZE", Some("lots")),
        ("QRL_WEB_JWT_PRIVATE_KEY_FILE", Some("/nonexistent/web-key.pem")),
        ("QRL_USER_DIRECTORY_FILE", None),
    ];

    let ran = web_gateway(&["check-config"], &problems);

    assert_eq!(ran.code, Some(2), "{}", ran.output());
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(lines.len(), 5, "{}", ran.stderr);
    assert!(lines[0].starts_with("web-gateway: QRL_REDIS_POOL_SIZE is invalid"), "{}", ran.stderr);
    assert!(lines[1].starts_with("web-gateway: QRL_QR_BASE_URL is required"), "{}", ran.stderr);
    assert!(
        lines[2].starts_with("web-gateway: QRL_WEB_JWT_PRIVATE_KEY_FILE is invalid: cannot read"),
        "{}",
        ran.stderr
    );
    assert!(lines[3].starts_with("web-gateway: QRL_USER_DIRECTORY_URL or QRL_USER_DIRECTORY_FILE is required"));
    assert_eq!(lines[4], "web-gateway: the configuration has 4 problem(s)");
    assert!(!ran.stderr.contains("lots"), "values are not echoed: {}", ran.stderr);
    assert_no_secret(&ran.output());
}

#[test]
fn check_config_loads_the_key_and_the_directory_it_names() {
    let readme = "README.md";
    let ran = web_gateway(
        &["check-config"],
        &[("QRL_WEB_JWT_PRIVATE_KEY_FILE", Some(readme)), ("QRL_USER_DIRECTORY_FILE", Some(readme))],
    );

    assert_eq!(ran.code, Some(2), "{}", ran.output());
    assert!(ran.stderr.contains("is not a PKCS#8 PEM P-256 private key"), "{}", ran.stderr);
    assert!(ran.stderr.contains("is not a JSON object of profiles"), "{}", ran.stderr);
}

#[test]
fn a_start_with_a_missing_variable_says_so_in_plain_words_and_exits_2() {
    let ran = web_gateway(&[], &[("QRL_SIGNING_SECRET", None)]);

    assert_eq!(ran.code, Some(2), "{}", ran.output());
    assert_eq!(
        ran.stderr.trim(),
        "web-gateway: cannot start: QRL_SIGNING_SECRET is required (development values: deploy/dev.env)"
    );
    assert!(!ran.output().contains("Missing("), "{}", ran.output());
}

#[test]
fn a_start_on_a_taken_port_names_the_address_and_exits_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();

    let ran = web_gateway(&["serve"], &[("QRL_LISTEN_ADDR", Some(&addr))]);

    assert_eq!(ran.code, Some(1), "{}", ran.output());
    assert!(ran.stderr.contains(&format!("web-gateway: cannot start: cannot listen on {addr}: ")), "{}", ran.stderr);
    assert_no_secret(&ran.output());
}

#[test]
fn an_unsupported_trace_exporter_is_a_configuration_problem_for_check_config_and_start() {
    for args in [&["check-config"][..], &[]] {
        let ran =
            web_gateway(args, &[("OTEL_EXPORTER_OTLP_PROTOCOL", Some("grpc")), ("OTEL_TRACES_EXPORTER", Some("otlp"))]);

        assert_eq!(ran.code, Some(2), "{args:?}: {}", ran.output());
        assert!(ran.stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\" is not supported"), "{}", ran.stderr);
    }
}
