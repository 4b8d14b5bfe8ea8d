// DPoP (RFC 9449): the key the client makes, the proofs it signs, and the token answer's proof and fetch.
import "../testkit/dom.js";
import assert from "node:assert/strict";
import { createHash, webcrypto } from "node:crypto";
import { afterEach, test } from "node:test";
import { CREATED, FakeEventSource, gateway, offerEventSource, until } from "../testkit/dom.js";
import { QrLogin, createDpopKey } from "../src/qrlogin.js";

const GW = "https://gw.test";
const b64 = (buffer) => Buffer.from(buffer).toString("base64url");
const part = (jwt, i) => JSON.parse(Buffer.from(jwt.split(".")[i], "base64url").toString());
let mounted = [];

afterEach(() => {
  for (const login of mounted) login.destroy();
  mounted = [];
  document.body.replaceChildren();
});

async function verifies(jwt) {
  const [header, claims, signature] = jwt.split(".");
  const key = await webcrypto.subtle.importKey("jwk", part(jwt, 0).jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const data = new TextEncoder().encode(`${header}.${claims}`);
  return webcrypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, Buffer.from(signature, "base64url"), data);
}

test("a proof is an ES256 dpop+jwt with the public key only, naming the request and signed by that key", async () => {
  const key = await createDpopKey();
  const before = Math.floor(Date.now() / 1000);

  const proof = await key.proof("post", "https://gw.test/v1/qr?x=1#frag");

  const header = part(proof, 0);
  assert.equal(header.typ, "dpop+jwt");
  assert.equal(header.alg, "ES256");
  assert.deepEqual(Object.keys(header.jwk).sort(), ["crv", "kty", "x", "y"], "no private member");
  assert.equal(header.jwk.crv, "P-256");
  const claims = part(proof, 1);
  assert.equal(claims.htm, "POST");
  assert.equal(claims.htu, "https://gw.test/v1/qr", "no query, no fragment");
  assert.ok(claims.iat >= before && claims.iat <= before + 2);
  assert.equal(claims.ath, undefined, "no token, no ath");
  assert.ok(await verifies(proof), "the signature verifies with the header's key");
  assert.equal(Buffer.from(proof.split(".")[2], "base64url").length, 64, "r || s, as JWS wants it");
});

test("each proof has a fresh jti, and with a token its ath is the token's SHA-256", async () => {
  const key = await createDpopKey();
  const a = part(await key.proof("GET", "https://gw.test/v1/me", "the.token.value"), 1);
  const b = part(await key.proof("GET", "https://gw.test/v1/me", "the.token.value"), 1);
  assert.notEqual(a.jti, b.jti);
  assert.equal(a.ath, b64(createHash("sha256").update("the.token.value").digest()));
});

test("the private key cannot be exported, and no WebCrypto means no key", async () => {
  const seen = [];
  const subtle = {
    generateKey: async (...args) => {
      seen.push(args);
      return webcrypto.subtle.generateKey(...args);
    },
    exportKey: (...args) => webcrypto.subtle.exportKey(...args),
  };
  await createDpopKey(subtle);
  assert.equal(seen[0][1], false, "extractable: false");
  assert.equal(await createDpopKey(null), null);
  assert.equal(await createDpopKey({ generateKey: async () => { throw new Error("NotSupported"); } }), null);
});

test("the create carries a proof for POST and its URL; a DPoP token answer brings proof() and fetch()", async () => {
  offerEventSource(true);
  const requests = gateway((method, path) =>
    path === "/v1/qr" ? { status: 201, body: CREATED } : { status: 200, body: { ok: true } });
  const root = document.createElement("div");
  document.body.append(root);
  const logins = [];
  mounted.push(QrLogin.mount(root, { gateway: GW, onLogin: (r) => logins.push(r) }));
  await until(() => FakeEventSource.opened.length === 1, "the stream");

  const created = part(requests[0].init.headers.DPoP, 1);
  assert.deepEqual([created.htm, created.htu], ["POST", `${GW}/v1/qr`]);
  FakeEventSource.opened[0].emit({ status: "confirmed", token: "t.o.k", token_type: "DPoP", expires_in: 60, user: { id: "alice" } });
  const [login] = logins;
  await login.fetch(`${GW}/v1/me`);

  const me = requests.at(-1);
  assert.equal(me.init.headers.get("Authorization"), "DPoP t.o.k");
  const proof = me.init.headers.get("DPoP");
  assert.deepEqual([part(proof, 1).htm, part(proof, 1).htu], ["GET", `${GW}/v1/me`]);
  assert.equal(part(proof, 0).jwk.x, part(requests[0].init.headers.DPoP, 0).jwk.x, "the create's key");
  assert.equal(part(proof, 1).ath, b64(createHash("sha256").update("t.o.k").digest()));
});

test("dpop: false makes a plain Bearer login", async () => {
  offerEventSource(true);
  const requests = gateway(() => ({ status: 201, body: CREATED }));
  const root = document.createElement("div");
  document.body.append(root);
  mounted.push(QrLogin.mount(root, { gateway: GW, dpop: false }));
  await until(() => FakeEventSource.opened.length === 1, "the stream");
  assert.equal(requests[0].init.headers.DPoP, undefined);
});
