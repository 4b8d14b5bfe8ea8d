// Compiled by `npm run typecheck` (never run): the declarations are usable as an adopter would use them, and
// the generated API types still have the shapes they rely on.
import { QrLogin, defineQrLoginElement, type LoginResult, type Status } from "@qrlogin/web";

const root = document.createElement("div");
const login = QrLogin.mount(root, {
  gateway: "https://login.example.com",
  onLogin: ({ token, user, expires_in }: LoginResult) => console.log(token.length, user.id, expires_in + 1),
  onStatus: (status: Status, error?: Error) => console.log(status, error?.message),
  messages: { pending: "Scannez ce code." },
});
login.setMessages({ new_code: "Nouveau code" });
login.destroy();

const element = document.createElement("qr-login");
element.addEventListener("login", (e) => console.log(e.detail.token));
element.addEventListener("status", (e) => console.log(e.detail.status === "loading", e.detail.checkCode));
element.addEventListener("error", (e) => console.log(e.detail.error.message));
element.messages = { error: "Service injoignable." };
defineQrLoginElement("my-login");
