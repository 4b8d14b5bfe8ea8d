// qrlogin.js: the browser side of a QR login, as a dependency-free ES module (npm: @qrlogin/web; the API, every
// option, status, CSS class and message key: web-gateway/js/README.md). The source is web-gateway/js/src/qrlogin.js;
// web-gateway/static/qrlogin.js, which the gateway serves, is a copy that `npm run build` writes there.
//
//   import { QrLogin } from "https://login.example.com/static/qrlogin.js";
//   const login = QrLogin.mount(document.getElementById("qr"), {
//     gateway: "https://login.example.com",          // default: this page's origin
//     onLogin: ({ token, user, expires_in }) => ..., // the web token, once
//     onStatus: (status) => ...,                     // "loading", "pending", "scanned", "denied", "cancelled",
//                                                    // "expired", "confirmed", "refused" (this tab lost the
//                                                    // session's cookie), "error"; scanned with a check code:
//                                                    // the number is shown under the QR
//     messages: { pending: "Scannez ce code…" },     // any text shown, overridden (i18n)
//   });
//   login.destroy();                                 // cancels a login still in progress
//
// Or the custom element, defined on import:  <qr-login gateway="https://login.example.com"></qr-login>
// firing `login` (detail: the token answer), `status` (detail: { status, checkCode }) and `error` (detail: { error }).
//
// It waits with Server-Sent Events when the gateway offers them and falls back to polling at the advised
// interval; it swaps re-issued QR images, offers a new code when one expires or is refused, and cancels the
// session when the page is left.

/** The package version: its major is the HTTP API's (`/v1/`); the gateway also serves this file as
 * `/static/qrlogin-<VERSION>.js`, never changed, for Subresource Integrity. */
export const VERSION = "1.0.0";

const MESSAGES = {
  loading: "Preparing a login code…",
  pending: "Scan this code with the app on your phone.",
  scanned: "Scanned. Confirm the login on your phone.",
  check_code: "Scanned. Type this number on your phone to confirm:",
  confirmed: "Confirmed. Logging you in…",
  denied: "The login was denied on the phone.",
  cancelled: "This login was cancelled.",
  expired: "This code has expired.",
  error: "Cannot reach the login service. Trying again…",
  refused: "This code no longer works in this tab.",
  image_alt: "QR code to log in: scan it with the app on your phone.",
  new_code: "New code",
};
/** The default English texts, by key: override any of them with the `messages` option. */
export const DEFAULT_MESSAGES = Object.freeze({ ...MESSAGES });
// Consecutive 403s (this browser no longer holds the session's cookie) after which the code is given up.
const MAX_REFUSALS = 3;
const FINAL = new Set(["confirmed", "denied", "cancelled", "expired"]);

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

class Login {
  constructor(root, options) {
    this.root = root;
    this.gateway = (options.gateway || window.location.origin).replace(/\/$/, "");
    this.onLogin = options.onLogin || (() => {});
    this.onStatus = options.onStatus || (() => {});
    this.onError = options.onError || (() => {});
    this.messages = { ...MESSAGES, ...options.messages };
    this.useEvents = options.transport !== "poll" && "EventSource" in window;
    this.session = null;
    this.status = null;
    this.timer = null;
    this.deadline = null;
    this.events = null;
    this.refusals = 0;
    this.destroyed = false;
    this.render();
    this.leave = () => this.cancel();
    window.addEventListener("pagehide", this.leave);
    this.start();
  }

  render() {
    this.root.classList.add("qrlogin");
    this.root.replaceChildren();
    this.figure = element("figure", { class: "qrlogin-code" });
    this.image = element("img", {
      class: "qrlogin-image",
      width: "240",
      height: "240",
      alt: this.messages.image_alt,
    });
    this.image.hidden = true;
    this.overlay = element("div", { class: "qrlogin-overlay" });
    this.overlay.hidden = true;
    this.refreshButton = element("button", { type: "button", class: "qrlogin-refresh" }, this.messages.new_code);
    this.refreshButton.addEventListener("click", () => this.start());
    this.overlay.append(element("p", {}, this.messages.expired), this.refreshButton);
    this.figure.append(this.image, this.overlay);
    this.message = element("p", { class: "qrlogin-status", role: "status", "aria-live": "polite" });
    // Number matching: once scanned, the phone may ask for this number; only this browser is shown it.
    this.checkCode = element("p", { class: "qrlogin-check-code", "aria-live": "polite" });
    this.checkCode.hidden = true;
    this.root.append(this.figure, this.message, this.checkCode);
  }

