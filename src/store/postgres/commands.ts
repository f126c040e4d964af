/**
 * The PostgreSQL store's commands: one turn's commands run in one transaction on one connection.
 * The webhooks of the turn are one multi-row INSERT, the outcomes one UPDATE and one attempts
 * INSERT; the rest run in command order. Effects are recorded as in the SQLite store
 * (store/effects.ts), and the counters and queue counts they add are upserted before COMMIT.
 */
import type { Gate } from "../../gate.js";
import type { EventStatus } from "../../model.js";
import type { RecordOutcome, StoreCommand, StoredWebhook } from "../commands.js";
import { gateMoved } from "../commands.js";
import {
  attemptRow,
  discarded,
  keptResponse,
  outcomeRecorded,
  pruned,
  reopened,
  webhookStored,
} from "../effects.js";
import type { AdminChange, EventRef } from "../event-admin.js";
import type { StatIncrement } from "../stat-increments.js";
import type { GateChange, QueueMove } from "../writer.js";
import { createPgAttemptQueries } from "./attempts.js";
import { createPgClaimQueries } from "./claims.js";
import { createPgEventQueries, NOW_MS, type PgNewEvent } from "./events.js";
import type { Queryable } from "./pool.js";
import { createPgRetentionQueries } from "./retention.js";
import { createPgStatQueries } from "./stats.js";

/** What one transaction changed besides its rows (see Committed). */
export interface PgEffects {
  counts: StatIncrement[];
  moves: QueueMove[];
  gates: GateChange[];
}

export interface PgCommandDeps {
  /** This replica's name in `locked_by`: only its leases' outcomes are recorded. */
  owner: string;
  now: () => number;
  ids: (now: number) => string;
}

interface GateRow {
  route: string;
  state: Gate["state"];
  consecutive_failures: number;
  recent_failures: string[];
  disabled: Gate["disabled"];
  cooldown_ms: number | null;
  probe_at: number | null;
}

export function gateOf(r: GateRow): Gate {
  return {
    state: r.state,
    consecutiveFailures: r.consecutive_failures,
    recentFailures: r.recent_failures as Gate["recentFailures"],
    disabled: r.disabled,
    cooldownMs: r.cooldown_ms,
    probeAt: r.probe_at,
  };
}

export const GATE_COLUMNS =
  "route, state, consecutive_failures, recent_failures, disabled, cooldown_ms, probe_at";

const SAVE_GATE = `
INSERT INTO routes_state AS s (route, state, consecutive_failures, recent_failures, disabled, cooldown_ms,
  probe_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (route) DO UPDATE SET state = EXCLUDED.state, consecutive_failures = EXCLUDED.consecutive_failures,
  recent_failures = EXCLUDED.recent_failures, disabled = EXCLUDED.disabled, cooldown_ms = EXCLUDED.cooldown_ms,
  probe_at = EXCLUDED.probe_at, updated_at = EXCLUDED.updated_at,
  -- A probe's outcome moves the state or the next probe time: its lease ends, and the next probe
  -- is taken anew. Other saves (late outcomes of attempts begun before the route opened) keep it.
  probe_by = CASE WHEN s.state = EXCLUDED.state AND s.probe_at IS NOT DISTINCT FROM EXCLUDED.probe_at
    THEN s.probe_by END,
  probe_until = CASE WHEN s.state = EXCLUDED.state AND s.probe_at IS NOT DISTINCT FROM EXCLUDED.probe_at
    THEN s.probe_until END`;

// Queue counts per route and status, moved in the same transaction as the rows (sorted, so two
// replicas lock them in one order).
const MOVE_COUNTS = `
INSERT INTO queue_counts AS q (route, status, n, bytes)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) ORDER BY 1, 2
ON CONFLICT (route, status) DO UPDATE SET n = q.n + EXCLUDED.n, bytes = q.bytes + EXCLUDED.bytes`;

