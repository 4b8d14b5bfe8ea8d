// The page's own script: listens to the <qr-login> element's events. In a real page, `login` sends the token to
// your backend (which verifies it and opens your session); here it only shows what the token says.
const login = document.getElementById("login");
const state = document.getElementById("state");

login.addEventListener("status", (event) => {
  state.textContent = `status: ${event.detail.status}${event.detail.checkCode ? ` (check code ${event.detail.checkCode})` : ""}`;
});

login.addEventListener("error", (event) => {
  state.textContent = `the gateway could not be reached (${event.detail.error.message}); the element retries`;
});

login.addEventListener("login", (event) => {
  const { token, user } = event.detail;
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  document.getElementById("welcome").textContent = `Logged in as ${user.name || user.id}`;
  document.getElementById("claims").textContent = JSON.stringify(JSON.parse(atob(payload)), null, 2);
  document.getElementById("done").hidden = false;
  login.hidden = true;
});
