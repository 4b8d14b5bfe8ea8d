// qrlogin.js: the browser side of a QR login, as a dependency-free ES module.
//
//   import { QrLogin } from "https://login.example.com/static/qrlogin.js";
//   const login = QrLogin.mount(document.getElementById("qr"), {
//     gateway: "https://login.example.com",          // default: this page's origin
//     onLogin: ({ token, user, expires_in }) => ..., // the web token, once
//     onStatus: (status) => ...,                     // "pending", "scanned", "denied", "cancelled", "expired", "confirmed",
//                                                    // "refused" (this tab lost the session's cookie), "error"
//                                                    // scanned with a check code: the number is shown under the QR
//   });
//   login.destroy();                                 // cancels a login still in progress
//
// It waits with Server-Sent Events when the gateway offers them and falls back to polling at the advised
// interval; it swaps re-issued QR images, offers a new code when one expires or is refused, and cancels the
// session when the page is left.

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
};
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
      alt: "QR code to log in: scan it with the app on your phone.",
    });
    this.image.hidden = true;
    this.overlay = element("div", { class: "qrlogin-overlay" });
    this.overlay.hidden = true;
    this.refreshButton = element("button", { type: "button", class: "qrlogin-refresh" }, "New code");
    this.refreshButton.addEventListener("click", () => this.start());
    this.overlay.append(element("p", {}, MESSAGES.expired), this.refreshButton);
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
      this.onStatus("error", e);
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
    this.message.textContent = MESSAGES[status] || status;
    const code = status === "scanned" && /^[0-9]{2}$/.test(checkCode || "") ? checkCode : "";
    this.checkCode.hidden = !code;
    this.checkCode.textContent = code;
    if (code) {
      this.message.textContent = MESSAGES.check_code;
      this.root.dataset.checkCode = code;
    } else delete this.root.dataset.checkCode;
    const over = ["expired", "denied", "cancelled", "refused"].includes(status);
    this.overlay.hidden = !over;
    this.overlay.firstChild.textContent = MESSAGES[status] || "";
    this.image.classList.toggle("qrlogin-faded", over || status === "scanned");
    if (over) this.refreshButton.focus({ preventScroll: true });
    this.onStatus(status);
  }

  retryLater(error) {
    if (this.destroyed) return;
    this.setStatus("error");
    this.onStatus("error", error);
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
  /** Starts a QR login inside `root` (an empty element). Returns `{ destroy, refresh }`. */
  mount(root, options = {}) {
    const login = new Login(root, options);
    return { destroy: () => login.destroy(), refresh: () => login.start() };
  },
};