const REF = 'seq, id, route, status, body_size + response_bytes AS "bodySize", order_key AS "orderKey"';
const LEASED = `(status = 'pending' AND lease_until IS NOT NULL AND lease_until > ${NOW_MS})`;

interface GateStep {
  route: string;
  committed: Gate;
  next(before: Gate): Gate;
}

/** Applies the steps in order from `start` (a route missing there starts from its step's committed gate). */
function simulate(steps: readonly GateStep[], start: ReadonlyMap<string, Gate>): GateChange[] {
  const now = new Map(start);
  const changes: GateChange[] = [];
  for (const s of steps) {
    const before = now.get(s.route) ?? s.committed;
    const after = s.next(before);
    if (!gateMoved(before, after)) continue;
    now.set(s.route, after);
    changes.push({ route: s.route, before, after });
  }
  return changes;
}

/**
 * The breaker's steps of one turn, on the routes' shared rows. Read without a lock first: most
 * outcomes (a success on an active route) move nothing, and then no row is locked or written.
 * Otherwise the moved routes' rows are locked, in route order, and their steps run again on what
 * the rows hold now, so failures from every replica count together.
 */
async function stepGates(
  db: Queryable,
  steps: readonly GateStep[],
  at: number,
  effects: PgEffects,
): Promise<void> {
  if (steps.length === 0) return;
  const read = async (routes: string[], lock: boolean) => {
    const { rows } = await db.query<GateRow>(
      `SELECT ${GATE_COLUMNS} FROM routes_state WHERE route = ANY($1) ORDER BY route${lock ? " FOR UPDATE" : ""}`,
      [routes],
    );
    return new Map(rows.map((r) => [r.route, gateOf(r)]));
  };
  const routes = [...new Set(steps.map((s) => s.route))].sort();
  const moved = [...new Set(simulate(steps, await read(routes, false)).map((c) => c.route))].sort();
  if (moved.length === 0) return;
  const mine = new Set(moved);
  const changes = simulate(
    steps.filter((s) => mine.has(s.route)),
    await read(moved, true),
  );
  const last = new Map<string, Gate>();
  for (const c of changes) last.set(c.route, c.after);
  for (const route of [...last.keys()].sort()) {
    const after = last.get(route) as Gate;
    await db.query(SAVE_GATE, [
      route,
      after.state,
      after.consecutiveFailures,
      after.recentFailures,
      after.disabled === null ? null : JSON.stringify(after.disabled),
      after.cooldownMs,
      after.probeAt,
      at,
    ]);
  }
  effects.gates.push(...changes);
}

/** Sums moves per (route, status) into signed deltas. */
function deltas(moves: readonly QueueMove[]) {
  const by = new Map<string, { route: string; status: EventStatus; n: number; bytes: number }>();
  const add = (route: string, status: EventStatus, n: number, bytes: number) => {
    const k = `${route}\u0000${status}`;
    const d = by.get(k);
    if (d) {
      d.n += n;
      d.bytes += bytes;
    } else by.set(k, { route, status, n, bytes });
  };
  for (const m of moves) {
    if (m.from !== null) add(m.route, m.from, -m.n, -m.bytes);
    if (m.to !== null) add(m.route, m.to, m.n, m.bytes);
  }
  return [...by.values()].filter((d) => d.n !== 0 || d.bytes !== 0);
}

