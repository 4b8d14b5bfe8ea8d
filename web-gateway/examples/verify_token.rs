//! Verifies qrlogin web tokens as the web team's Rust backend would, with `jsonwebtoken`.
//!
//! Usage: `cargo run -p web-gateway --example verify_token -- <jwks-url> <issuer> <audience>`, then tokens on
//! stdin, one per line; prints one JSON line per token. (README "Verifying the web token"; run by
//! tests/tests/e2e/verifiers.rs.)
#![allow(clippy::print_stdout, reason = "an example: its answers are its output")]

use std::io::BufRead;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

// README:begin
/// The gateway's key set, cached, and fetched again when a token names a key it does not know (a rotation).
struct Keys {
    url: String,
    set: JwkSet,
}

impl Keys {
    async fn verify(&mut self, token: &str, issuer: &str, audience: &str) -> Result<Value, Box<dyn std::error::Error>> {
        let header = jsonwebtoken::decode_header(token)?;
        if header.typ.as_deref() != Some("at+jwt") {
            return Err("not a qrlogin access token".into());
        }
        let kid = header.kid.ok_or("no kid")?;
        if self.set.find(&kid).is_none() {
            self.set = reqwest::get(&self.url).await?.error_for_status()?.json().await?;
        }
        let key = DecodingKey::from_jwk(self.set.find(&kid).ok_or("unknown key")?)?;
        let mut validation = Validation::new(Algorithm::ES256); // never what the token's header claims
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["sub", "exp", "iat", "iss", "aud"]);
        Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)?.claims) // claims["sub"]: the user's id
    }
}
// README:end

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, issuer, audience] = args.as_slice() else {
        eprintln!("usage: verify_token <jwks-url> <issuer> <audience> < tokens");
        std::process::exit(2);
    };
    let mut keys = Keys { url: url.clone(), set: JwkSet { keys: Vec::new() } };
    for line in std::io::stdin().lock().lines() {
        let Ok(token) = line else { break };
        let answer = match keys.verify(token.trim(), issuer, audience).await {
            Ok(claims) => serde_json::json!({ "ok": true, "sub": claims["sub"] }),
            Err(e) => serde_json::json!({ "ok": false, "error": e.to_string() }),
        };
        println!("{answer}");
    }
}
