// The demo login page: nothing but qrlogin.js, and a call to /v1/me to show what the token says.
import { QrLogin } from "/static/qrlogin.js";

const qr = document.getElementById("qr");
const done = document.getElementById("done");

async function showUser({ token }) {
  const res = await fetch("/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  const me = await res.json();
  if (!res.ok) throw new Error(me.detail || me.title);
  document.getElementById("welcome").textContent = `Logged in as ${me.user.name || me.user.id}`;
  document.getElementById("claims").textContent = JSON.stringify(me.claims, null, 2);
  qr.hidden = true;
  document.querySelector(".lead").hidden = true;
  done.hidden = false;
  document.getElementById("again").focus();
}

let login;
function start() {
  done.hidden = true;
  qr.hidden = false;
  document.querySelector(".lead").hidden = false;
  login = QrLogin.mount(qr, {
    onLogin: (result) => showUser(result).catch((e) => {
      document.getElementById("welcome").textContent = `Login failed: ${e.message}`;
      done.hidden = false;
    }),
  });
}

document.getElementById("again").addEventListener("click", () => {
  login.destroy();
  start();
});
start();