/** Runs one turn's commands in the transaction `db` is in; returns each command's result, in order. */
export async function executeCommands(
  db: Queryable,
  deps: PgCommandDeps,
  commands: readonly StoreCommand[],
  effects: PgEffects,
): Promise<unknown[]> {
  const results: unknown[] = new Array(commands.length);
  const ctx = {
    count(at: number, route: string, metric: StatIncrement["metric"], detail = "", n = 1) {
      effects.counts.push({ at, route, metric, detail, n });
    },
    moved(route: string, from: EventStatus | null, to: EventStatus | null, bytes: number, n = 1) {
      effects.moves.push({ route, from, to, bytes, n });
    },
  };

  // The gate steps of this turn, in command order; applied at the end (see stepGates).
  const steps: GateStep[] = [];

  // 2. The turn's webhooks: one statement.
  const webhooks = commands.flatMap((c, i) => (c.kind === "store-webhook" ? [{ c, i }] : []));
  if (webhooks.length > 0) {
    const now = deps.now();
    const rows: PgNewEvent[] = webhooks.map(({ c }) => {
      const filtered = c.event.filtered === true;
      return {
        ...c.event,
        id: deps.ids(now),
        receivedAt: now,
        nextAttemptAt: filtered ? now : now + c.firstDelayMs,
        dedupKey: c.dedup?.key ?? null,
        dedupExpiresAt: c.dedup ? now + c.dedup.windowMs : null,
      };
    });
    const stored = await createPgEventQueries(db).insertBatch(rows, now);
    webhooks.forEach(({ c, i }, k) => {
      const r = stored[k] as (typeof stored)[number];
      const row = rows[k] as PgNewEvent;
      const result: StoredWebhook =
        r.kind === "duplicate"
          ? { kind: "duplicate", id: r.id }
          : row.filtered
            ? { kind: "accepted", id: r.id, filtered: true }
            : { kind: "accepted", id: r.id };
      webhookStored(ctx, c.event.route, now, c.event.body.length, result);
      results[i] = result;
    });
  }

  // 3. The turn's outcomes: one UPDATE (holder only) and one attempts INSERT.
  const outcomes = commands.flatMap((c, i) => (c.kind === "record-outcome" ? [{ c, i }] : []));
  const recorded = new Set<number>();
  if (outcomes.length > 0) {
    const bodies = outcomes.map(({ c }) => keptResponse(c));
    const seqs = await createPgClaimQueries(db).recordOutcomes(
      deps.owner,
      outcomes.map(({ c }, k) => ({ ...c.update, responseBytes: bodies[k]?.length ?? 0 })),
    );
    for (const s of seqs) recorded.add(s);
    const kept = outcomes.filter(({ c }) => recorded.has(c.update.seq));
    await createPgAttemptQueries(db).insert(kept.map(({ c }) => attemptRow(c, keptResponse(c))));
    outcomes.forEach(({ c }, k) => {
      // A lease that ran out went to another replica: this late outcome records nothing.
      if (recorded.has(c.update.seq)) outcomeRecorded(ctx, c, bodies[k]?.length ?? 0);
    });
  }

  // 4. Everything else, and the gate steps, in command order.
  for (let i = 0; i < commands.length; i++) {
    const c = commands[i] as StoreCommand;
    switch (c.kind) {
      case "store-webhook":
        break;
      case "record-outcome":
        if (recorded.has(c.update.seq))
          steps.push({ route: c.route, committed: c.gate.committed, next: c.gate.next });
        results[i] = undefined;
        break;
      case "set-gate":
        steps.push({ route: c.route, committed: c.committed, next: () => c.after });
        results[i] = undefined;
        break;
      case "redeliver":
        results[i] = await changeOne(db, c.id, async (ref) => {
          await redeliverRefs(db, [ref], c.now, null);
          reopened(ctx, [ref]);
        });
        break;
      case "redeliver-seqs": {
        const { rows } = await db.query<EventRef & { leased: boolean }>(
          `SELECT ${REF}, ${LEASED} AS leased FROM events WHERE seq = ANY($1) ORDER BY seq FOR UPDATE`,
          [c.seqs],
        );
        const changed = rows.filter((r) => !r.leased).map(plainRef);
        await redeliverRefs(db, changed, c.now, c.requestId);
        reopened(ctx, changed);
        results[i] = { changed, skipped: c.seqs.length - changed.length };
        break;
      }
      case "discard":
        results[i] = await changeOne(db, c.id, async (ref) => {
          await db.query("DELETE FROM attempts WHERE event_id = $1", [ref.id]);
          await db.query("DELETE FROM event_history WHERE event_id = $1", [ref.id]);
          await db.query("DELETE FROM events WHERE seq = $1", [ref.seq]);
          discarded(ctx, ref);
        });
        break;
      case "save-request":
        await db.query("DELETE FROM admin_requests WHERE at < $1", [c.before]);
        await db.query(
          `INSERT INTO admin_requests (key, at, fingerprint, response) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key) DO UPDATE SET at = EXCLUDED.at, fingerprint = EXCLUDED.fingerprint,
             response = EXCLUDED.response`,
          [c.key, c.at, c.fingerprint, c.response],
        );
        results[i] = undefined;
        break;
      case "prune-finished": {
        const groups = await createPgRetentionQueries(db).pruneFinished(c.status, c.before, c.limit);
        const asGroups = groups.map((g) => ({
          route: g.route,
          status: c.status,
          n: g.n,
          bytes: Number(g.bytes),
        }));
        pruned(ctx, asGroups);
        results[i] = asGroups;
        break;
      }
      case "prune-dedup":
        results[i] = await createPgRetentionQueries(db).pruneDedup(c.now, c.limit);
        break;
      case "prune-stats":
        // Minutes only, as in the SQLite store: hour rows are what a wide window reads.
        results[i] = await createPgRetentionQueries(db).pruneStats("minute", c.before, c.limit);
        break;
      case "count":
        for (const n of c.counts) ctx.count(n.at, n.route, n.metric, "", n.n);
        results[i] = undefined;
        break;
    }
  }

  // 5. Gates, queue counts and counters, each in key order (so two replicas cannot deadlock).
  await stepGates(db, steps, deps.now(), effects);
  const d = deltas(effects.moves);
  if (d.length > 0) {
    await db.query(MOVE_COUNTS, [
      d.map((x) => x.route),
      d.map((x) => x.status),
      d.map((x) => x.n),
      d.map((x) => x.bytes),
    ]);
  }
  await createPgStatQueries(db).add(effects.counts);
  return results;
}

