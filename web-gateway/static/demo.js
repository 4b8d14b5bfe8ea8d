// The demo login page: nothing but qrlogin.js, and a call to /v1/me to show what the token says. It asks again
// every few seconds, as a web backend checking its session would, and says so when the phone ended the session.
import { QrLogin } from "/static/qrlogin.js";

const qr = document.getElementById("qr");
const done = document.getElementById("done");
const RECHECK_MS = 3000;
let recheck;

async function fetchMe(token) {
  const res = await fetch("/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  return { res, body: await res.json() };
}

function watchSession(token) {
  recheck = setInterval(async () => {
    const { res, body } = await fetchMe(token).catch(() => ({ res: { ok: true } }));
    if (!res.ok && body.type === "urn:qrlogin:problem:session-ended") {
      clearInterval(recheck);
      document.getElementById("welcome").textContent = "Logged out from your phone";
      document.getElementById("claims").textContent = "";
    }
  }, RECHECK_MS);
}

async function showUser({ token }) {
  const { res, body: me } = await fetchMe(token);
  if (!res.ok) throw new Error(me.detail || me.title);
  watchSession(token);
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
  clearInterval(recheck);
  login.destroy();
  start();
});
start();
