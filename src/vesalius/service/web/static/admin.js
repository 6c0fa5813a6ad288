// Administration: user accounts (add, role, active, password) and the audit log.
import { api, el, say } from "/static/public/api.js";
import { startPage } from "/static/nav.js";

const ROLES = ["admin", "radiologist", "technologist", "viewer", "service"];
const PAGE = 100;
const auditForm = document.getElementById("audit-filters");
const olderButton = document.getElementById("older");
let oldestId = null;

async function change(user, fields, message) {
  try {
    await api("PATCH", `/api/users/${encodeURIComponent(user.username)}`, fields);
    say(message);
  } catch (err) {
    say(`${user.username}: ${err.message}`, { error: true });
  }
  await loadUsers();
}

function roleSelect(user) {
  const select = el("select", { "aria-label": `Role of ${user.username}` },
    ROLES.map((r) => el("option", { value: r, selected: r === user.role }, r)));
  select.addEventListener("change", () =>
    change(user, { role: select.value }, `${user.username} is now ${select.value}.`));
  return select;
}

function activeBox(user) {
  const box = el("input", { type: "checkbox", checked: user.active,
    "aria-label": `${user.username} active` });
  box.addEventListener("change", () => change(user, { active: box.checked },
    `${user.username} ${box.checked ? "activated" : "deactivated"}.`));
  return box;
}

function passwordButton(user) {
  const b = el("button", { type: "button", "aria-label": `Set the password of ${user.username}` },
    "Set...");
  b.addEventListener("click", () => {
    const password = window.prompt(`New password for ${user.username}`);
    if (password) change(user, { password }, `Password of ${user.username} changed.`);
  });
  return b;
}

async function loadUsers() {
  try {
    const answer = await api("GET", "/api/users");
    const users = Array.isArray(answer) ? answer : answer.items || answer.users || [];
    document.querySelector("#users tbody").replaceChildren(...users.map((u) =>
      el("tr", {}, el("td", {}, u.username), el("td", {}, u.full_name || ""),
        el("td", {}, roleSelect(u)), el("td", {}, activeBox(u)), el("td", {}, passwordButton(u)))));
  } catch (err) {
    say(`Users did not load: ${err.message}`, { error: true });
  }
}

function auditRow(e) {
  return el("tr", {}, el("td", {}, new Date(e.at).toLocaleString()), el("td", {}, e.who),
    el("td", {}, e.action), el("td", {}, [e.object_type, e.object_id].filter(Boolean).join(" ")),
    el("td", {}, e.source || ""), el("td", { className: `outcome ${e.outcome}` }, e.outcome),
    el("td", {}, e.detail || ""));
}

async function loadAudit({ older = false } = {}) {
  const params = new URLSearchParams();
  for (const name of ["who", "action", "object_type", "object_id"]) {
    const value = auditForm.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  params.set("limit", String(PAGE));
  if (older && oldestId !== null) params.set("before_id", String(oldestId));
  try {
    const { items } = await api("GET", `/api/audit?${params}`);
    const rows = items.map(auditRow);
    const body = document.querySelector("#audit tbody");
    if (older) body.append(...rows);
    else body.replaceChildren(...rows);
    if (items.length) oldestId = items[items.length - 1].id;
    olderButton.hidden = items.length < PAGE;
  } catch (err) {
    say(`The audit log did not load: ${err.message}`, { error: true });
  }
}

async function main() {
  const session = await startPage("/admin");
  if (session === null) return;
  document.querySelectorAll("select.roles").forEach((s) =>
    s.replaceChildren(...ROLES.map((r) => el("option", { value: r, selected: r === "radiologist" }, r))));
  const addForm = document.getElementById("add-user");
  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(addForm));
    try {
      await api("POST", "/api/users", fields);
      say(`Added ${fields.username}.`);
      addForm.reset();
    } catch (err) {
      say(`Not added: ${err.message}`, { error: true });
    }
    await loadUsers();
  });
  auditForm.addEventListener("submit", (event) => {
    event.preventDefault();
    oldestId = null;
    loadAudit();
  });
  olderButton.addEventListener("click", () => loadAudit({ older: true }));
  await Promise.all([loadUsers(), loadAudit()]);
}

main();
