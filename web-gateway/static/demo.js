// The demo login page: nothing but qrlogin.js, and a call to /v1/me to show what the token says. It asks again
// every few seconds, as a web backend checking its session would, and says so when the phone ended the session.
// A DPoP-bound token (token_type "DPoP") goes out with a fresh proof by this page's key each time (login.fetch).
import { QrLogin } from "/static/qrlogin.js";

const qr = document.getElementById("qr");
const done = document.getElementById("done");
const RECHECK_MS = 3000;
let recheck;

async function fetchMe(login) {
  const res = login.fetch
    ? await login.fetch("/v1/me")
    : await fetch("/v1/me", { headers: { Authorization: `Bearer ${login.token}` } });
  return { res, body: await res.json() };
}

function watchSession(login) {
  recheck = setInterval(async () => {
    const { res, body } = await fetchMe(login).catch(() => ({ res: { ok: true } }));
    if (!res.ok && body.type === "urn:qrlogin:problem:session-ended") {
      clearInterval(recheck);
      document.getElementById("welcome").textContent = "Logged out from your phone";
      document.getElementById("claims").textContent = "";
    }
  }, RECHECK_MS);
}

async function showUser(result) {
  const { res, body: me } = await fetchMe(result);
  if (!res.ok) throw new Error(me.detail || me.title);
  watchSession(result);
  document.body.dataset.tokenType = result.token_type;
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
