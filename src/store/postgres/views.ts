/**
 * What each replica reads to keep its views of the cluster current: the queue counts, the leased
 * events, the oldest open event and the routes' gates; each a few rows through an index.
 */

import type pg from "pg";
import type { EventStatus } from "../../model.js";
import type { StoredGate } from "../gates.js";
import { GATE_COLUMNS, gateOf } from "./commands.js";
import { NOW_MS } from "./events.js";
import { heedErrors, type Queryable } from "./pool.js";

export function createPgViewQueries(db: Queryable) {
  const views = {
    /** A gate row for every configured route (the breaker's steps lock rows that exist). */
    async ensureRoutes(routes: readonly string[]): Promise<void> {
      await db.query(
        `INSERT INTO routes_state (route, updated_at) SELECT r, ${NOW_MS} FROM unnest($1::text[]) r
         ON CONFLICT (route) DO NOTHING`,
        [routes],
      );
    },
    /** Stored events per route and status, and the bytes the pending ones hold. */
    async queueCounts() {
      const { rows } = await db.query<{ route: string; status: EventStatus; n: string; bytes: string }>(
        "SELECT route, status, n, bytes FROM queue_counts",
      );
      return rows.map((r) => ({ route: r.route, status: r.status, n: Number(r.n), bytes: Number(r.bytes) }));
    },
    /** Pending events leased right now by any replica, per route. */
    async leasedCounts() {
      const { rows } = await db.query<{ route: string; n: number }>(
        `SELECT route, count(*)::int AS n FROM events
         WHERE lease_until IS NOT NULL AND lease_until > ${NOW_MS} AND status = 'pending' GROUP BY route`,
      );
      return rows;
    },
    /** When the oldest pending event arrived (arrival order is seq order), or null. */
    async oldestOpenReceivedAt(): Promise<number | null> {
      const { rows } = await db.query<{ received_at: number }>(
        "SELECT received_at FROM events WHERE status = 'pending' ORDER BY seq LIMIT 1",
      );
      return rows[0]?.received_at ?? null;
    },
    /** Due pending events of each route, up to `cap` each (what a rate limit holds back). */
    async dueCounts(routes: readonly string[], cap: number) {
      if (routes.length === 0) return [];
      const { rows } = await db.query<{ route: string; n: number }>(
        `SELECT r AS route, (SELECT count(*) FROM (SELECT 1 FROM events e
           WHERE e.route = r AND e.status = 'pending' AND e.next_attempt_at <= ${NOW_MS} LIMIT $2) x)::int AS n
         FROM unnest($1::text[]) r`,
        [routes, cap],
      );
      return rows;
    },
    async gates(): Promise<StoredGate[]> {
      const { rows } = await db.query(`SELECT ${GATE_COLUMNS}, updated_at FROM routes_state`);
      return rows.map((r) => ({ ...gateOf(r), route: r.route as string, updatedAt: Number(r.updated_at) }));
    },
  };
  return views;
}

/**
 * Everything a refresh reads, in one snapshot (a read-only REPEATABLE READ transaction on one
 * connection), so the leased rows and the counts they are subtracted from agree.
 */
export async function readViews(pool: pg.Pool, due: { routes: readonly string[]; cap: number }) {
  const client = heedErrors(await pool.connect());
  let broken: Error | undefined;
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const v = createPgViewQueries(client);
    const counts = await v.queueCounts();
    const leased = await v.leasedCounts();
    const oldest = await v.oldestOpenReceivedAt();
    const gates = await v.gates();
    const dueCounts = await v.dueCounts(due.routes, due.cap);
    await client.query("COMMIT");
    return { counts, leased, oldest, gates, dueCounts };
  } catch (err) {
    broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.release(broken);
  }
}

export type PgViewQueries = ReturnType<typeof createPgViewQueries>;
