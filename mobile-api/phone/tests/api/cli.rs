//! The `qrlogin-phone` binary end to end: a screenshot file in, a confirmed (or denied) session out.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use qrlogin_shared::UserId;
use qrlogin_shared::store::PollOutcome;

use crate::client::{png, screenshot_with_qr};
use crate::helpers::{AUDIENCE, ISSUER, JWT_SECRET, TestApp, spawn_app, token_for};

const BIN: &str = env!("CARGO_BIN_EXE_qrlogin-phone");

/// Runs the binary with `args`, `stdin` as its input and the test's development token settings, without the
/// caller's QRL_* environment (deploy/dev.env may be loaded in the shell that runs the tests).
async fn run(args: Vec<String>, stdin: &'static str) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(BIN);
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("QRL_")) {
            cmd.env_remove(name);
        }
        let mut child = cmd
            .args(args)
            .env("QRL_USER_JWT_ALG", "HS256")
            .env("QRL_USER_JWT_SECRET", JWT_SECRET)
            .env("QRL_USER_JWT_ISSUER", ISSUER)
            .env("QRL_USER_JWT_AUDIENCE", AUDIENCE)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|&a| a.to_owned()).collect()
}

fn common(app: &TestApp) -> Vec<String> {
    args(&["--api", &app.address, "--site", app.base.as_str()])
}

fn text(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test]
async fn scan_of_a_screenshot_with_approve_confirms_the_login() {
    // Arrange
    let app = spawn_app().await;
    let session = app.new_session().await;
    let dir = std::env::temp_dir().join(format!("qrlogin-phone-{}", session.id));
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join("login-page.png");
    std::fs::write(&shot, png(&screenshot_with_qr(&session.qr_content))).unwrap();
    let token = token_for("alice");

    // Act
    let mut argv = args(&["scan", shot.to_str().unwrap(), "--token", &token, "--approve"]);
    argv.extend(common(&app));
    let out = run(argv, "").await;
    std::fs::remove_dir_all(&dir).unwrap();

    // Assert
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&session.requester.ip) && stdout.contains("Approved"), "{}", text(&out));
    assert!(!stdout.contains(&session.verification), "the verification string is never printed: {stdout}");
    assert_eq!(app.poll(&session).await, PollOutcome::Confirmed { user: UserId::parse("alice").unwrap(), jkt: None });
}

#[tokio::test]
async fn scan_with_a_development_user_asks_and_no_denies() {
    let app = spawn_app().await;
    let session = app.new_session().await;

    let mut argv = args(&["scan", "--text", &session.qr_content, "--user", "bob"]);
    argv.extend(common(&app));
    let out = run(argv, "n\n").await;

    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Approve this login? [y/N]") && stdout.contains("Denied"), "{}", text(&out));
    assert_eq!(app.poll(&session).await, PollOutcome::Denied);
}

#[tokio::test]
async fn a_refused_scan_exits_non_zero_with_the_problem() {
    let app = spawn_app().await;
    let session = app.new_session().await;

    let mut argv = args(&["scan", "--text", &session.qr_content, "--token", "not.a.token", "--approve"]);
    argv.extend(common(&app));
    let out = run(argv, "").await;

    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"), "{}", text(&out));
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}

#[tokio::test]
async fn dev_token_prints_a_token_the_api_accepts() {
    let app = spawn_app().await;
    let session = app.new_session().await;

    let out = run(args(&["dev-token", "--user", "carol", "--ttl-secs", "60"]), "").await;

    assert!(out.status.success(), "{}", text(&out));
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(app.scan(token.trim(), &session.qr_content).await.status(), 200);
}

#[tokio::test]
async fn bad_arguments_exit_2_with_the_usage() {
    for argv in [vec![], args(&["scan"]), args(&["scan", "--approve", "--deny", "x.png"]), args(&["dev-token"])] {
        let out = run(argv.clone(), "").await;

        assert_eq!(out.status.code(), Some(2), "{argv:?}: {}", text(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"), "{argv:?}");
    }
}
