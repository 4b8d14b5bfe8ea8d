// Verifies qrlogin web tokens as the web team's Node backend would, with `jose`.
// Usage: node verify.mjs <jwks-url> <issuer> <audience>, then tokens on stdin, one per line; prints one JSON
// line per token. (web-gateway/examples/verify: README "Verifying the web token"; run by tests/tests/e2e/verifiers.rs.)
import readline from "node:readline";
import { createRemoteJWKSet, jwtVerify } from "jose";

const [jwksUrl, issuer, audience] = process.argv.slice(2);

// README:begin
// One key set per process: cached, fetched again when a token names a key it does not know (a rotation).
const keys = createRemoteJWKSet(new URL(jwksUrl));

async function verify(token) {
  const { payload } = await jwtVerify(token, keys, {
    algorithms: ["ES256"], // never what the token's header claims
    typ: "at+jwt", // an access token, not an ID token signed by the same key
    issuer,
    audience,
    requiredClaims: ["sub", "exp", "iat", "jti"],
  });
  return payload; // payload.sub is the user's id
}
// README:end

for await (const line of readline.createInterface({ input: process.stdin })) {
  try {
    const claims = await verify(line.trim());
    console.log(JSON.stringify({ ok: true, sub: claims.sub }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: e.code ?? String(e) }));
  }
}
