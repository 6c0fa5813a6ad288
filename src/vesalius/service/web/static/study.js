// The report editor: the study, its findings with feedback, the report and its sign-off.
import { api, ApiError, el, say } from "/static/public/api.js";
import { badge, minutes, startPage } from "/static/nav.js";

const studyUid = decodeURIComponent(window.location.pathname.split("/").pop());
const studyPath = `/api/studies/${encodeURIComponent(studyUid)}`;
const text = document.getElementById("report-text");
let session = null;
let study = null;
let report = null;

const may = {
  edit: () => ["admin", "radiologist"].includes(session.user.role),
  sign: () => session.user.role === "radiologist",
};

function viewerLink(url, label, description) {
  return el("a", { href: url.replace(/^\/viewer\?/, "/viewer/?"), className: "viewer",
    "aria-label": description || null }, label);
}

function renderStudy() {
  const item = study.study;
  document.title = `${item.patient_name} - Vesalius`;
  document.getElementById("study-title").textContent =
    `${item.patient_name || "(no name)"} — ${item.description || "(no description)"}`;
  const claimedByMe = item.claimed_by === session.user.username;
  const claimButton = el("button", { type: "button", id: "claim" },
    item.claimed_by ? "Release" : "Claim");
  claimButton.hidden = Boolean(item.claimed_by) && !claimedByMe && session.user.role !== "admin";
  claimButton.addEventListener("click", () => claimOrRelease(item.claimed_by ? "release" : "claim"));
  const reasons = item.priority.reasons.length ? item.priority.reasons.join("; ") : "no finding raised it";
  document.getElementById("study-facts").replaceChildren(
    el("p", {}, badge(item.priority.level, item.priority.score), " ", reasons),
    el("p", {}, `Patient ID ${item.patient_id} · ${item.modalities.join("/")} · ${item.study_date || ""}`,
      ` · accession ${item.accession_number || "—"} · waiting ${minutes(item.waiting_minutes)}`,
      ` · reader: ${item.claimed_by || "nobody"} `, claimButton),
    el("p", {}, viewerLink(`/viewer/?StudyInstanceUIDs=${encodeURIComponent(item.study_uid)}`,
      "Open the study in the viewer")),
    el("details", {}, el("summary", {}, `${study.series.length} series`),
      el("ul", {}, study.series.map((s) =>
        el("li", {}, `${s.modality} ${s.description || ""} (${s.n_instances} images)`)))),
  );
}

function measurementTable(finding) {
  if (!finding.measurements.length) return null;
  return el("table", { className: "measurements" },
    el("caption", { className: "visually-hidden" }, `Measurements of ${finding.code.meaning}`),
    el("tbody", {}, finding.measurements.map((m) =>
      el("tr", {}, el("th", { scope: "row" }, m.name),
        el("td", {}, `${formatValue(m.value)} ${m.unit || ""}`.trim())))));
}

function formatValue(value) {
  return typeof value === "number" ? String(Math.round(value * 100) / 100) : String(value);
}

function feedbackText(feedback) {
  if (!feedback) return "No decision yet";
  const comment = feedback.comment ? `: ${feedback.comment}` : "";
  return `${feedback.decision} by ${feedback.by}${comment}`;
}

function findingCard(finding) {
  const decided = finding.feedback ? finding.feedback.decision : "none";
  const name = finding.code.meaning;
  const buttons = ["accept", "edit", "reject"].map((decision) => {
    const b = el("button", { type: "button", "data-decision": decision,
      "aria-label": `${decision[0].toUpperCase()}${decision.slice(1)} ${name}`,
      "aria-pressed": String(decided === decision) },
    decision[0].toUpperCase() + decision.slice(1));
    b.disabled = !report || !may.edit() || !["draft", "preliminary"].includes(report.state);
    b.addEventListener("click", () => decide(finding, decision));
    return b;
  });
  const categories = finding.categories.map((c) => `${c.scheme} ${c.value}`).join(", ");
  return el("article", { className: `finding ${decided}`, "data-finding-id": finding.id,
    "aria-label": name },
  el("h3", {}, name, finding.ai ? el("span", { className: "ai", title: finding.algorithm }, "AI") : null),
  el("p", { className: "meta" }, [finding.location, categories, finding.algorithm]
    .filter(Boolean).join(" · ")),
  measurementTable(finding),
  el("p", { className: "feedback" }, feedbackText(finding.feedback)),
  el("div", { className: "buttons" }, buttons, viewerLink(finding.viewer_url, "Open in viewer", `Open ${name} in the viewer`)),
  );
}

