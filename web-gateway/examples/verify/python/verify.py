"""Verifies qrlogin web tokens as the web team's Python backend would, with PyJWT and its JWKS client.

Usage: python3 verify.py <jwks-url> <issuer> <audience>, then tokens on stdin, one per line; prints one JSON
line per token. (web-gateway/examples/verify: README "Verifying the web token"; run by
tests/tests/e2e/verifiers.rs.)
"""

import json
import sys

import jwt

jwks_url, issuer, audience = sys.argv[1:4]

# README:begin
# One client per process: it caches the key set and fetches it again for a key it does not know (a rotation).
keys = jwt.PyJWKClient(jwks_url)


def verify(token: str) -> dict:
    if jwt.get_unverified_header(token).get("typ") != "at+jwt":
        raise jwt.InvalidTokenError("not a qrlogin access token")
    return jwt.decode(
        token,
        keys.get_signing_key_from_jwt(token),
        algorithms=["ES256"],  # never what the token's header claims
        issuer=issuer,
        audience=audience,
        options={"require": ["sub", "exp", "iat", "jti"]},
    )  # ["sub"] is the user's id
# README:end


for line in sys.stdin:
    try:
        print(json.dumps({"ok": True, "sub": verify(line.strip())["sub"]}), flush=True)
    except jwt.PyJWTError as e:
        print(json.dumps({"ok": False, "error": type(e).__name__}), flush=True)
