// The little of a browser that qrlogin.js touches, for Node's test runner: a DOM (linkedom), `window`, and
// stand-ins for `fetch` and `EventSource` that the tests script like a gateway. Imported before the module, so
// its `<qr-login>` element is defined on import as in a browser.
import { parseHTML } from "linkedom";

const dom = parseHTML("<!doctype html><html><head></head><body></body></html>");
const listeners = new Map();

globalThis.document = dom.document;
globalThis.HTMLElement = dom.HTMLElement;
globalThis.customElements = dom.customElements;
globalThis.CustomEvent = dom.CustomEvent;
globalThis.window = {
  location: { origin: "https://site.test" },
  addEventListener: (type, fn) => listeners.set(type, [...(listeners.get(type) || []), fn]),
  removeEventListener: (type, fn) => listeners.set(type, (listeners.get(type) || []).filter((f) => f !== fn)),
};

/** Fires a window event (`pagehide`) at the listeners qrlogin.js registered. */
export function fireWindow(type) {
  for (const fn of listeners.get(type) || []) fn({ type });
}

export function windowListeners(type) {
  return (listeners.get(type) || []).length;
}

/**
 * A scripted gateway: `answer(method, path, init)` returns `{ status, body, headers }` (or throws, as a network
 * failure does); every request is recorded in `requests`.
 */
export function gateway(answer) {
  const requests = [];
  globalThis.fetch = async (url, init = {}) => {
    const { origin, pathname } = new URL(url);
    const request = { url, origin, path: pathname, method: init.method || "GET", init };
    requests.push(request);
    const { status = 200, body, headers = {} } = await answer(request.method, pathname, init);
    const type = status >= 400 ? "application/problem+json" : "application/json";
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { "content-type": type, ...headers },
    });
  };
  return requests;
}

/** EventSource as qrlogin.js uses it; the test pushes `status` events and ends the stream. */
export class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static opened = [];

  constructor(url, init) {
    this.url = url;
    this.withCredentials = !!(init && init.withCredentials);
    this.readyState = FakeEventSource.OPEN;
    this.handlers = [];
    this.onerror = null;
    FakeEventSource.opened.push(this);
  }

  addEventListener(type, fn) {
    this.handlers.push([type, fn]);
  }

  emit(answer) {
    for (const [type, fn] of this.handlers) if (type === "status") fn({ data: JSON.stringify(answer) });
  }

  /** The gateway refused the stream: closed for good. */
  refuse() {
    this.readyState = FakeEventSource.CLOSED;
    if (this.onerror) this.onerror({});
  }

  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
}

/** Offers (or withdraws) EventSource, as browsers with and without it. */
export function offerEventSource(offered) {
  FakeEventSource.opened = [];
  if (offered) {
    globalThis.EventSource = FakeEventSource;
    window.EventSource = FakeEventSource;
  } else {
    delete globalThis.EventSource;
    delete window.EventSource;
  }
}

/** Waits until `condition()` holds (qrlogin.js works through promises and timers). */
export async function until(condition, what = "the condition") {
  const end = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const CREATED = {
  uuid: "0b9f5c56-3f4e-4a39-9d2a-5b8c6f0e1a11",
  qr_content: "https://gw.test/q/0b9f5c56-3f4e-4a39-9d2a-5b8c6f0e1a11.secret",
  qr_image: "data:image/png;base64,iVBORw0KGgo=",
  expires_in: 300,
  poll_interval_ms: 5,
};

export const CONFIRMED = {
  status: "confirmed",
  token: "eyJhbGciOiJFUzI1NiJ9.e30.sig",
  token_type: "Bearer",
  expires_in: 3600,
  user: { id: "alice", name: "Alice Liddell" },
};
