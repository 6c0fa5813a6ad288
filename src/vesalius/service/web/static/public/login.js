import { api, currentSession, safeNext, say } from "/static/public/api.js";

const next = safeNext(new URLSearchParams(window.location.search).get("next") || "/");
const form = document.getElementById("login-form");

async function start() {
  try {
    if ((await currentSession()) !== null) window.location.replace(next);
  } catch (_) {
    // the server is reachable but not answering sessions: let the form try
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  say("", { error: true });
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("POST", "/api/login", {
      username: form.username.value.trim(),
      password: form.password.value,
    });
    window.location.assign(next);
  } catch (err) {
    say(err.status === 401 ? "Wrong user name or password." : err.message, { error: true });
    form.password.select();
  } finally {
    button.disabled = false;
  }
});

start();