/**
 * Changes one event by id, locked: not found, or leased by any replica (a conflict), or `change`d.
 */
async function changeOne(
  db: Queryable,
  id: string,
  change: (ref: EventRef) => Promise<void>,
): Promise<AdminChange> {
  const { rows } = await db.query<EventRef & { leased: boolean }>(
    `SELECT ${REF}, ${LEASED} AS leased FROM events WHERE id = $1 FOR UPDATE`,
    [id],
  );
  const row = rows[0];
  if (!row) return { result: "not_found" };
  if (row.leased) return { result: "delivering" };
  const ref = plainRef(row);
  await change(ref);
  return { result: "ok", ref };
}

function plainRef(r: EventRef & { leased?: boolean }): EventRef {
  return {
    seq: r.seq,
    id: r.id,
    route: r.route,
    status: r.status,
    bodySize: r.bodySize,
    orderKey: r.orderKey,
  };
}

/**
 * Finished -> pending and due now (retry schedule restarted); pending -> due now. History kept.
 * Per-key order needs nothing here: a claim checks for an earlier open event of the key itself.
 */
async function redeliverRefs(
  db: Queryable,
  refs: readonly EventRef[],
  now: number,
  requestId: string | null,
): Promise<void> {
  if (refs.length === 0) return;
  const seqs = refs.map((r) => r.seq);
  await db.query(
    `INSERT INTO event_history (event_id, at, action, request_id)
     SELECT id, $2, 'redeliver', $3 FROM events WHERE seq = ANY($1)`,
    [seqs, now, requestId],
  );
  await db.query(
    `UPDATE events SET next_attempt_at = $2,
       schedule_base = CASE WHEN status = 'pending' THEN schedule_base ELSE attempts END,
       schedule_start = CASE WHEN status = 'pending' THEN schedule_start ELSE $2 END,
       status = 'pending', delivered_at = NULL, finished_at = NULL
     WHERE seq = ANY($1)`,
    [seqs, now],
  );
}

export type { RecordOutcome };
