/**
 * Browser-side behaviour: login, fetching, auto-refresh and actions. The token lives only in
 * sessionStorage (gone when the tab closes) and travels only as an Authorization header, never in
 * a URL, so it cannot leak through history, logs or Referer.
 */
export const CLIENT_APP = `
const KEY = "hookbuffer.token";
const REFRESH_MS = 3000;
let token = sessionStorage.getItem(KEY);
let timer = null;
let busy = false;
let cursor = null;

class Unauthorized extends Error {}

async function api(path, init) {
  const headers = Object.assign({ accept: "application/json" }, init && init.headers);
  if (token) headers.authorization = "Bearer " + token;
  // Every change says JSON: the admin API refuses other content types (its cross-site guard).
  if (init && init.method && init.method !== "GET") headers["content-type"] = "application/json";
  const res = await fetch(path, Object.assign({ cache: "no-store" }, init, { headers }));
  if (res.status === 401) throw new Unauthorized("Missing or wrong token.");
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ? body.error.message : res.status + " " + res.statusText);
  return body;
}

function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.classList.add("show");
  setTimeout(() => t.classList.remove("show"), 2500);
}

function showLogin(message) {
  clearTimeout(timer);
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

const SEARCH_KEYS = ["json", "header", "path", "min_attempts", "max_attempts", "last_status", "since", "until"];

/**
 * The filters as API fields: the selects, and the search box's space-separated terms
 * (json=/ptr:value header=name:value path=/p* ...; a bare /pointer:value is a json term).
 */
function filters() {
  const f = {};
  for (const k of ["status", "route", "reason"]) if ($("f-" + k).value) f[k] = $("f-" + k).value;
  for (const term of $("f-search").value.trim().split(/\\s+/).filter(Boolean)) {
    const eq = term.indexOf("=");
    const key = term.startsWith("/") ? "json" : term.slice(0, eq);
    const value = term.startsWith("/") ? term : term.slice(eq + 1);
    if (!SEARCH_KEYS.includes(key)) throw new Error("unknown search term " + term + " (use " + SEARCH_KEYS.join("=, ") + "=)");
    if (key === "json" || key === "header") (f[key] = f[key] || []).push(value);
    else f[key] = value;
  }
  return f;
}

function eventQuery() {
  const q = new URLSearchParams({ limit: "50" });
  for (const [k, v] of Object.entries(filters())) for (const x of [].concat(v)) q.append(k, x);
  if (cursor) q.set("cursor", cursor);
  return q.toString();
}

async function refresh() {
  clearTimeout(timer);
  if (busy) return;
  busy = true;
  try {
    const to = Date.now();
    const from = to - Number($("window").value);
    const [stats, events] = await Promise.all([
      api("/stats?from=" + from + "&to=" + to),
      api("/events?" + eventQuery()),
    ]);
    $("login").hidden = true;
    $("app").hidden = false;
    renderCards(stats);
    renderChart(stats);
    renderErrors(stats);
    renderRoutes(stats, routeAction);
    fillRouteFilter(stats.routes.map((r) => r.name));
    renderEvents(events, redeliver, showEvent);
    $("events-more").dataset.cursor = events.next_cursor || "";
    $("status").className = "";
    $("status").textContent = "Updated " + new Date().toLocaleTimeString();
    $("status").dataset.generatedAt = stats.generated_at;
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin(token ? err.message : "");
    $("status").className = "error";
    $("status").textContent = "Refresh failed: " + err.message;
  } finally {
    busy = false;
  }
  if (!document.hidden && !$("app").hidden) timer = setTimeout(refresh, REFRESH_MS);
}

async function act(work, done) {
  try {
    const result = await work();
    toast(done(result));
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin(err.message);
    toast("Failed: " + err.message);
  }
  refresh();
}

const eventPath = (id) => "/events/" + encodeURIComponent(id);
const redeliver = (id) => act(() => api(eventPath(id) + "/redeliver", { method: "POST" }), () => "Event queued for redelivery");

/** Opens one event in the detail panel; its buttons act on it and show it again. */
async function showEvent(id) {
  try {
    renderDetail(await api(eventPath(id)), detailActions);
    $("detail").scrollIntoView({ block: "start" });
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin(err.message);
    toast("Failed: " + err.message);
  }
}
const detailActions = {
  redeliver: (id) => act(() => api(eventPath(id) + "/redeliver", { method: "POST" }), () => "Event queued for redelivery").then(() => showEvent(id)),
  discard: (id) => {
    if (!confirm("Discard event " + id + "? Its body and history are deleted.")) return;
    act(() => api(eventPath(id), { method: "DELETE" }), () => "Event discarded").then(() => { $("detail").hidden = true; });
  },
  close: () => { $("detail").hidden = true; },
};
const routeAction = (action, name) => act(() => api("/routes/" + encodeURIComponent(name) + "/" + action, { method: "POST" }), () => "Route " + name + ": " + action + "d");

// Dead events matching the filters and search: a dry run first says how many, then one request
// with an idempotency key, so a double click or a retried request redelivers nothing twice.
$("redeliver-dead").addEventListener("click", async () => {
  let body;
  let dry;
  try {
    body = Object.assign(filters(), { status: "dead" });
    dry = await api("/events/redeliver", { method: "POST", body: JSON.stringify(Object.assign({ dry_run: true }, body)) });
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin(err.message);
    return toast("Failed: " + err.message);
  }
  if (dry.count === 0) return toast("No dead events match");
  if (dry.over_max) return toast(dry.count + " dead events match; at most " + dry.max + " per request: narrow the search");
  if (!confirm("Redeliver " + dry.count + " dead event" + (dry.count === 1 ? "" : "s") + " matching the filters?")) return;
  const key = crypto.randomUUID();
  act(() => api("/events/redeliver", { method: "POST", body: JSON.stringify(body), headers: { "idempotency-key": key } }),
    (r) => r.count + " dead events queued for redelivery");
});
$("search").addEventListener("submit", (e) => {
  e.preventDefault();
  cursor = null;
  refresh();
});
$("events-more").addEventListener("click", () => {
  cursor = $("events-more").dataset.cursor || null;
  refresh();
});
$("events-first").addEventListener("click", () => {
  cursor = null;
  refresh();
});
$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem(KEY, token);
  $("token").value = "";
  refresh();
});
$("logout").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  token = null;
  for (const id of ["cards", "chart", "errors", "routes", "events", "detail"]) $(id).replaceChildren();
  $("detail").hidden = true;
  showLogin("Signed out.");
});
for (const id of ["f-status", "f-route", "f-reason"]) $(id).addEventListener("change", () => { cursor = null; refresh(); });
$("window").addEventListener("change", refresh);
document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
refresh();
`;
