//! The web session token handed to the browser once per login: an ES256 JWT whose `kid` is the RFC 7638
//! thumbprint of its public key, published in `/.well-known/jwks.json` so the web team's backend verifies it
//! with any JWT library and no shared secret.

use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use qrlogin_shared::UserId;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::WebTokenSettings;

const ALG: Algorithm = Algorithm::ES256;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// Never carries the key material.
    #[error("the web token key (QRL_WEB_JWT_PRIVATE_KEY_FILE or _PEM) is not a PKCS#8 PEM P-256 private key")]
    BadKey(#[source] jsonwebtoken::errors::Error),
    #[error("QRL_WEB_JWT_PUBLISHED_KEYS_PEM holds a key that is not a P-256 public key (PEM)")]
    BadPublishedKey(#[source] jsonwebtoken::errors::Error),
    #[error("the web token key is not a P-256 key usable for ES256")]
    BadSigningKey,
    #[error("signing the web token failed")]
    Sign,
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    iat: u64,
    exp: u64,
    /// Names this token in logs and revocation lists; the `claimed` audit event carries it.
    jti: &'a str,
    /// The web session this login opens: a fresh random id per token (one token per login), for the web
    /// backend to key its session on instead of the user; the phone lists and ends it by this id.
    sid: &'a str,
    iss: &'a str,
    aud: &'a str,
    /// RFC 8176 authentication method reference: this login used a QR code.
    amr: [&'static str; 1],
    /// RFC 9449 §6.1: the DPoP key the token is bound to, when the login's create carried a proof.
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Confirmation<'a>>,
}

/// The `cnf` claim (RFC 7800) of a DPoP-bound token: the key's RFC 7638 thumbprint.
#[derive(Serialize)]
struct Confirmation<'a> {
    jkt: &'a str,
}

/// A signed token, its `jti` (for the audit trail, which never carries the token itself) and its `sid`.
pub struct Minted {
    pub token: String,
    pub jti: String,
    pub sid: String,
}

/// A token [`WebTokenSigner::verify`] accepted: whose it is, the web session it belongs to, all its claims.
pub struct Verified {
    pub user: UserId,
    pub sid: String,
    /// `cnf.jkt`: the DPoP key this token is bound to, if it is.
    pub jkt: Option<String>,
    pub claims: serde_json::Value,
}

pub struct WebTokenSigner {
    /// Parsed and checked once: jsonwebtoken would do both again for every token.
    key: EcdsaKeyPair,
    /// The JWS header, the same for every token: its base64url form, computed once; and a logout token's.
    header: Header,
    encoded_header: String,
    logout_header: String,
    jwks: JwkSet,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl WebTokenSigner {
    /// Signs with the private key; publishes its public key first, then every extra public key (the previous
    /// key during a rotation, or the next one ahead of it) so verifiers know them before and after the switch.
    pub fn new(settings: &WebTokenSettings) -> Result<Self, SigningError> {
        let key = EncodingKey::from_ec_pem(settings.private_key_pem.expose_secret().as_bytes())
            .map_err(SigningError::BadKey)?;
        let signing_jwk = published(Jwk::from_encoding_key(&key, ALG)).map_err(SigningError::BadKey)?;
        let mut header = Header::new(ALG);
        header.kid = signing_jwk.common.key_id.clone();
        // RFC 9068: an access token says so in its header, so it cannot be confused with an ID token or any
        // other JWT signed by a key the verifier trusts.
        header.typ = Some("at+jwt".into());
        let encoded_header = encode_header(&header)?;
        // OpenID Connect Back-Channel Logout 1.0 §2.4: a logout token is explicitly typed too.
        let logout_header = encode_header(&Header { typ: Some("logout+jwt".into()), ..header.clone() })?;
        // `EncodingKey::from_ec_pem` keeps the PKCS#8 document.
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.as_bytes())
            .map_err(|_| SigningError::BadSigningKey)?;
        let mut keys = vec![signing_jwk];
        for pem in pem_blocks(&settings.published_keys_pem) {
            let jwk = DecodingKey::from_ec_pem(pem.as_bytes())
                .and_then(|k| published(Jwk::from_decoding_key(&k, Some(ALG))))
                .map_err(SigningError::BadPublishedKey)?;
            if keys.iter().all(|k| k.common.key_id != jwk.common.key_id) {
                keys.push(jwk);
            }
        }
        Ok(Self {
            key,
            header,
            encoded_header,
            logout_header,
            jwks: JwkSet { keys },
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl: settings.ttl,
        })
    }

    /// Signs a token for `user`, issued at `now` (unix seconds), bound to the DPoP key of thumbprint `jkt` when
    /// one is given (else a Bearer token).
    pub fn mint(&self, user: &UserId, now: u64, jkt: Option<&str>) -> Result<Minted, SigningError> {
        let jti = uuid::Uuid::new_v4().to_string();
        let sid = uuid::Uuid::new_v4().to_string();
        let claims = Claims {
            sub: user.as_str(),
            iat: now,
            exp: now + self.ttl.as_secs(),
            jti: &jti,
            sid: &sid,
            iss: &self.issuer,
            aud: &self.audience,
            amr: ["qr"],
            cnf: jkt.map(|jkt| Confirmation { jkt }),
        };
        Ok(Minted { token: self.sign(&self.encoded_header, &claims)?, jti, sid })
    }

    /// A back-channel logout token (`typ: logout+jwt`) with `claims`, signed with the web token key.
    pub fn sign_logout(&self, claims: &impl Serialize) -> Result<String, SigningError> {
        self.sign(&self.logout_header, claims)
    }

    /// The JWS compact serialization (RFC 7515 §7.1), as `jsonwebtoken::encode` makes it: base64url of the header
    /// and of the claims' JSON, then of the ES256 signature over both (R || S, 64 bytes).
    fn sign(&self, encoded_header: &str, claims: &impl Serialize) -> Result<String, SigningError> {
        let claims = serde_json::to_vec(claims).map_err(|_| SigningError::Sign)?;
        let mut token = String::with_capacity(encoded_header.len() + claims.len() * 4 / 3 + 92);
        token.push_str(encoded_header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut token);
        let signature = self.key.sign(&SystemRandom::new(), token.as_bytes()).map_err(|_| SigningError::Sign)?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
        Ok(token)
    }

    /// The claims of `token` if it is one of ours, still valid: key from the published set by `kid`, ES256 only,
    /// `iss`, `aud`, `exp` (as the web team's backend checks it; `/v1/me` and introspection use this).
    pub fn verify(&self, token: &str) -> Option<Verified> {
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        let key = DecodingKey::from_jwk(self.jwks.find(&kid)?).ok()?;
        let mut validation = Validation::new(ALG);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).ok()?.claims;
        let user = claims.get("sub").and_then(serde_json::Value::as_str).and_then(|s| UserId::parse(s).ok())?;
        let sid = claims.get("sid").and_then(serde_json::Value::as_str)?.to_owned();
        let jkt = claims.pointer("/cnf/jkt").and_then(serde_json::Value::as_str).map(str::to_owned);
        Some(Verified { user, sid, jkt, claims })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The `kid` new tokens carry.
    pub fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Public keys only: the JWK of an EC private key carries just `x`/`y` here, never `d`.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}

/// A JWS header's base64url form.
fn encode_header(header: &Header) -> Result<String, SigningError> {
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).map_err(|_| SigningError::Sign)?))
}

