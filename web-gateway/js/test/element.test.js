// <qr-login>: attributes in, DOM events out, as React, Vue or plain HTML use it.
import "../testkit/dom.js";
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { CONFIRMED, CREATED, FakeEventSource, gateway, offerEventSource, until } from "../testkit/dom.js";
import { DEFAULT_MESSAGES, defineQrLoginElement } from "../src/qrlogin.js";

afterEach(() => document.body.replaceChildren());

function place(html) {
  const holder = document.createElement("div");
  holder.innerHTML = html;
  const element = holder.querySelector("qr-login");
  const events = [];
  for (const type of ["login", "status", "error"]) {
    // Listened to on the holder (the events bubble) before it is placed, as React and Vue attach theirs.
    holder.addEventListener(type, (e) => events.push([type, e.detail]));
  }
  document.body.append(holder);
  return { holder, element, events };
}

test("importing the module defines <qr-login>", () => {
  assert.equal(typeof customElements.get("qr-login"), "function");
  assert.equal(defineQrLoginElement(), customElements.get("qr-login"), "defining twice returns the same class");
});

test("shows a code from its gateway and fires status and login events", async () => {
  offerEventSource(true);
  const requests = gateway(() => ({ status: 201, body: CREATED }));
  const { element, events } = place(`<qr-login gateway="https://gw.test"></qr-login>`);
  await until(() => FakeEventSource.opened.length === 1, "the stream");
  const stream = FakeEventSource.opened[0];

  stream.emit({ status: "scanned", check_code: "08" });
  stream.emit(CONFIRMED);

  assert.equal(requests[0].url, "https://gw.test/v1/qr");
  assert.ok(element.classList.contains("qrlogin") && element.querySelector("img.qrlogin-image"));
  assert.deepEqual(events, [
    ["status", { status: "loading", checkCode: null }],
    ["status", { status: "pending", checkCode: null }],
    ["status", { status: "scanned", checkCode: "08" }],
    ["status", { status: "confirmed", checkCode: null }],
    ["login", { token: CONFIRMED.token, token_type: "Bearer", expires_in: 3600, user: CONFIRMED.user }],
  ]);
  assert.equal(element.status, "confirmed");
});

test("a failing gateway fires error events with the reason; status stays what is shown", async () => {
  offerEventSource(false);
  gateway(() => ({ status: 500, body: { title: "Internal Server Error", status: 500 } }));
  const { events } = place(`<qr-login gateway="https://gw.test"></qr-login>`);
  await until(() => events.some(([type]) => type === "error"), "an error event");

  assert.deepEqual(events.map(([type, detail]) => [type, detail.status || detail.error.message]), [
    ["status", "loading"],
    ["status", "error"],
    ["error", "Internal Server Error"],
  ]);
});

test("removed from the page, it cancels its login", async () => {
  offerEventSource(true);
  const requests = gateway((method) => (method === "POST" ? { status: 201, body: CREATED } : { status: 204 }));
  const { holder, events } = place(`<qr-login gateway="https://gw.test"></qr-login>`);
  await until(() => events.length === 2, "pending");

  holder.remove();
  await until(() => requests.some((r) => r.method === "DELETE"), "the DELETE");

  assert.equal(requests.find((r) => r.method === "DELETE").url, `https://gw.test/v1/qr/${CREATED.uuid}`);
  assert.equal(FakeEventSource.opened[0].readyState, FakeEventSource.CLOSED);
});

test("texts come from the messages attribute and property, and change without a new code", async () => {
  offerEventSource(true);
  const requests = gateway(() => ({ status: 201, body: CREATED }));
  const { element, events } = place(`<qr-login gateway="https://gw.test" messages='{"pending":"Scannez ce code."}'></qr-login>`);
  await until(() => events.length === 2, "pending");
  const line = () => element.querySelector(".qrlogin-status").textContent;
  assert.equal(line(), "Scannez ce code.");

  element.setAttribute("messages", '{"pending":"Scanne diesen Code."}');
  assert.equal(line(), "Scanne diesen Code.");
  element.messages = { pending: "Escanea este código.", new_code: "Nuevo código" };
  assert.equal(line(), "Escanea este código.");
  assert.equal(element.querySelector(".qrlogin-refresh").textContent, "Nuevo código");
  element.messages = {};
  element.setAttribute("messages", "not json");
  assert.equal(line(), DEFAULT_MESSAGES.pending);

  assert.equal(requests.length, 1, "no new code for new texts");
});

test("a new gateway attribute starts over there", async () => {
  offerEventSource(true);
  const answers = { POST: { status: 201, body: CREATED }, GET: { body: { status: "pending" } }, DELETE: { status: 204 } };
  const requests = gateway((method) => answers[method]);
  const { element, events } = place(`<qr-login gateway="https://gw.test" transport="poll"></qr-login>`);
  await until(() => requests.some((r) => r.method === "GET"), "a poll");

  element.setAttribute("gateway", "https://other.test");
  await until(() => requests.some((r) => r.url === "https://other.test/v1/qr"), "the new gateway");

  assert.ok(requests.some((r) => r.method === "DELETE" && r.origin === "https://gw.test"), "the old login is cancelled");
  assert.equal(FakeEventSource.opened.length, 0, "transport=poll");
  assert.deepEqual(events.filter(([type]) => type === "error"), []);
});
