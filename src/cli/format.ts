import type { EventJson, RouteJson } from "../admin/event-json.js";
import type { StatsReport } from "../stats/report.js";

/** Plain-text rendering for the admin CLI: aligned columns, no colour, safe to pipe. */

export type Align = "l" | "r";

/** Columns padded to their widest cell; `align` per column, left by default. */
export function table(rows: string[][], align: Align[] = []): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => {
          const w = widths[i] ?? 0;
          return align[i] === "r" ? cell.padStart(w) : i === row.length - 1 ? cell : cell.padEnd(w);
        })
        .join("  "),
    )
    .join("\n");
}

/** 3h 2m, 41s, 850ms: the two largest units, for ages and lags. */
export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const units: Array<[string, number]> = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ];
  const parts: string[] = [];
  let rest = Math.floor(ms);
  for (const [name, size] of units) {
    if (rest >= size || parts.length > 0) {
      parts.push(`${Math.floor(rest / size)}${name}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

export const percent = (ratio: number | null) => (ratio === null ? "-" : `${(ratio * 100).toFixed(1)}%`);

/** ISO time without milliseconds, easier to scan in a column. */
export const shortTime = (iso: string | null) => (iso === null ? "-" : iso.replace(/\.\d{3}Z$/, "Z"));

const indent = (text: string) =>
  text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");

/** The stats report laid out like LINE's console statistics: totals, then reason/detail/count. */
export function statsText(s: StatsReport): string {
  const t = s.totals;
  const totals = table(
    [
      ["Received", String(t.received)],
      ["Delivered", String(t.delivered)],
      ["Failed attempts", String(t.failed_attempts)],
      ["Dead", String(t.dead)],
      ["Duplicates", String(t.duplicates)],
      ["Filtered", String(t.filtered)],
      ["Rejected", String(t.rejected + t.rejected_backpressure)],
      ["Success rate", percent(s.success_rate)],
    ],
    ["l", "r"],
  );
  const errors =
    s.errors.length === 0
      ? "No failed attempts."
      : table(
          [["Reason", "Detail", "Count"], ...s.errors.map((e) => [e.reason, e.detail, String(e.count)])],
          ["l", "l", "r"],
        );
  const q = s.queue;
  const queue =
    `Queue: pending ${q.pending}, delivering ${q.delivering}, delivered ${q.delivered}, dead ${q.dead}, ` +
    `filtered ${q.filtered}; ` +
    `oldest pending ${q.pending + q.delivering === 0 ? "-" : duration(q.oldest_pending_age_ms)}`;
  const { delivery_lag: lag, attempt_duration: att } = s.latency_ms;
  const latency =
    `Delivery lag p50 ${duration(lag.p50)}, p99 ${duration(lag.p99)}; ` +
    `attempt duration p50 ${duration(att.p50)}, p99 ${duration(att.p99)}`;
  const routes = table([
    ["Route", "State", "Pending", "Disabled"],
    ...s.routes.map((r) => [r.name, r.state, String(r.pending), disabledText(r.disabled)]),
  ]);
  const heading = `Webhook statistics ${shortTime(s.window.from)} .. ${shortTime(s.window.to)} (${s.route ?? "all routes"})`;
  return [heading, indent(totals), indent(errors), indent(`${queue}\n${latency}`), indent(routes)].join(
    "\n\n",
  );
}

/** `25003 WEBHOOK_DISABLED_RECEIVED_5XX_ERROR` for a breaker record, `-` otherwise. */
export function disabledText(disabled: unknown): string {
  if (typeof disabled !== "object" || disabled === null) return "-";
  const d = disabled as { code?: unknown; sub_type?: unknown };
  return [d.code, d.sub_type].filter((x) => x !== undefined).join(" ") || "-";
}

export function eventsText(events: EventJson[]): string {
  if (events.length === 0) return "No events.";
  return table(
    [
      ["ID", "Route", "Status", "Attempts", "Received", "Last"],
      ...events.map((e) => [
        e.id,
        e.route,
        e.status,
        String(e.attempts),
        shortTime(e.received_at),
        e.last_reason === null ? "-" : `${e.last_reason}: ${e.last_detail ?? ""}`,
      ]),
    ],
    ["l", "l", "l", "r", "l", "l"],
  );
}

export function routeText(r: Pick<RouteJson, "name" | "state" | "disabled">): string {
  const why = disabledText(r.disabled);
  return `route ${r.name}: ${r.state}${why === "-" ? "" : ` (${why})`}`;
}
