//! The web backends allowed to introspect tokens (`QRL_INTROSPECTION_CLIENTS`, RFC 7662 §2.1): each a client id
//! and the SHA-256 of its secret, so the configuration never holds a secret itself. A client authenticates with
//! HTTP Basic; its secret's hash is compared in constant time, and an unknown id costs the same comparison.

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Clone, Debug, Default)]
pub struct IntrospectionClients(Vec<(String, [u8; 32])>);

impl IntrospectionClients {
    /// `<client_id>:<sha256 hex of its secret>,...`; empty: no client (introspection answers 401 to all).
    pub fn parse(list: &str) -> Result<Self, String> {
        let entries = list.split(',').map(str::trim).filter(|e| !e.is_empty());
        entries
            .map(|entry| {
                let (id, hash) =
                    entry.split_once(':').ok_or_else(|| format!("{entry:?} is not <client_id>:<sha256 hex>"))?;
                let mut digest = [0u8; 32];
                match hex::decode_to_slice(hash, &mut digest) {
                    Ok(()) if !id.is_empty() => Ok((id.to_owned(), digest)),
                    _ => Err(format!("client {id:?}: the secret's hash must be 64 hex digits (sha256)")),
                }
            })
            .collect::<Result<Vec<_>, String>>()
            .map(Self)
    }

    /// The client id the request authenticates as with HTTP Basic, if its secret is the configured one.
    pub fn authenticate(&self, req: &HttpRequest) -> Option<&str> {
        let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = STANDARD.decode(encoded.trim()).ok()?;
        let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
        // RFC 6749 §2.3.1: the id and secret are form-urlencoded inside Basic.
        let (id, secret) = (form_decoded(id)?, form_decoded(secret)?);
        let hash: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let unknown = [0u8; 32];
        let (name, expected) =
            self.0.iter().find(|(name, _)| *name == id).map_or(("", &unknown), |(n, h)| (n.as_str(), h));
        (bool::from(hash.ct_eq(expected)) && !name.is_empty()).then_some(name)
    }
}

fn form_decoded(s: &str) -> Option<String> {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8().ok().map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn only_the_configured_secret_of_a_known_client_authenticates() {
        let hash = hex::encode(Sha256::digest(b"s3cret"));
        let clients = IntrospectionClients::parse(&format!("web-backend:{hash}")).unwrap();
        let auth = |value: &str| {
            clients
                .authenticate(&TestRequest::default().insert_header((AUTHORIZATION, value)).to_http_request())
                .map(str::to_owned)
        };

        assert_eq!(auth(&basic("web-backend", "s3cret")).as_deref(), Some("web-backend"));
        assert_eq!(auth(&basic("web-backend", "wrong")), None);
        assert_eq!(auth(&basic("other", "s3cret")), None);
        assert_eq!(auth("Bearer abc"), None);
        assert!(IntrospectionClients::parse("web-backend:abc").is_err());
        assert!(IntrospectionClients::parse("").unwrap().0.is_empty());
    }
}
