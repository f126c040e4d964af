import type { Database, Statement } from "better-sqlite3";

/** Persisted per-route delivery state (operator pause, circuit breaker). */
export interface RouteStateRow {
  route: string;
  state: "active" | "paused" | "open";
  consecutiveFailures: number;
  /** Categories of the failures in the current run, oldest first (breaker code majority). */
  recentFailures: string[];
  /** The Method-style disable record while paused by the breaker, else null. */
  disabled: unknown;
  cooldownMs: number | null;
  probeAt: number | null;
  updatedAt: number;
}

interface Row {
  route: string;
  state: RouteStateRow["state"];
  consecutive_failures: number;
  recent_failures: string;
  disabled: string | null;
  cooldown_ms: number | null;
  probe_at: number | null;
  updated_at: number;
}

export function createRouteStateQueries(db: Database) {
  const all = db.prepare("SELECT * FROM routes_state") as Statement<[], Row>;
  const save = db.prepare(
    `INSERT OR REPLACE INTO routes_state
       (route, state, consecutive_failures, recent_failures, disabled, cooldown_ms, probe_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return {
    all(): RouteStateRow[] {
      return all.all().map((r) => ({
        route: r.route,
        state: r.state,
        consecutiveFailures: r.consecutive_failures,
        recentFailures: JSON.parse(r.recent_failures) as string[],
        disabled: r.disabled === null ? null : (JSON.parse(r.disabled) as unknown),
        cooldownMs: r.cooldown_ms,
        probeAt: r.probe_at,
        updatedAt: r.updated_at,
      }));
    },
    save(s: RouteStateRow): void {
      save.run(
        s.route,
        s.state,
        s.consecutiveFailures,
        JSON.stringify(s.recentFailures),
        s.disabled === null ? null : JSON.stringify(s.disabled),
        s.cooldownMs,
        s.probeAt,
        s.updatedAt,
      );
    },
  };
}
