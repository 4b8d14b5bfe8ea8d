//! The web team's side: the README's token-verification snippets (Node `jose`, Python PyJWT, Rust
//! `jsonwebtoken`, in web-gateway/examples/verify*) run against the live gateway's JWKS, through a key rotation:
//! the next key published ahead, the switch, the old key retired. `deploy/test.sh` installs `jose` and PyJWT.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use qrlogin_e2e::{Stack, WEB_AUDIENCE, WEB_ISSUER};
use serde_json::Value;

use crate::assert_claims_token_for;

const NEXT_KEY_PEM: &str = include_str!("../../keys/web-jwt-es256-next.pem");
const NEXT_PUBLIC_PEM: &str = include_str!("../../keys/web-jwt-es256-next.pub.pem");
const DEV_PUBLIC_PEM: &str = include_str!("../../keys/web-jwt-es256-dev.pub.pem");
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../web-gateway/examples");
const README: &str = include_str!("../../../README.md");

/// A verifier of one language: its program and the file whose README part must appear in README.md.
struct Verifier {
    program: Vec<String>,
    source: PathBuf,
}

impl Verifier {
    fn node() -> Self {
        let script = Path::new(EXAMPLES).join("verify/node/verify.mjs");
        let jose = Path::new(EXAMPLES).join("verify/node/node_modules/jose");
        assert!(
            jose.exists(),
            "jose is not installed: run deploy/test.sh (npm ci in web-gateway/examples/verify/node)"
        );
        Self { program: vec!["node".into(), script.display().to_string()], source: script }
    }

    fn python() -> Self {
        let script = Path::new(EXAMPLES).join("verify/python/verify.py");
        let has_jwt = Command::new("python3").args(["-c", "import jwt, cryptography"]).status();
        assert!(has_jwt.is_ok_and(|s| s.success()), "PyJWT is not installed: run deploy/test.sh");
        Self { program: vec!["python3".into(), script.display().to_string()], source: script }
    }

    fn rust() -> Self {
        // target/<profile>/deps/<this test> -> target/<profile>/examples/verify_token, which only
        // `cargo build --examples` puts there (deploy/test.sh runs it first).
        let exe = std::env::current_exe().unwrap();
        let bin = exe.parent().and_then(Path::parent).unwrap().join("examples/verify_token");
        assert!(
            bin.exists(),
            "{} not built: `cargo build --workspace --examples` (deploy/test.sh) builds it",
            bin.display()
        );
        Self { program: vec![bin.display().to_string()], source: Path::new(EXAMPLES).join("verify_token.rs") }
    }

    /// The verifier's answers for `tokens`, checked against `jwks_url` by one process (so its key cache lives
    /// across them). Blocking work off the runtime, which serves the gateway the verifier calls.
    async fn answers(&self, jwks_url: String, tokens: Vec<String>) -> Vec<Value> {
        let program = self.program.clone();
        tokio::task::spawn_blocking(move || {
            let mut child = Command::new(&program[0])
                .args(&program[1..])
                .args([jwks_url.as_str(), WEB_ISSUER, WEB_AUDIENCE])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {program:?}: {e}"));
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(tokens.join("\n").as_bytes()).unwrap();
            stdin.write_all(b"\n").unwrap();
            drop(stdin);
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{program:?} failed: {}", out.status);
            let text = String::from_utf8(out.stdout).unwrap();
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
        })
        .await
        .unwrap()
    }

    /// The part of the source README.md shows must be there, verbatim.
    fn assert_in_readme(&self) {
        let source = std::fs::read_to_string(&self.source).unwrap();
        let part = source.split_once("README:begin\n").and_then(|(_, rest)| rest.rsplit_once("README:end")).unwrap().0;
        let part = part.rsplit_once('\n').map_or(part, |(body, _)| body);
        assert!(README.contains(part), "README.md does not show {} as it is", self.source.display());
    }
}

async fn token_from(stack: &Stack) -> String {
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);
    assert_claims_token_for(stack, &login, "alice").await["token"].as_str().unwrap().to_owned()
}

fn jwks_url(stack: &Stack) -> String {
    format!("{}/.well-known/jwks.json", stack.gateway_url)
}

fn verified(answers: &[Value]) -> Vec<bool> {
    answers.iter().map(|a| a["ok"] == true && a["sub"] == "alice").collect()
}

/// A token whose payload was changed after signing.
fn tampered(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = qrlogin_e2e::b64url(br#"{"sub":"mallory","iss":"x","aud":"y","exp":4102444800,"iat":0,"jti":"j"}"#);
    parts.join(".")
}

async fn verifies_through_a_key_rotation(verifier: Verifier) {
    verifier.assert_in_readme();
    // Before the switch: the dev key signs, the next key is published ahead of use.
    let before = Stack::start_with(|g| g.web_token.published_keys_pem = NEXT_PUBLIC_PEM.to_owned()).await;
    let old = token_from(&before).await;
    // After: the next key signs, the old public key stays published until the old tokens have expired.
    let after = Stack::start_with(|g| {
        g.web_token.private_key_pem = NEXT_KEY_PEM.to_owned().into();
        g.web_token.published_keys_pem = DEV_PUBLIC_PEM.to_owned();
    })
    .await;
    let new = token_from(&after).await;
    // Retired: only the next key.
    let retired = Stack::start_with(|g| g.web_token.private_key_pem = NEXT_KEY_PEM.to_owned().into()).await;

    // A verifier that fetched the keys before the switch knows the new key already.
    let forged = tampered(&old);
    let answers = verifier.answers(jwks_url(&before), vec![old.clone(), new.clone(), forged]).await;
    assert_eq!(verified(&answers), [true, true, false], "before the switch: {answers:?}");
    let answers = verifier.answers(jwks_url(&after), vec![new.clone(), old.clone()]).await;
    assert_eq!(verified(&answers), [true, true], "after the switch: {answers:?}");
    let answers = verifier.answers(jwks_url(&retired), vec![old, new]).await;
    assert_eq!(verified(&answers), [false, true], "once the old key is retired: {answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_jose_verifies_web_tokens_through_a_key_rotation() {
    verifies_through_a_key_rotation(Verifier::node()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_pyjwt_verifies_web_tokens_through_a_key_rotation() {
    verifies_through_a_key_rotation(Verifier::python()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_jsonwebtoken_verifies_web_tokens_through_a_key_rotation() {
    verifies_through_a_key_rotation(Verifier::rust()).await;
}
