// The worklist: studies by priority, claim/release, keyboard, live updates.
import { api, el, say } from "/static/public/api.js";
import { badge, minutes, startPage } from "/static/nav.js";

const form = document.getElementById("filters");
const body = document.querySelector("#worklist tbody");
const count = document.getElementById("count");
let session = null;
let items = [];
let selected = 0;
let reloadTimer = null;

function query() {
  const params = new URLSearchParams();
  for (const name of ["status", "modality", "q", "sort"]) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  params.set("limit", "100");
  return params;
}

function studyUrl(item) {
  return `/studies/${encodeURIComponent(item.study_uid)}`;
}

function actionButton(item) {
  const mine = item.claimed_by === session.user.username;
  if (item.claimed_by && (mine || session.user.role === "admin")) {
    return button("Release", () => release(item), `Release ${item.patient_name}`);
  }
  if (item.claimed_by) return null;
  return button("Claim", () => claim(item), `Claim ${item.patient_name}`);
}

function button(label, action, description) {
  const node = el("button", { type: "button", "aria-label": description }, label);
  node.addEventListener("click", (event) => {
    event.stopPropagation();
    action();
  });
  return node;
}

function row(item, index) {
  const reasons = item.priority.reasons.length ? item.priority.reasons : ["no finding raised it"];
  const report = item.report ? item.report.state : "none";
  const tr = el(
    "tr",
    { tabIndex: -1, "data-uid": item.study_uid, "aria-selected": String(index === selected) },
    el("td", {}, badge(item.priority.level, item.priority.score),
      item.order_priority ? el("span", { className: "order" }, item.order_priority) : null),
    el("td", { className: "reasons" }, el("ul", {}, reasons.map((r) => el("li", {}, r)))),
    el("td", {}, el("strong", {}, item.patient_name || "(no name)"), el("br"), item.patient_id),
    el("td", {},
      el("a", { href: studyUrl(item) }, item.description || "(no description)"), el("br"),
      [item.modalities.join("/"), item.study_date, item.accession_number].filter(Boolean).join(" · ")),
    el("td", {}, minutes(item.waiting_minutes)),
    el("td", {}, item.claimed_by || "—"),
    el("td", {}, el("span", { className: `state ${report}` }, report)),
    el("td", { className: "actions" }, actionButton(item)),
  );
  tr.addEventListener("click", () => select(index));
  tr.addEventListener("dblclick", () => window.location.assign(studyUrl(item)));
  return tr;
}

function render() {
  body.replaceChildren(...items.map(row));
  select(Math.min(selected, Math.max(items.length - 1, 0)), { focus: false });
}

function select(index, { focus = true } = {}) {
  const rows = body.querySelectorAll("tr");
  if (!rows.length) return;
  selected = Math.max(0, Math.min(index, rows.length - 1));
  rows.forEach((tr, i) => tr.setAttribute("aria-selected", String(i === selected)));
  if (focus) rows[selected].focus();
}

async function load() {
  try {
    const page = await api("GET", `/api/worklist?${query()}`);
    items = page.items;
    count.textContent = `${page.total} ${page.total === 1 ? "study" : "studies"}`;
    render();
    say("", { error: true });
  } catch (err) {
    say(`The worklist did not load: ${err.message}`, { error: true });
  }
}

async function claim(item) {
  try {
    await api("POST", `/api/studies/${encodeURIComponent(item.study_uid)}/claim`);
    say(`Claimed ${item.patient_name}.`);
  } catch (err) {
    say(`Not claimed: ${err.message}`, { error: true });
  }
  await load();
}

async function release(item) {
  try {
    await api("POST", `/api/studies/${encodeURIComponent(item.study_uid)}/release`);
    say(`Released ${item.patient_name}.`);
  } catch (err) {
    say(`Not released: ${err.message}`, { error: true });
  }
  await load();
}

function typing(target) {
  return target instanceof HTMLInputElement || target instanceof HTMLSelectElement ||
    target instanceof HTMLTextAreaElement;
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  const item = items[selected];
  const keys = {
    j: () => select(selected + 1),
    ArrowDown: () => select(selected + 1),
    k: () => select(selected - 1),
    ArrowUp: () => select(selected - 1),
    Enter: () => item && window.location.assign(studyUrl(item)),
    c: () => item && !item.claimed_by && claim(item),
    r: () => item && item.claimed_by && release(item),
    "/": () => form.elements.q.focus(),
  };
  const action = keys[event.key];
  if (!action || (event.key === "Enter" && event.target instanceof HTMLButtonElement)) return;
  if (event.key === "Enter" && event.target instanceof HTMLAnchorElement) return;
  event.preventDefault();
  action();
}

function listen() {
  const events = new EventSource("/api/events");
  events.addEventListener("worklist", () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(async () => {
      await load();
      say(`Updated ${new Date().toLocaleTimeString()}.`);
    }, 300);
  });
}

async function main() {
  session = await startPage("/");
  if (session === null) return;
  const saved = new URLSearchParams(window.location.search);
  for (const name of ["status", "modality", "q", "sort"]) {
    if (saved.get(name)) form.elements[name].value = saved.get(name);
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `/?${query()}`);
    selected = 0;
    load();
  });
  form.elements.status.addEventListener("change", () => form.requestSubmit());
  form.elements.sort.addEventListener("change", () => form.requestSubmit());
  document.addEventListener("keydown", onKey);
  await load();
  listen();
}

main();
