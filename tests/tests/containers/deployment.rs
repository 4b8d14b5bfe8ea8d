//! The running deployment: where it is, the development values it runs with (deploy/dev.env), and podman.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use mobile_api::config::{UserJwtKey, UserJwtSettings};
use qrlogin_e2e::{Login, Stack};
use qrlogin_shared::test_support::web_token::verify_web_token;
use secrecy::SecretString;
use serde_json::Value;

/// How long a restarted container may take to be healthy again.
const HEALTHY_WITHIN: Duration = Duration::from_secs(60);

pub fn nginx_url() -> String {
    std::env::var("QRL_CONTAINERS_URL").expect("QRL_CONTAINERS_URL: run these through deploy/containers.sh test")
}

/// A browser and a phone that reach both services through nginx, with the development identity provider; the
/// phone at `QRL_CONTAINERS_MOBILE_URL` instead when set (the pods of `podman kube play` have no proxy).
pub fn through_nginx() -> Stack {
    let mobile = std::env::var("QRL_CONTAINERS_MOBILE_URL").unwrap_or_else(|_| nginx_url());
    Stack::remote(&nginx_url(), &mobile, &nginx_url(), user_jwt())
}

/// A browser talking to one gateway container directly (its phone still goes through nginx).
pub fn direct_to(gateway: &str) -> Stack {
    Stack::remote(&format!("http://{}:8080", address_of(gateway)), &nginx_url(), &nginx_url(), user_jwt())
}

fn user_jwt() -> UserJwtSettings {
    // deploy/dev.env, which `deploy/containers.sh` gave the containers.
    let env: HashMap<String, String> = qrlogin_shared::test_support::dev_env().into_iter().collect();
    UserJwtSettings {
        key: UserJwtKey::Secret(SecretString::from(env["QRL_USER_JWT_SECRET"].clone())),
        issuer: env["QRL_USER_JWT_ISSUER"].clone(),
        audience: env["QRL_USER_JWT_AUDIENCE"].clone(),
        ..UserJwtSettings::for_test()
    }
}

/// The phone scans and confirms `login` as alice, through `stack`; returns the requester it was shown.
pub async fn scan_and_confirm(stack: &Stack, login: &Login) -> Value {
    let token = stack.user_token("alice");
    let requester = stack.scan(&token, &login.qr_text).await.expect_status(200)["requester"].clone();
    stack.confirm(&token, &login.uuid, &login.verification).await.expect_status(200);
    requester
}

/// A confirmed answer for alice whose token verifies against the JWKS served through nginx.
pub async fn assert_token_for_alice(stack: &Stack, body: &Value) -> String {
    assert_eq!(body["status"], "confirmed", "body: {body}");
    let token = body["token"].as_str().unwrap_or_else(|| panic!("a confirmed answer carries the token: {body}"));
    // The gateway's defaults: the QR base URL (nginx's, here) issues, for the `qrlogin-web` audience.
    let jwks = stack.jwks().await;
    let verified =
        verify_web_token::<Value>(token, &jwks, &nginx_url(), "qrlogin-web").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verified.claims["sub"], "alice");
    token.to_owned()
}

/// The container compose named after `service`.
pub fn container(service: &str) -> String {
    format!("qrlogin_{service}_1")
}

/// Runs podman (with the `CONTAINERS_CONF` deploy/containers.sh exported) and returns its stdout.
pub fn podman(args: &[&str]) -> String {
    let out = Command::new("podman").args(args).output().expect("podman runs");
    assert!(out.status.success(), "podman {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}

/// `service`'s address on the compose network (the host reaches it directly: podman's bridge is routed).
pub fn address_of(service: &str) -> String {
    podman(&["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", &container(service)])
}

/// Waits until `service` passes its own HEALTHCHECK (`podman healthcheck run`: no systemd timer runs it here)
/// and then reaches Redis (its `/readyz`, which the liveness HEALTHCHECK does not ask).
pub async fn wait_healthy(service: &str) {
    let started = Instant::now();
    let name = container(service);
    while !Command::new("podman").args(["healthcheck", "run", &name]).output().is_ok_and(|o| o.status.success()) {
        assert!(started.elapsed() < HEALTHY_WITHIN, "{service} is not healthy after {HEALTHY_WITHIN:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let readyz = format!("http://{}:8080/readyz", address_of(service));
    while !reqwest::get(&readyz).await.is_ok_and(|r| r.status().is_success()) {
        assert!(started.elapsed() < HEALTHY_WITHIN, "{service} does not reach Redis after {HEALTHY_WITHIN:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
