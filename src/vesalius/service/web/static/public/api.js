// The JSON API from the browser: the session, its CSRF token, and errors as messages.
let csrfToken = null;

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function loginUrl() {
  const here = window.location.pathname + window.location.search;
  return "/login?next=" + encodeURIComponent(here);
}

async function detailOf(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map((d) => d.msg).join("; ");
  } catch (_) {
    // not JSON: fall through to the status text
  }
  return `${response.status} ${response.statusText}`;
}

// The signed-in user ({user, csrf_token}) or null.
export async function currentSession() {
  const response = await fetch("/api/session", { credentials: "same-origin" });
  if (response.status === 401) return null;
  if (!response.ok) throw new ApiError(response.status, await detailOf(response));
  const body = await response.json();
  csrfToken = body.csrf_token;
  return body;
}

// The session, or off to the login page (resolves to null then).
export async function requireSession() {
  const session = await currentSession();
  if (session === null) window.location.assign(loginUrl());
  return session;
}

export function setCsrfToken(token) {
  csrfToken = token;
}

// method + url (+ JSON body) -> parsed JSON (or null for 204); ApiError otherwise.
export async function api(method, url, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && url !== "/api/login") {
    window.location.assign(loginUrl());
    throw new ApiError(401, "signed out");
  }
  if (!response.ok) throw new ApiError(response.status, await detailOf(response));
  if (response.status === 204) return null;
  return response.json();
}

// Only a path on this site may be a "next" page (never //other.host, even written
// "/\t/other.host": the URL parser drops tabs and newlines, so control characters are refused).
export function safeNext(target) {
  if (typeof target !== "string") return "/";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(target) || !target.startsWith("/")) return "/";
  const url = new URL(target, window.location.origin);
  if (url.origin !== window.location.origin) return "/";
  return url.pathname + url.search + url.hash;
}

// A small element builder: el("td", {className: "x"}, "text", child).
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key in node && !key.startsWith("aria") && !key.startsWith("data")) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Show a message in the page's status area (role="status" or "alert").
export function say(message, { error = false } = {}) {
  const box = document.getElementById(error ? "error" : "status");
  if (!box) return;
  box.textContent = message;
  box.hidden = !message;
}
