//! Which algorithm a key from the identity provider's JWKS verifies. The answer comes from the key (its `alg`, or
//! else its type and curve), so a token cannot choose how it is checked: a token whose header names another
//! algorithm than its key's is refused, which closes the classic "HS256 with the RSA public key as secret" hole.

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};

/// Why a key of the set is left out. Logged at debug level; the key is simply not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unusable {
    #[error("not a signature key (`use` or `key_ops`)")]
    NotForSignatures,
    /// An `oct` key is a shared secret: published in a JWKS it is no secret, so it is never accepted.
    #[error("symmetric key")]
    Symmetric,
    #[error("key type, curve or algorithm not supported")]
    Unsupported,
    #[error("`alg` does not fit the key type")]
    AlgorithmMismatch,
}

/// The algorithm `jwk` verifies, or why it cannot be used to verify user tokens.
pub(crate) fn algorithm_of(jwk: &Jwk) -> Result<Algorithm, Unusable> {
    if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != PublicKeyUse::Signature)
        || jwk.common.key_operations.as_ref().is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return Err(Unusable::NotForSignatures);
    }
    // The default for the key type, and every algorithm that key type can verify.
    let (default, fitting): (Algorithm, &[Algorithm]) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => {
            use Algorithm::*;
            (RS256, &[RS256, RS384, RS512, PS256, PS384, PS512])
        }
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => (Algorithm::ES256, &[Algorithm::ES256]),
            EllipticCurve::P384 => (Algorithm::ES384, &[Algorithm::ES384]),
            _ => return Err(Unusable::Unsupported),
        },
        AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
            EllipticCurve::Ed25519 => (Algorithm::EdDSA, &[Algorithm::EdDSA]),
            _ => return Err(Unusable::Unsupported),
        },
        AlgorithmParameters::OctetKey(_) => return Err(Unusable::Symmetric),
        _ => return Err(Unusable::Unsupported),
    };
    let Some(declared) = jwk.common.key_algorithm else {
        return Ok(default);
    };
    let declared = Algorithm::try_from(declared).map_err(|_| Unusable::Unsupported)?;
    if fitting.contains(&declared) { Ok(declared) } else { Err(Unusable::AlgorithmMismatch) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use serde_json::{Value, json};

    use super::*;

    // Real-looking but arbitrary components: the mapping never decodes them.
    const N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";
    const X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

    fn alg(key: Value) -> Result<Algorithm, Unusable> {
        algorithm_of(&serde_json::from_value(key).unwrap())
    }

    #[test]
    fn without_alg_the_key_type_decides() {
        assert_eq!(alg(json!({ "kty": "RSA", "n": N, "e": "AQAB" })), Ok(Algorithm::RS256));
        assert_eq!(alg(json!({ "kty": "EC", "crv": "P-256", "x": X, "y": Y })), Ok(Algorithm::ES256));
        assert_eq!(alg(json!({ "kty": "EC", "crv": "P-384", "x": X, "y": Y })), Ok(Algorithm::ES384));
        assert_eq!(alg(json!({ "kty": "OKP", "crv": "Ed25519", "x": X })), Ok(Algorithm::EdDSA));
    }

    #[test]
    fn a_declared_alg_that_fits_the_key_wins() {
        assert_eq!(alg(json!({ "kty": "RSA", "alg": "PS384", "n": N, "e": "AQAB" })), Ok(Algorithm::PS384));
        assert_eq!(
            alg(json!({ "kty": "RSA", "alg": "RS512", "use": "sig", "n": N, "e": "AQAB" })),
            Ok(Algorithm::RS512)
        );
    }

    #[test]
    fn a_declared_alg_that_does_not_fit_the_key_is_refused() {
        let mismatched = [
            json!({ "kty": "RSA", "alg": "HS256", "n": N, "e": "AQAB" }),
            json!({ "kty": "RSA", "alg": "ES256", "n": N, "e": "AQAB" }),
            json!({ "kty": "EC", "crv": "P-256", "alg": "ES384", "x": X, "y": Y }),
            json!({ "kty": "OKP", "crv": "Ed25519", "alg": "ES256", "x": X }),
        ];
        for key in mismatched {
            assert_eq!(alg(key.clone()), Err(Unusable::AlgorithmMismatch), "{key}");
        }
    }

    #[test]
    fn symmetric_keys_are_never_usable() {
        assert_eq!(alg(json!({ "kty": "oct", "k": "c2VjcmV0" })), Err(Unusable::Symmetric));
        assert_eq!(alg(json!({ "kty": "oct", "alg": "HS256", "k": "c2VjcmV0" })), Err(Unusable::Symmetric));
    }

    #[test]
    fn encryption_keys_are_left_out() {
        let enc = json!({ "kty": "RSA", "use": "enc", "n": N, "e": "AQAB" });
        let wrap_only = json!({ "kty": "RSA", "key_ops": ["wrapKey"], "n": N, "e": "AQAB" });
        let verify = json!({ "kty": "RSA", "key_ops": ["verify"], "n": N, "e": "AQAB" });

        assert_eq!(alg(enc), Err(Unusable::NotForSignatures));
        assert_eq!(alg(wrap_only), Err(Unusable::NotForSignatures));
        assert_eq!(alg(verify), Ok(Algorithm::RS256));
    }

    #[test]
    fn unsupported_curves_types_and_algorithms_are_left_out() {
        let unsupported = [
            json!({ "kty": "EC", "crv": "P-521", "x": X, "y": Y }),
            json!({ "kty": "EC", "crv": "secp256k1", "x": X, "y": Y }),
            json!({ "kty": "RSA", "alg": "RSA-OAEP", "n": N, "e": "AQAB" }),
            json!({ "kty": "RSA", "alg": "XX999", "n": N, "e": "AQAB" }),
            json!({ "kty": "PQC", "pub": "AAAA" }),
        ];
        for key in unsupported {
            assert_eq!(alg(key.clone()), Err(Unusable::Unsupported), "{key}");
        }
    }
}
