// QrLogin.mount: what the page shows and what the gateway is asked, for each way a login goes.
import "../testkit/dom.js";
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { CONFIRMED, CREATED, FakeEventSource, fireWindow, gateway, offerEventSource, until, windowListeners } from "../testkit/dom.js";
import { DEFAULT_MESSAGES, QrLogin } from "../src/qrlogin.js";

const GW = "https://gw.test";
let mounted = [];

function mount(options = {}) {
  const root = document.createElement("div");
  document.body.append(root);
  const seen = [];
  const logins = [];
  const errors = [];
  const login = QrLogin.mount(root, {
    gateway: `${GW}/`,
    onStatus: (status, error) => seen.push(error ? `${status}:${error.message}` : status),
    onLogin: (result) => logins.push(result),
    onError: (error) => errors.push(error.message),
    ...options,
  });
  mounted.push(login);
  const text = (selector) => root.querySelector(selector).textContent;
  const shown = (selector) => !root.querySelector(selector).hidden;
  return { root, login, seen, logins, errors, text, shown };
}

afterEach(() => {
  for (const login of mounted) login.destroy();
  mounted = [];
  document.body.replaceChildren();
});

test("issues a code with the binding cookie and shows it, with every documented class", async () => {
  offerEventSource(true);
  const requests = gateway(() => ({ status: 201, body: CREATED }));

  const { root, seen, text, shown } = mount();
  assert.equal(text(".qrlogin-status"), DEFAULT_MESSAGES.loading);
  await until(() => seen.includes("pending"), "pending");

  assert.deepEqual(seen, ["loading", "pending"]);
  assert.equal(requests[0].url, `${GW}/v1/qr`);
  assert.equal(requests[0].method, "POST");
  assert.equal(requests[0].init.credentials, "include");
  for (const name of ["qrlogin", "qrlogin-code", "qrlogin-image", "qrlogin-overlay", "qrlogin-refresh", "qrlogin-status", "qrlogin-check-code"]) {
    assert.ok(root.classList.contains(name) || root.querySelector(`.${name}`), name);
  }
  const image = root.querySelector("img.qrlogin-image");
  assert.equal(image.getAttribute("src"), CREATED.qr_image);
  assert.equal(image.dataset.content, CREATED.qr_content);
  assert.ok(shown(".qrlogin-image") && !shown(".qrlogin-overlay") && !shown(".qrlogin-check-code"));
  assert.equal(root.dataset.status, "pending");
  assert.equal(text(".qrlogin-status"), DEFAULT_MESSAGES.pending);
});

test("waits on the event stream: check code, re-issued QR, then the token exactly once", async () => {
  offerEventSource(true);
  gateway(() => ({ status: 201, body: CREATED }));
  const { root, seen, logins, text, shown } = mount();
  await until(() => FakeEventSource.opened.length === 1, "the stream");
  const stream = FakeEventSource.opened[0];

  stream.emit({ status: "pending", qr_content: "https://gw.test/q/next", qr_image: "data:image/png;base64,next" });
  stream.emit({ status: "scanned", check_code: "47" });
  assert.equal(text(".qrlogin-check-code"), "47");
  assert.ok(shown(".qrlogin-check-code"));
  assert.equal(text(".qrlogin-status"), DEFAULT_MESSAGES.check_code);
  assert.equal(root.dataset.checkCode, "47");
  assert.ok(root.querySelector(".qrlogin-image").classList.contains("qrlogin-faded"));
  stream.emit(CONFIRMED);

  assert.equal(stream.url, `${GW}/v1/qr/${CREATED.uuid}/events`);
  assert.ok(stream.withCredentials);
  assert.equal(root.querySelector(".qrlogin-image").getAttribute("src"), "data:image/png;base64,next");
  assert.deepEqual(seen, ["loading", "pending", "pending", "scanned", "confirmed"]);
  assert.deepEqual(logins, [{ token: CONFIRMED.token, token_type: "Bearer", expires_in: 3600, user: CONFIRMED.user }]);
  assert.equal(stream.readyState, FakeEventSource.CLOSED);
  assert.equal(root.dataset.checkCode, undefined);
});

test("polls when the stream is refused, and a denial offers a new code", async () => {
  offerEventSource(true);
  let polls = 0;
  const requests = gateway((method) => {
    if (method === "POST") return { status: 201, body: CREATED };
    polls += 1;
    return { body: { status: polls < 2 ? "pending" : "denied" } };
  });
  const { root, seen, text, shown } = mount();
  await until(() => FakeEventSource.opened.length === 1, "the stream");

  FakeEventSource.opened[0].refuse();
  await until(() => seen.includes("denied"), "denied");

  const poll = requests.find((r) => r.method === "GET");
  assert.equal(poll.url, `${GW}/v1/qr/${CREATED.uuid}`);
  assert.equal(poll.init.credentials, "include");
  assert.equal(poll.init.cache, "no-store");
  assert.ok(shown(".qrlogin-overlay"));
  assert.equal(root.querySelector(".qrlogin-overlay p").textContent, DEFAULT_MESSAGES.denied);
  assert.equal(text(".qrlogin-refresh"), DEFAULT_MESSAGES.new_code);
  const before = requests.length;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(requests.length, before, "no polling after a final status");

  root.querySelector(".qrlogin-refresh").dispatchEvent(new CustomEvent("click"));
  await until(() => requests.filter((r) => r.method === "POST").length === 2, "a new code");
});

