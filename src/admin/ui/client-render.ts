/**
 * Browser-side rendering for the dashboard (plain ES2020, shipped inline as text; the project's
 * tsconfig has no DOM types). Every value from the API goes through textContent or an attribute,
 * never innerHTML: paths and details come from webhook senders.
 */
export const CLIENT_RENDER = `
const REASONS = ["could_not_connect", "request_timeout", "error_status_code", "unclassified"];
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
function el(tag, props, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}
const fmt = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"));
function age(ms) {
  if (!ms) return "0s";
  const s = Math.round(ms / 1000);
  if (s < 120) return s + "s";
  if (s < 7200) return Math.round(s / 60) + "m";
  if (s < 172800) return (s / 3600).toFixed(1) + "h";
  return (s / 86400).toFixed(1) + "d";
}
const time = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

function card(label, key, value, text, tone) {
  return el("div", { class: "card" + (tone ? " " + tone : ""), "data-testid": "card-" + key, "data-value": value },
    el("div", { class: "label" }, label), el("div", { class: "value" }, text === undefined ? fmt(value) : text));
}

function renderCards(s) {
  const t = s.totals, q = s.queue;
  const rate = s.success_rate === null ? "–" : (s.success_rate * 100).toFixed(1) + "%";
  $("cards").replaceChildren(
    card("Received", "received", t.received),
    card("Delivered", "delivered", t.delivered),
    card("Failed attempts", "failed_attempts", t.failed_attempts, undefined, t.failed_attempts ? "warn" : ""),
    card("Dead", "dead", t.dead, undefined, t.dead ? "bad" : ""),
    card("Duplicates", "duplicates", t.duplicates),
    card("Filtered", "filtered", t.filtered),
    card("Rejected", "rejected", t.rejected + t.rejected_backpressure),
    card("Success rate", "success_rate", s.success_rate, rate),
    card("Pending", "pending", q.pending),
    card("Delivering", "delivering", q.delivering),
    card("Dead in queue", "queue_dead", q.dead, undefined, q.dead ? "bad" : ""),
    card("Oldest pending", "oldest_pending_age", q.oldest_pending_age_ms, age(q.oldest_pending_age_ms),
      q.oldest_pending_age_ms > 600000 ? "bad" : ""),
  );
}

function renderChart(s) {
  const W = 900, H = 220, L = 36, B = 22, T = 8;
  const pts = s.series;
  // A multiple of four, so the four grid steps are whole numbers.
  const max = Math.max(4, Math.ceil(Math.max(0, ...pts.map((p) => p.failed_attempts)) / 4) * 4);
  const svg = el("svg:svg", { class: "chart", viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img",
    "aria-label": "Failed attempts by reason over time", "data-testid": "chart" });
  for (let i = 0; i <= 4; i++) {
    const y = T + (H - T - B) * (1 - i / 4);
    svg.append(el("svg:line", { x1: L, x2: W, y1: y, y2: y }), el("svg:text", { x: L - 4, y: y + 3, "text-anchor": "end" }, fmt((max * i) / 4)));
  }
  const bw = (W - L) / Math.max(1, pts.length);
  pts.forEach((p, i) => {
    let y = H - B;
    for (const r of REASONS) {
      const n = p.reasons[r] || 0;
      if (!n) continue;
      const h = ((H - T - B) * n) / max;
      y -= h;
      svg.append(el("svg:rect", { x: L + i * bw + bw * 0.1, y, width: Math.max(1, bw * 0.8), height: h, fill: "var(--" + r + ")", "data-reason": r },
        el("svg:title", {}, time(p.from) + " " + r + ": " + n)));
    }
    if (i % Math.ceil(pts.length / 6) === 0) {
      const d = new Date(p.from);
      svg.append(el("svg:text", { x: L + i * bw, y: H - 6 }, d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    }
  });
  const legend = el("div", { class: "legend" }, REASONS.map((r) =>
    el("span", {}, el("span", { class: "dot", "data-color": r }), r + " " + fmt(s.reasons[r]))));
  $("chart").replaceChildren(svg, legend);
  for (const d of $("chart").querySelectorAll(".dot")) d.style.background = "var(--" + d.dataset.color + ")";
}

function renderErrors(s) {
  const rows = s.errors.map((e) => el("tr", { "data-testid": "error-row" },
    el("td", {}, el("span", { class: "dot", "data-color": e.reason }), e.reason), el("td", {}, e.detail), el("td", { class: "num" }, fmt(e.count))));
  $("errors").replaceChildren(rows.length ? el("table", {}, el("tr", {}, el("th", {}, "Reason"), el("th", {}, "Detail"), el("th", { class: "num" }, "Count")), rows)
    : el("div", { class: "empty" }, "No failed attempts in this window."));
  for (const d of $("errors").querySelectorAll(".dot")) d.style.background = "var(--" + d.dataset.color + ")";
}

function renderRoutes(s, act) {
  const rows = s.routes.map((r) => el("tr", { "data-testid": "route-" + r.name },
    el("td", {}, r.name),
    el("td", {}, el("span", { class: "badge " + r.state, "data-testid": "route-state",
      title: r.throttle ? r.throttle.why + (r.throttle.until ? " until " + r.throttle.until : "") : "" },
      r.state === "throttled" && r.throttle && r.throttle.until ? "throttled until " + time(r.throttle.until) : r.state)),
    el("td", { title: r.disabled ? r.disabled.message : "" }, r.disabled ? r.disabled.code + " " + r.disabled.sub_type : "–"),
    el("td", { class: "num" }, fmt(r.pending)),
    el("td", { class: "num" }, r.state === "paused" || r.state === "open"
      ? el("button", { onclick: () => act("resume", r.name) }, "Resume")
      : el("button", { onclick: () => act("pause", r.name) }, "Pause"))));
  $("routes").replaceChildren(el("table", {}, el("tr", {}, el("th", {}, "Route"), el("th", {}, "State"), el("th", {}, "Disabled"),
    el("th", { class: "num" }, "Pending"), el("th", {})), rows));
}

function renderEvents(list, redeliver, show) {
  const rows = list.events.map((e) => el("tr", { "data-testid": "event-row", "data-id": e.id, "data-status": e.status, "data-route": e.route },
    el("td", {}, time(e.received_at)),
    el("td", { class: "mono", title: e.id }, el("a", { href: "#" + e.id, "data-testid": "open-event", onclick: (ev) => { ev.preventDefault(); show(e.id); } }, e.id.slice(-10))),
    el("td", {}, e.route),
    el("td", {}, el("span", { class: "badge " + e.status, "data-testid": "event-status" }, e.status)),
    el("td", { class: "mono" }, e.method + " " + e.path),
    el("td", { class: "num" }, e.attempts),
    el("td", {}, e.last_reason ? e.last_reason + " / " + e.last_detail : "–"),
    el("td", { class: "num" }, e.status === "dead" || e.status === "delivered" || e.status === "filtered"
      ? el("button", { onclick: () => redeliver(e.id), "data-testid": "redeliver" }, "Redeliver") : null)));
  $("events").replaceChildren(rows.length ? el("table", {}, el("tr", {}, ["Received", "Id", "Route", "Status", "Request", "Attempts", "Last error", ""]
    .map((h) => el("th", { class: h === "Attempts" ? "num" : null }, h))), rows) : el("div", { class: "empty" }, "No events match."));
  // How the search ran: an index, or a scan (and whether it stopped at its budget).
  const x = list.explain;
  $("explain").textContent = x && x.scan ? "Search " + x.hint : x && x.index ? "Search " + x.hint : "";
  $("explain").dataset.scan = x ? String(x.scan) : "";
  $("events-more").hidden = list.next_cursor === null;
}

const size = (n) => (n === null || n === undefined ? "–" : n < 1024 ? n + " B" : (n / 1024).toFixed(1) + " KiB");

/** A body as the API shows it: pretty JSON, text or hex, with its size. */
function bodyBlock(b, testid) {
  if (!b) return el("div", { class: "empty" }, "(none)");
  const note = b.encoding + ", " + size(b.size) + (b.truncated ? ", first bytes only" : "");
  return el("div", {}, el("div", { class: "muted" }, note), el("pre", { "data-testid": testid, "data-encoding": b.encoding }, b.content));
}

function renderDetail(d, actions) {
  const headers = el("table", { "data-testid": "detail-headers" }, d.headers.map(([k, v]) => el("tr", {}, el("td", { class: "mono" }, k), el("td", { class: "mono" }, v))));
  const attempts = d.attempts.length ? el("table", { "data-testid": "detail-attempts" },
    el("tr", {}, ["#", "Started", "Duration", "Outcome", "Reason / detail", "Response"].map((h) => el("th", {}, h))),
    d.attempts.flatMap((a) => [
      el("tr", { "data-testid": "attempt-row", "data-n": a.n },
        el("td", { class: "num" }, a.n), el("td", {}, time(a.started_at)), el("td", { class: "num" }, a.duration_ms + " ms"),
        el("td", {}, el("span", { class: "badge " + (a.outcome === "delivered" ? "delivered" : "dead") }, a.outcome)),
        el("td", {}, a.reason ? a.reason + " / " + a.detail : "–", a.error ? el("div", { class: "muted" }, a.error) : null),
        el("td", { "data-testid": "attempt-status" }, a.response ? String(a.response.status) + " (" + size(a.response.size) + ")" : "no response")),
      a.response && a.response.body ? el("tr", { class: "sub" }, el("td", {}), el("td", { colspan: 5 }, bodyBlock(a.response.body, "attempt-body"))) : null,
    ])) : el("div", { class: "empty" }, "No attempts yet.");
  const history = d.history.length ? el("ul", { "data-testid": "detail-history" }, d.history.map((h) =>
    el("li", {}, time(h.at) + ": " + h.action + (h.request_id ? " (request " + h.request_id + ")" : "")))) : null;
  const finished = d.status === "dead" || d.status === "delivered" || d.status === "filtered";
  $("detail").replaceChildren(
    el("h2", {}, "Event ", el("span", { class: "mono", "data-testid": "detail-id" }, d.id),
      el("span", { class: "badge " + d.status, "data-testid": "detail-status" }, d.status), el("span", { class: "spacer" }),
      finished || d.status === "pending" ? el("button", { "data-testid": "detail-redeliver", onclick: () => actions.redeliver(d.id) }, "Redeliver") : null,
      d.status !== "delivering" ? el("button", { class: "danger", "data-testid": "detail-discard", onclick: () => actions.discard(d.id) }, "Discard") : null,
      el("button", { "data-testid": "detail-close", onclick: actions.close }, "Close")),
    el("div", { class: "muted" }, d.route + " · " + d.method + " " + d.path + (d.query ? "?" + d.query : "") + " · received " + time(d.received_at) +
      " · " + d.attempt_count + " attempt" + (d.attempt_count === 1 ? "" : "s")),
    el("h3", {}, "Headers"), headers,
    el("h3", {}, "Body"), bodyBlock(d.body, "detail-body"),
    el("h3", {}, "Attempts"), attempts,
    history ? el("h3", {}, "Operator history") : null, history);
  $("detail").hidden = false;
}

function fillRouteFilter(names) {
  const sel = $("f-route");
  if (sel.options.length - 1 === names.length) return;
  sel.replaceChildren(el("option", { value: "" }, "all routes"), ...names.map((n) => el("option", { value: n }, n)));
}
`;
