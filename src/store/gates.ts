import type { Database, Statement } from "better-sqlite3";
import type { Gate } from "../gate.js";

/** A route's persisted delivery gate (operator pause, circuit breaker). */
export interface StoredGate extends Gate {
  route: string;
  updatedAt: number;
}

interface Row {
  route: string;
  state: Gate["state"];
  consecutive_failures: number;
  recent_failures: string;
  disabled: string | null;
  cooldown_ms: number | null;
  probe_at: number | null;
  updated_at: number;
}

/** The routes_state table: one row per route whose gate ever moved. */
export function createGateQueries(db: Database) {
  const all = db.prepare("SELECT * FROM routes_state") as Statement<[], Row>;
  const save = db.prepare(
    `INSERT OR REPLACE INTO routes_state
       (route, state, consecutive_failures, recent_failures, disabled, cooldown_ms, probe_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return {
    all(): StoredGate[] {
      return all.all().map((r) => ({
        route: r.route,
        state: r.state,
        consecutiveFailures: r.consecutive_failures,
        recentFailures: JSON.parse(r.recent_failures) as Gate["recentFailures"],
        disabled: r.disabled === null ? null : (JSON.parse(r.disabled) as Gate["disabled"]),
        cooldownMs: r.cooldown_ms,
        probeAt: r.probe_at,
        updatedAt: r.updated_at,
      }));
    },
    save(s: StoredGate): void {
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