test("transport poll never opens a stream; 429 waits Retry-After", async () => {
  offerEventSource(true);
  const requests = gateway((method) => (method === "POST" ? { status: 201, body: CREATED } : { status: 429, body: { title: "slow down" }, headers: { "Retry-After": "60" } }));
  mount({ transport: "poll" });
  await until(() => requests.some((r) => r.method === "GET"), "a poll");
  await new Promise((resolve) => setTimeout(resolve, 40));

  assert.equal(FakeEventSource.opened.length, 0);
  assert.equal(requests.filter((r) => r.method === "GET").length, 1, "the next poll waits 60 s, not 5 ms");
});

test("three refusals in a row (the cookie is gone) end in refused, never an endless scan", async () => {
  offerEventSource(false);
  const requests = gateway((method) => (method === "POST" ? { status: 201, body: CREATED } : { status: 403, body: { title: "Forbidden" } }));
  const { seen, shown, text } = mount();
  await until(() => seen.includes("refused"), "refused");
  await new Promise((resolve) => setTimeout(resolve, 30));

  assert.equal(requests.filter((r) => r.method === "GET").length, 3);
  assert.ok(shown(".qrlogin-overlay"));
  assert.equal(text(".qrlogin-status"), DEFAULT_MESSAGES.refused);
});

test("an unreachable gateway says error, reports why, and tries again", async () => {
  offerEventSource(false);
  gateway(() => ({ status: 503, body: { type: "urn:qrlogin:problem:unavailable", title: "Unavailable", status: 503, detail: "try later" } }));
  const { seen, errors, text } = mount();
  await until(() => errors.length === 1, "an error");

  assert.deepEqual(seen, ["loading", "error", "error:try later"]);
  assert.deepEqual(errors, ["try later"]);
  assert.equal(text(".qrlogin-status"), DEFAULT_MESSAGES.error);
});

test("destroyed before the code is issued: the session is cancelled and nothing more is said", async () => {
  offerEventSource(true);
  let issue;
  const requests = gateway((method) => (method === "POST" ? new Promise((resolve) => (issue = resolve)) : { status: 204 }));
  const { root, login, seen } = mount();
  await until(() => issue, "the POST");

  login.destroy();
  issue({ status: 201, body: CREATED });
  await until(() => requests.some((r) => r.method === "DELETE"), "the DELETE");

  assert.deepEqual(seen, ["loading"]);
  assert.equal(FakeEventSource.opened.length, 0);
  assert.equal(root.children.length, 0);
  assert.equal(windowListeners("pagehide"), 0);
});

test("leaving the page cancels the login with a keepalive DELETE", async () => {
  offerEventSource(true);
  const requests = gateway((method) => (method === "POST" ? { status: 201, body: CREATED } : { status: 204 }));
  const { seen } = mount();
  await until(() => seen.includes("pending"), "pending");

  fireWindow("pagehide");
  await until(() => requests.some((r) => r.method === "DELETE"), "the DELETE");

  const cancel = requests.find((r) => r.method === "DELETE");
  assert.equal(cancel.url, `${GW}/v1/qr/${CREATED.uuid}`);
  assert.ok(cancel.init.keepalive);
  assert.equal(cancel.init.credentials, "include");
});

test("every text can be replaced (i18n), at mount and later without a new code", async () => {
  offerEventSource(true);
  const requests = gateway(() => ({ status: 201, body: CREATED }));
  const { root, login, seen, text } = mount({ messages: { pending: "Scannez ce code.", new_code: "Nouveau code" } });
  await until(() => seen.includes("pending"), "pending");
  assert.equal(text(".qrlogin-status"), "Scannez ce code.");
  assert.equal(text(".qrlogin-refresh"), "Nouveau code");

  login.setMessages({ pending: "Scanne diesen Code.", image_alt: "QR-Code" });

  assert.equal(text(".qrlogin-status"), "Scanne diesen Code.");
  assert.equal(text(".qrlogin-refresh"), DEFAULT_MESSAGES.new_code, "setMessages replaces all overrides");
  assert.equal(root.querySelector(".qrlogin-image").getAttribute("alt"), "QR-Code");
  assert.equal(requests.length, 1);
  assert.deepEqual(Object.keys(DEFAULT_MESSAGES).sort(), [
    "cancelled", "check_code", "confirmed", "denied", "error", "expired", "image_alt", "loading", "new_code", "pending", "refused", "scanned",
  ]);
});

test("the gateway defaults to the page's origin", async () => {
  offerEventSource(true);
  const requests = gateway(() => ({ status: 201, body: CREATED }));
  mount({ gateway: undefined });
  await until(() => requests.length === 1, "the POST");
  assert.equal(requests[0].url, "https://site.test/v1/qr");
});
