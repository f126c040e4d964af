import type { GateState } from "../../gate.js";
import { NOW_MS } from "./events.js";
import type { Queryable } from "./pool.js";

/** The breaker settings the counting needs (README, Delivery policy: `delivery.breaker`). */
export interface SharedBreakerPolicy {
  /** Consecutive counted failures that open the route; 0 never opens. */
  failures: number;
  cooldownMs: number;
  maxCooldownMs: number;
}

/** A route's shared state after an attempt was counted. */
export interface SharedGate {
  state: GateState;
  consecutiveFailures: number;
  /** Failure categories of the current run, oldest first, capped at `failures`. */
  recentFailures: string[];
  cooldownMs: number | null;
  /** Epoch ms (database clock) when the next half-open probe may start. */
  probeAt: number | null;
  /** True for the one attempt, cluster-wide, whose failure opened the route. */
  opened: boolean;
  /** True for the one attempt whose success closed an open route. */
  closed: boolean;
}

interface StateRow {
  state: SharedGate["state"];
  consecutive_failures: number;
  recent_failures: string[];
  cooldown_ms: number | null;
  probe_at: number | null;
  previous: SharedGate["state"];
}

// The same transitions as the in-process breaker (src/deliver/breaker.ts), in one statement on
// the route's row, so failures from every replica count together. The subquery locks the row and
// reads its newest version (`p`): concurrent attempts queue on the row, each sees the count the
// one before it left, and `previous` says which attempt changed the state.
//   $1 route, $2 failure category (NULL: success), $3 the attempt was the probe,
//   $4 failures to open, $5 cooldown ms, $6 max cooldown ms.
const COUNT_SQL = `
UPDATE routes_state s SET
  consecutive_failures = CASE WHEN $2::text IS NULL THEN 0 ELSE p.consecutive_failures + 1 END,
  recent_failures = CASE WHEN $2::text IS NULL THEN '{}'::text[]
    ELSE (p.recent_failures || $2::text)[greatest(1, cardinality(p.recent_failures) + 2 - greatest($4::int, 1)):] END,
  state = CASE
    WHEN $2::text IS NULL THEN CASE WHEN p.state = 'paused' THEN 'paused' ELSE 'active' END
    WHEN p.state = 'active' AND $4::int > 0 AND p.consecutive_failures + 1 >= $4::int THEN 'open'
    ELSE p.state END,
  cooldown_ms = CASE
    WHEN $2::text IS NULL THEN CASE WHEN p.state = 'paused' THEN p.cooldown_ms END
    WHEN p.state = 'active' AND $4::int > 0 AND p.consecutive_failures + 1 >= $4::int THEN $5::bigint
    WHEN p.state = 'open' AND $3::boolean THEN least(coalesce(p.cooldown_ms, $5::bigint) * 2, $6::bigint)
    ELSE p.cooldown_ms END,
  probe_at = CASE
    WHEN $2::text IS NULL THEN CASE WHEN p.state = 'paused' THEN p.probe_at END
    WHEN p.state = 'active' AND $4::int > 0 AND p.consecutive_failures + 1 >= $4::int THEN ${NOW_MS} + $5::bigint
    WHEN p.state = 'open' AND $3::boolean
      THEN ${NOW_MS} + least(coalesce(p.cooldown_ms, $5::bigint) * 2, $6::bigint)
    ELSE p.probe_at END,
  disabled = CASE WHEN $2::text IS NULL AND p.state <> 'paused' THEN NULL ELSE p.disabled END,
  probe_by = CASE WHEN $3::boolean THEN NULL ELSE p.probe_by END,
  probe_until = CASE WHEN $3::boolean THEN NULL ELSE p.probe_until END,
  updated_at = ${NOW_MS}
FROM (SELECT * FROM routes_state WHERE route = $1 FOR UPDATE) p
WHERE s.route = p.route
RETURNING s.state, s.consecutive_failures, s.recent_failures, s.cooldown_ms, s.probe_at, p.state AS previous`;

// The half-open probe is a lease on the route's row: one replica gets it; if that replica dies,
// the lease runs out and another may probe.
const PROBE_SQL = `
UPDATE routes_state SET probe_by = $2, probe_until = ${NOW_MS} + $3
WHERE route = $1 AND state = 'open' AND probe_at <= ${NOW_MS}
  AND (probe_until IS NULL OR probe_until < ${NOW_MS})
RETURNING route`;

/** The shared breaker of the PostgreSQL store: one row per route, counted in the database. */
export function createPgGateQueries(db: Queryable) {
  const ensure = (route: string) =>
    db.query(
      `INSERT INTO routes_state (route, updated_at) VALUES ($1, ${NOW_MS}) ON CONFLICT (route) DO NOTHING`,
      [route],
    );
  return {
    ensure,
    /**
     * Counts one finished attempt of the route: `failure` is its category when it failed and
     * counts toward the breaker, null when it succeeded.
     */
    async countAttempt(
      route: string,
      failure: string | null,
      probe: boolean,
      policy: SharedBreakerPolicy,
    ): Promise<SharedGate> {
      const params = [route, failure, probe, policy.failures, policy.cooldownMs, policy.maxCooldownMs];
      let { rows } = await db.query<StateRow>(COUNT_SQL, params);
      if (rows.length === 0) {
        await ensure(route);
        ({ rows } = await db.query<StateRow>(COUNT_SQL, params));
      }
      const r = rows[0];
      if (r === undefined) throw new Error(`the gate of ${route} could not be written`);
      return {
        state: r.state,
        consecutiveFailures: r.consecutive_failures,
        recentFailures: r.recent_failures,
        cooldownMs: r.cooldown_ms,
        probeAt: r.probe_at,
        opened: r.previous !== "open" && r.state === "open",
        closed: r.previous === "open" && r.state !== "open",
      };
    },
    /** Takes the route's half-open probe for `owner` when it is due and nobody holds it. */
    async takeProbe(route: string, owner: string, leaseMs: number): Promise<boolean> {
      return (await db.query(PROBE_SQL, [route, owner, leaseMs])).rows.length === 1;
    },
    /** Records the Method-style disable record (codes 25001-25004) the opening replica made. */
    async setDisabled(route: string, disabled: unknown): Promise<void> {
      await db.query("UPDATE routes_state SET disabled = $2 WHERE route = $1", [
        route,
        JSON.stringify(disabled),
      ]);
    },
  };
}

export type PgGateQueries = ReturnType<typeof createPgGateQueries>;
