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

class Unauthorized extends Error {}

async function api(path, init) {
  const headers = { accept: "application/json" };
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

function eventQuery() {
  const q = new URLSearchParams({ limit: "50" });
  for (const f of ["status", "route", "reason"]) if ($("f-" + f).value) q.set(f, $("f-" + f).value);
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
    renderEvents(events, redeliver);
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

const redeliver = (id) => act(() => api("/events/" + encodeURIComponent(id) + "/redeliver", { method: "POST" }), () => "Event queued for redelivery");
const routeAction = (action, name) => act(() => api("/routes/" + encodeURIComponent(name) + "/" + action, { method: "POST" }), () => "Route " + name + ": " + action + "d");

$("redeliver-dead").addEventListener("click", () => {
  const body = { status: "dead" };
  if ($("f-route").value) body.route = $("f-route").value;
  if (!confirm("Redeliver every dead event" + (body.route ? " on route " + body.route : "") + "?")) return;
  act(() => api("/events/redeliver", { method: "POST", body: JSON.stringify(body) }), (r) => r.count + " dead events queued for redelivery");
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
  for (const id of ["cards", "chart", "errors", "routes", "events"]) $(id).replaceChildren();
  showLogin("Signed out.");
});
for (const id of ["window", "f-status", "f-route", "f-reason"]) $(id).addEventListener("change", refresh);
document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
refresh();
`;