  async start() {
    this.stopWaiting();
    this.session = null;
    this.setStatus("loading");
    try {
      const res = await fetch(`${this.gateway}/v1/qr`, { method: "POST", credentials: "include" });
      if (!res.ok) throw await problem(res);
      const session = await res.json();
      // Destroyed while the code was being issued (React StrictMode mounts, cleans up and mounts again): give
      // the session up at once and stay silent, rather than leave an orphan polling into 403s.
      if (this.destroyed) {
        abandon(this.gateway, session.uuid);
        return;
      }
      this.session = session;
      this.refusals = 0;
      this.showCode(this.session);
      this.setStatus("pending");
      this.wait();
      // A login window that simply runs out publishes nothing, so a stream would only notice at its next
      // re-read: ask once the window has ended (the gateway forgets the session then), and offer a new code.
      const uuid = this.session.uuid;
      this.deadline = setTimeout(() => this.checkExpired(uuid), this.session.expires_in * 1000 + 500);
    } catch (e) {
      if (!this.destroyed) this.retryLater(e);
    }
  }

  showCode({ qr_image, qr_content }) {
    if (!qr_image) return;
    this.image.src = qr_image;
    this.image.dataset.content = qr_content;
    this.image.hidden = false;
  }

  wait() {
    if (this.useEvents) this.listen();
    else this.poll();
  }

  listen() {
    const url = `${this.gateway}/v1/qr/${this.session.uuid}/events`;
    const events = new EventSource(url, { withCredentials: true });
    this.events = events;
    events.addEventListener("status", (e) => this.handle(JSON.parse(e.data)));
    events.onerror = () => {
      // EventSource reconnects by itself (resuming with Last-Event-ID); if the gateway refused the stream it
      // is closed for good, and polling takes over.
      if (events.readyState === EventSource.CLOSED && this.events === events) {
        this.events = null;
        if (!FINAL.has(this.status)) this.poll();
      }
    };
  }

  async poll() {
    if (!this.session) return;
    const uuid = this.session.uuid;
    let delay = this.session.poll_interval_ms;
    try {
      const res = await fetch(`${this.gateway}/v1/qr/${uuid}`, { credentials: "include", cache: "no-store" });
      if (res.status === 429) delay = retryAfter(res, delay);
      else if (res.status === 403) {
        if (this.refused()) return;
      } else if (!res.ok) throw await problem(res);
      else {
        this.refusals = 0;
        this.handle(await res.json());
      }
    } catch (e) {
      this.failed(e);
      delay = Math.max(delay, 2000);
    }
    if (this.session && this.session.uuid === uuid && !FINAL.has(this.status)) {
      this.timer = setTimeout(() => this.poll(), delay);
    }
  }

  async checkExpired(uuid) {
    if (!this.session || this.session.uuid !== uuid || FINAL.has(this.status)) return;
    try {
      const res = await fetch(`${this.gateway}/v1/qr/${uuid}`, { credentials: "include", cache: "no-store" });
      if (res.ok && this.session && this.session.uuid === uuid) this.handle(await res.json());
    } catch (_) {
      // The gateway is unreachable: the stream or the poll loop already says so.
    }
  }

  // This browser no longer holds the session's cookie (cleared, or from another origin's session): after a
  // few refusals in a row, say so and offer a new code instead of showing a code that can never log in.
  refused() {
    this.refusals += 1;
    if (this.refusals < MAX_REFUSALS) return false;
    this.stopWaiting();
    this.session = null;
    this.setStatus("refused");
    return true;
  }

  handle(answer) {
    if (this.destroyed) return;
    if (answer.qr_image) this.showCode(answer);
    if (answer.status === "confirmed") {
      this.stopWaiting();
      this.setStatus("confirmed");
      this.session = null;
      this.onLogin({
        token: answer.token,
        token_type: answer.token_type,
        expires_in: answer.expires_in,
        user: answer.user,
      });
      return;
    }
    this.setStatus(answer.status, answer.check_code);
    if (FINAL.has(answer.status)) {
      this.stopWaiting();
      this.session = null;
    }
  }

  setStatus(status, checkCode) {
    if (this.destroyed) return;
    this.status = status;
    this.root.dataset.status = status;
    const code = status === "scanned" && /^[0-9]{2}$/.test(checkCode || "") ? checkCode : "";
    if (code) this.root.dataset.checkCode = code;
    else delete this.root.dataset.checkCode;
    this.paint();
    const over = ["expired", "denied", "cancelled", "refused"].includes(status);
    if (over) this.refreshButton.focus({ preventScroll: true });
    this.onStatus(status);
  }

  // Shows the current status in words: on every change, and when the texts are replaced (another language).
  paint() {
    const status = this.status;
    const code = this.root.dataset.checkCode || "";
    this.message.textContent = this.messages[status] || status;
    this.checkCode.hidden = !code;
    this.checkCode.textContent = code;
    if (code) this.message.textContent = this.messages.check_code;
    const over = ["expired", "denied", "cancelled", "refused"].includes(status);
    this.overlay.hidden = !over;
    this.overlay.firstChild.textContent = this.messages[status] || "";
    this.image.classList.toggle("qrlogin-faded", over || status === "scanned");
  }