function renderFindings() {
  const list = document.getElementById("findings-list");
  if (!study.findings.length) {
    list.replaceChildren(el("p", {}, "No findings."));
    return;
  }
  list.replaceChildren(...study.findings.map(findingCard));
}

function renderReport() {
  const state = document.getElementById("report-state");
  const buttons = Object.fromEntries(["save", "preliminary", "sign", "amend"]
    .map((id) => [id, document.getElementById(id)]));
  if (!report) {
    state.textContent = "no draft yet";
    text.value = "";
    text.disabled = true;
    Object.values(buttons).forEach((b) => { b.hidden = true; });
    return;
  }
  const open = ["draft", "preliminary"].includes(report.state);
  state.textContent = `${report.state} (version ${report.version})`;
  state.className = `state ${report.state}`;
  document.getElementById("report-signed").textContent = report.signed_by
    ? `signed by ${report.signed_by} at ${new Date(report.signed_at).toLocaleString()}` : "";
  if (document.activeElement !== text) text.value = report.text;
  text.readOnly = !((open && may.edit()) || (!open && may.sign()));
  text.disabled = false;
  buttons.save.hidden = !(open && may.edit());
  buttons.preliminary.hidden = !(report.state === "draft" && may.edit());
  buttons.sign.hidden = !(open && may.sign());
  buttons.amend.hidden = !(["final", "amended"].includes(report.state) && may.sign());
  document.getElementById("report-impression").textContent = report.impression || "—";
  document.getElementById("report-recommendation").textContent = report.recommendation || "—";
  document.getElementById("report-history").replaceChildren(...report.history.map((h) =>
    el("li", {}, `${new Date(h.at).toLocaleString()} — ${h.who}: ${h.action}`,
      h.detail ? ` (${h.detail})` : "")));
}

async function load() {
  study = await api("GET", studyPath);
  try {
    report = await api("GET", `${studyPath}/report`);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    report = null;
  }
  renderStudy();
  renderReport();
  renderFindings();
}

async function act(message, work) {
  say("", { error: true });
  try {
    await work();
    await load();
    say(message);
  } catch (err) {
    say(err.message, { error: true });
  }
}

function decide(finding, decision) {
  const body = { decision };
  if (decision === "edit") {
    const value = window.prompt(`New value for ${finding.code.meaning} (empty: keep)`, "");
    if (value === null) return;
    if (value.trim()) body.value = Number.isNaN(Number(value)) ? value.trim() : Number(value);
    body.comment = window.prompt("Comment (optional)", "") || undefined;
  } else if (decision === "reject") {
    const comment = window.prompt(`Why reject ${finding.code.meaning}? (optional)`, "");
    if (comment === null) return;
    body.comment = comment || undefined;
  }
  return act(`${finding.code.meaning}: ${decision}ed.`, () =>
    api("POST", `/api/reports/${report.id}/findings/${finding.id}/feedback`, body));
}

function claimOrRelease(verb) {
  return act(verb === "claim" ? "Claimed." : "Released.", () =>
    api("POST", `${studyPath}/${verb}`));
}

async function save() {
  await api("PUT", `/api/reports/${report.id}/text`, { text: text.value });
}

function wire() {
  document.getElementById("save").addEventListener("click", () => act("Saved.", save));
  document.getElementById("preliminary").addEventListener("click", () =>
    act("Marked preliminary.", async () => {
      if (text.value !== report.text) await save();
      await api("POST", `/api/reports/${report.id}/preliminary`);
    }));
  document.getElementById("sign").addEventListener("click", () => {
    if (!window.confirm("Sign this report? It becomes final.")) return;
    act("Signed.", async () => {
      if (text.value !== report.text) await save();
      await api("POST", `/api/reports/${report.id}/sign`);
    });
  });
  document.getElementById("amend").addEventListener("click", () =>
    act("Amended.", () => api("POST", `/api/reports/${report.id}/amend`, { text: text.value })));
  document.querySelectorAll("#exports button").forEach((b) => b.addEventListener("click", () =>
    act(`Exported ${b.dataset.to}.`, async () => {
      const answer = await api("POST", `${studyPath}/exports`, { to: b.dataset.to });
      document.getElementById("export-files").replaceChildren(...answer.files.map((f) =>
        el("li", {}, el("a", { href: f.url, download: f.name }, f.name), ` (${f.media_type})`)));
    })));
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s" && report) {
      event.preventDefault();
      document.getElementById("save").click();
    }
  });
}

async function main() {
  session = await startPage(null);
  if (session === null) return;
  wire();
  try {
    await load();
  } catch (err) {
    document.getElementById("study-title").textContent = "Study not available";
    say(err.message, { error: true });
  }
}

main();
