//! The web token minted once per login: claims to JSON, ES256 signature (aws-lc-rs), base64url. `mint` is the
//! production path, with the key parsed once at start-up; `jsonwebtoken_encode` is `jsonwebtoken::encode` on
//! the same backend, which parses and checks the PKCS#8 key again for every token. README "Performance".

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use qrlogin_shared::{UserId, unix_now};
use secrecy::ExposeSecret;
use web_gateway::Settings;
use web_gateway::web_token::WebTokenSigner;

fn token_mint(c: &mut Criterion) {
    let settings = Settings::for_test();
    let signer = match WebTokenSigner::new(&settings.web_token) {
        Ok(signer) => signer,
        Err(e) => return eprintln!("token_mint: the dev web token key does not load: {e}"),
    };
    let Ok(user) = UserId::parse("alice") else { return eprintln!("token_mint: alice is not a user id") };
    let now = unix_now();
    c.bench_function("token_mint/mint", |b| b.iter(|| signer.mint(black_box(&user), black_box(now), None)));

    let pem = settings.web_token.private_key_pem.expose_secret().as_bytes();
    let Ok(key) = EncodingKey::from_ec_pem(pem) else { return eprintln!("token_mint: not an EC PEM") };
    let header = Header::new(Algorithm::ES256);
    let claims = serde_json::json!({ "sub": "alice", "iat": now, "exp": now + 600 });
    c.bench_function("token_mint/jsonwebtoken_encode", |b| {
        b.iter(|| jsonwebtoken::encode(black_box(&header), black_box(&claims), &key))
    });
}

criterion_group!(benches, token_mint);
criterion_main!(benches);