  setMessages(overrides) {
    if (this.destroyed) return;
    this.messages = { ...MESSAGES, ...overrides };
    this.image.setAttribute("alt", this.messages.image_alt);
    this.refreshButton.textContent = this.messages.new_code;
    this.paint();
  }

  // A failed request: the status line keeps what it shows, the callbacks hear why.
  failed(error) {
    this.onStatus("error", error);
    this.onError(error);
  }

  retryLater(error) {
    if (this.destroyed) return;
    this.setStatus("error");
    this.failed(error);
    this.timer = setTimeout(() => this.start(), 3000);
  }

  stopWaiting() {
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
    if (this.events) this.events.close();
    this.events = null;
  }

  // Leaving the page abandons the login: the gateway forgets it at once instead of at its expiry.
  cancel() {
    if (!this.session || FINAL.has(this.status)) return;
    abandon(this.gateway, this.session.uuid);
    this.session = null;
  }

  destroy() {
    this.destroyed = true;
    this.cancel();
    this.stopWaiting();
    window.removeEventListener("pagehide", this.leave);
    this.root.replaceChildren();
  }
}

function abandon(gateway, uuid) {
  fetch(`${gateway}/v1/qr/${uuid}`, { method: "DELETE", credentials: "include", keepalive: true }).catch(() => {});
}

async function problem(res) {
  let detail = `${res.status}`;
  try {
    const body = await res.json();
    detail = body.detail || body.title || detail;
  } catch (_) {
    // not JSON: keep the status
  }
  return new Error(detail);
}

function retryAfter(res, fallback) {
  const seconds = Number(res.headers.get("Retry-After"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : fallback;
}

export const QrLogin = {
  /** Starts a QR login inside `root` (an empty element). Returns `{ destroy, refresh, setMessages }`. */
  mount(root, options = {}) {
    const login = new Login(root, options);
    return {
      destroy: () => login.destroy(),
      refresh: () => login.start(),
      setMessages: (messages) => login.setMessages(messages),
    };
  },
};

/** `messages` given as an attribute: a JSON object of texts by key; anything else is ignored (and said so). */
function parseMessages(json) {
  if (!json) return {};
  try {
    const parsed = JSON.parse(json);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  } catch (_) {
    // reported below
  }
  console.warn("qr-login: the messages attribute is not a JSON object; using the default texts");
  return {};
}

/**
 * Defines the `<qr-login>` custom element (done on import in a browser; call it yourself to pick another name
 * or registry). Light DOM, so the page's CSS styles the `.qrlogin-*` classes. Returns the element class.
 */
export function defineQrLoginElement(name = "qr-login", registry = globalThis.customElements) {
  const defined = registry.get(name);
  if (defined) return defined;

  class QrLoginElement extends HTMLElement {
    static observedAttributes = ["gateway", "transport", "messages"];
    #login = null;
    #messages = {};

    /** Texts by key, over the `messages` attribute's; setting it changes the texts without a new code. */
    get messages() {
      return { ...parseMessages(this.getAttribute("messages")), ...this.#messages };
    }

    set messages(overrides) {
      this.#messages = { ...overrides };
      if (this.#login) this.#login.setMessages(this.messages);
    }

    /** The current status (`loading`, `pending`, …), as on the `data-status` attribute. */
    get status() {
      return this.dataset.status || null;
    }

    connectedCallback() {
      this.#start();
    }

    disconnectedCallback() {
      this.#stop();
    }

    attributeChangedCallback(attribute, before, after) {
      if (!this.#login || before === after) return;
      if (attribute === "messages") this.#login.setMessages(this.messages);
      else this.#start();
    }

    /** A new code, as the "New code" button does. */
    refresh() {
      if (this.#login) this.#login.refresh();
    }

    #start() {
      this.#stop();
      if (!this.isConnected) return;
      this.#login = QrLogin.mount(this, {
        gateway: this.getAttribute("gateway") || undefined,
        transport: this.getAttribute("transport") || undefined,
        messages: this.messages,
        onLogin: (answer) => this.#fire("login", answer),
        // A status without an error is a state the element now shows; failures are `error` events.
        onStatus: (status, error) => {
          if (error === undefined) this.#fire("status", { status, checkCode: this.dataset.checkCode || null });
        },
        onError: (error) => this.#fire("error", { error }),
      });
    }

    #stop() {
      if (this.#login) this.#login.destroy();
      this.#login = null;
    }

    #fire(type, detail) {
      this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
    }
  }

  registry.define(name, QrLoginElement);
  return QrLoginElement;
}

// Importing the module is enough in a browser; in Node (server-side rendering) there is nothing to define.
if (globalThis.customElements && globalThis.HTMLElement && !globalThis.customElements.get("qr-login")) {
  defineQrLoginElement();
}
