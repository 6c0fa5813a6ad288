// The header of every signed-in page: where to go, who is signed in, sign out.
import { api, el, requireSession } from "/static/public/api.js";

export async function startPage(current) {
  const session = await requireSession();
  if (session === null) return null;
  const { user } = session;
  const links = [["/", "Worklist"]];
  if (user.role === "admin") links.push(["/admin", "Administration"]);
  const nav = el(
    "nav",
    { "aria-label": "Main" },
    el("a", { href: "/", className: "brand" }, "Vesalius"),
    ...links.map(([href, label]) =>
      el("a", { href, "aria-current": href === current ? "page" : null }, label),
    ),
  );
  const signOut = el("button", { type: "button", className: "link" }, "Sign out");
  signOut.addEventListener("click", async () => {
    try {
      await api("POST", "/api/logout");
    } finally {
      window.location.assign("/login");
    }
  });
  const who = el("span", { className: "who" }, `${user.full_name || user.username} (${user.role})`);
  document.getElementById("top").replaceChildren(nav, el("div", { className: "me" }, who, signOut));
  return session;
}

// "critical" | "urgent" | "routine" -> a badge with the level in words.
export function badge(level, score) {
  const text = score === undefined || score === null ? level : `${level} ${score.toFixed(1)}`;
  return el("span", { className: `badge ${level}` }, text);
}

export function minutes(total) {
  if (total < 60) return `${total} min`;
  const hours = Math.floor(total / 60);
  if (hours < 48) return `${hours} h ${total % 60} min`;
  return `${Math.floor(hours / 24)} d`;
}