/// A JWK ready to publish: `kid` = RFC 7638 thumbprint, `use` = sig.
fn published(jwk: jsonwebtoken::errors::Result<Jwk>) -> jsonwebtoken::errors::Result<Jwk> {
    let mut jwk = jwk?;
    jwk.common.key_id = Some(jwk.thumbprint(ThumbprintHash::SHA256)?);
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok(jwk)
}

/// Splits concatenated PEM documents (`-----BEGIN ...` to `-----END ...-----`).
fn pem_blocks(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("-----BEGIN ").filter_map(move |(start, _)| {
        let end_marker = text[start..].find("-----END ")?;
        let close = text[start + end_marker + 9..].find("-----")?;
        Some(&text[start..start + end_marker + 9 + close + 5])
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use jsonwebtoken::{Validation, decode, decode_header};
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn a_minted_token_is_an_es256_jws_that_verifies_with_the_published_key() {
        let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/dev/web-jwt-es256.pem"));
        let settings = WebTokenSettings {
            private_key_pem: SecretString::from(pem.unwrap()),
            published_keys_pem: String::new(),
            issuer: "https://issuer.invalid".into(),
            audience: "web".into(),
            ttl: Duration::from_secs(60),
        };
        let signer = WebTokenSigner::new(&settings).unwrap();
        let now = jsonwebtoken::get_current_timestamp();

        let minted = signer.mint(&UserId::parse("alice").unwrap(), now, None).unwrap();

        let header = decode_header(&minted.token).unwrap();
        assert_eq!((header.alg, header.typ.as_deref(), header.kid.as_deref()), (ALG, Some("at+jwt"), signer.kid()));
        let key = DecodingKey::from_jwk(&signer.jwks().keys[0]).unwrap();
        let mut validation = Validation::new(ALG);
        validation.set_audience(&["web"]);
        validation.set_issuer(&["https://issuer.invalid"]);
        let claims = decode::<serde_json::Value>(&minted.token, &key, &validation).unwrap().claims;
        assert_eq!((claims["sub"].as_str(), claims["jti"].as_str()), (Some("alice"), Some(minted.jti.as_str())));
        assert_eq!(claims["exp"], now + 60);
    }

    #[test]
    fn pem_blocks_split_concatenated_documents() {
        let text = "x\n-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n\n-----BEGIN PUBLIC KEY-----\nBBB\n-----END PUBLIC KEY-----\n";
        let blocks: Vec<_> = pem_blocks(text).collect();
        assert_eq!(blocks.len(), 2);
        assert!(blocks[1].starts_with("-----BEGIN PUBLIC KEY-----\nBBB"));
        assert!(blocks[1].ends_with("-----END PUBLIC KEY-----"));
        assert_eq!(pem_blocks("").count(), 0);
    }
}
