//! A DPoP client as a test needs one (feature `test-support`): a fresh P-256 key and proofs signed with it, shaped
//! as RFC 9449 §4.2 says and as qrlogin.js makes them in the browser.
#![allow(clippy::expect_used, reason = "test helpers: a broken test setup should fail loudly")]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::dpop::access_token_hash;

pub struct DpopKey {
    key: EncodingKey,
    jwk: Jwk,
}

impl Default for DpopKey {
    fn default() -> Self {
        Self::generate()
    }
}

impl DpopKey {
    pub fn generate() -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).expect("a P-256 key");
        let key = EncodingKey::from_ec_der(pkcs8.as_ref());
        let jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).expect("the public JWK");
        Self { key, jwk }
    }

    /// The key's RFC 7638 thumbprint: what a bound token's `cnf.jkt` names.
    pub fn thumbprint(&self) -> String {
        self.jwk.thumbprint(ThumbprintHash::SHA256).expect("a thumbprint")
    }

    /// A proof for `method` `url`, made now, with `ath` for `token`.
    pub fn proof(&self, method: &str, url: &str, token: Option<&str>) -> String {
        let mut claims = json!({"jti": uuid::Uuid::new_v4().to_string(), "htm": method, "htu": url,
            "iat": jsonwebtoken::get_current_timestamp()});
        if let Some(token) = token {
            claims["ath"] = access_token_hash(token).into();
        }
        self.sign(&claims)
    }

    /// A proof with exactly these claims, under the standard header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with(self.header(), claims)
    }

    /// The standard header: `typ: dpop+jwt`, ES256, the public key.
    pub fn header(&self) -> Header {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(self.jwk.clone());
        header
    }

    pub fn sign_with(&self, header: Header, claims: &Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.key).expect("a signed proof")
    }
}
