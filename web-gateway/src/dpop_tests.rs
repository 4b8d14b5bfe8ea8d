#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use jsonwebtoken::get_current_timestamp;
use serde_json::json;

use super::*;
use crate::dpop_client::DpopKey;

const URL: &str = "https://login.example.com/v1/me";

fn expected<'a>(urls: &'a [Url], token: Option<&'a str>) -> Expected<'a> {
    Expected { method: "GET", urls, access_token: token, now: get_current_timestamp() }
}

fn check(proof: &str, token: Option<&str>) -> Result<Proof, InvalidProof> {
    verify(proof, &expected(&[Url::parse(URL).unwrap()], token))
}

fn claims(key_token: Option<&str>) -> serde_json::Value {
    let mut c = json!({"jti": "j-1", "htm": "GET", "htu": URL, "iat": get_current_timestamp()});
    if let Some(t) = key_token {
        c["ath"] = access_token_hash(t).into();
    }
    c
}

#[test]
fn a_fresh_proof_for_this_request_names_its_key() {
    let key = DpopKey::generate();

    let proof = check(&key.proof("GET", URL, Some("tok")), Some("tok")).unwrap();

    assert_eq!(proof.jkt, key.thumbprint());
    assert_eq!(proof.jkt.len(), 43, "base64url of a SHA-256");
    assert_eq!(proof.jti_digest.len(), 64);
}

#[test]
fn the_url_is_compared_without_query_fragment_or_default_port() {
    let key = DpopKey::generate();
    for htu in ["https://login.example.com:443/v1/me", "https://LOGIN.example.com/v1/me?x=1#f"] {
        assert!(check(&key.proof("GET", htu, None), None).is_ok(), "{htu}");
    }
    for htu in ["https://login.example.com/v1/me/", "http://login.example.com/v1/me", "https://evil.example/v1/me"] {
        assert!(check(&key.proof("GET", htu, None), None).is_err(), "{htu}");
    }
}

#[test]
fn another_method_stale_or_future_iat_and_wrong_ath_are_refused() {
    let key = DpopKey::generate();
    let now = get_current_timestamp();
    assert!(check(&key.proof("POST", URL, None), None).is_err());
    for iat in [now - 61, now + 6, u64::MAX, 0] {
        let mut c = claims(None);
        c["iat"] = iat.into();
        assert!(check(&key.sign(&c), None).is_err(), "iat {iat}");
    }
    assert!(check(&key.sign(&claims(None)), Some("tok")).is_err(), "no ath with a token");
    assert!(check(&key.sign(&claims(Some("other"))), Some("tok")).is_err(), "ath of another token");
    assert!(check(&key.sign(&claims(Some("tok"))), Some("tok")).is_ok());
    let mut c = claims(None);
    c.as_object_mut().unwrap().remove("jti");
    assert!(check(&key.sign(&c), None).is_err(), "no jti");
}

#[test]
fn only_es256_dpop_jwts_with_a_public_key_in_the_header_pass() {
    let key = DpopKey::generate();
    let mut untyped = key.header();
    untyped.typ = Some("JWT".into());
    assert!(check(&key.sign_with(untyped, &claims(None)), None).is_err());
    let mut keyless = key.header();
    keyless.jwk = None;
    assert!(check(&key.sign_with(keyless, &claims(None)), None).is_err());
    // The same claims signed by one key but naming another in the header.
    let other = DpopKey::generate();
    let mut swapped = key.header();
    swapped.jwk = other.header().jwk;
    assert!(check(&key.sign_with(swapped, &claims(None)), None).is_err());
    // alg none, and HS256 keyed with anything: refused before any signature is looked at.
    let body = URL_SAFE_NO_PAD.encode(claims(None).to_string());
    for alg in ["none", "HS256"] {
        let jwk = serde_json::to_value(key.header().jwk).unwrap();
        let header = URL_SAFE_NO_PAD.encode(json!({"typ": "dpop+jwt", "alg": alg, "jwk": jwk}).to_string());
        assert!(check(&format!("{header}.{body}.AAAA"), None).is_err(), "{alg}");
    }
    // A private member in the jwk.
    let mut jwk = serde_json::to_value(key.header().jwk).unwrap();
    jwk["d"] = "AAAA".into();
    let header = URL_SAFE_NO_PAD.encode(json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}).to_string());
    let honest = key.proof("GET", URL, None);
    let (_, rest) = honest.split_once('.').unwrap();
    assert_eq!(
        check(&format!("{header}.{rest}"), None).unwrap_err().0,
        "the proof's jwk must not carry the private key"
    );
    for garbage in ["", "x", "a.b.c", "..", &"a".repeat(5000)] {
        assert!(check(garbage, None).is_err(), "{garbage}");
    }
}

#[test]
fn the_addressed_url_counts_with_a_proxys_scheme_only_from_a_trusted_proxy() {
    let trusted = TrustedProxies::parse("10.0.0.1").unwrap();
    let req = |peer: &str| {
        actix_web::test::TestRequest::get()
            .uri("/v1/me?x=1")
            .insert_header(("host", "gw.internal:8080"))
            .insert_header(("x-forwarded-proto", "https"))
            .peer_addr(peer.parse().unwrap())
            .to_http_request()
    };
    let names = |peer| {
        urls_of(&req(peer), "https://login.example.com/", &trusted).iter().map(Url::to_string).collect::<Vec<_>>()
    };
    assert_eq!(names("10.0.0.1:5000"), ["https://login.example.com/v1/me", "https://gw.internal:8080/v1/me"]);
    assert_eq!(names("192.0.2.7:5000"), ["https://login.example.com/v1/me", "http://gw.internal:8080/v1/me"]);
}
