import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { type Config, redactDatabaseUrl } from "../config/index.js";
import { createSharedClaims, type LeaseStore } from "../deliver/shared-claims.js";
import type { Gate } from "../gate.js";
import { createIdFactory } from "../ids.js";
import { type EventStatus, EventStatuses } from "../model.js";
import type { QueueCounts } from "../store/index.js";
import {
  createPgClaimQueries,
  createPgEventReads,
  createPgStatQueries,
  createPostgresPool,
  listenForEvents,
  migratePostgres,
  type PostgresTarget,
} from "../store/postgres/index.js";
import { createPgViewQueries, readViews } from "../store/postgres/views.js";
import { createPgWriter } from "../store/postgres/writer.js";
import { StartupError } from "./startup-error.js";
import type { Storage } from "./storage.js";

/** How often an idle replica looks for due retries and for what other replicas changed (ms). */
const TICK_MS = 1_000;
/** How stale this replica's own views (queue counts for backpressure, gauges) may get under load (ms). */
const REFRESH_MS = 100;

const STATUSES = Object.keys(EventStatuses) as EventStatus[];

/**
 * A claim's lease: twice the route's attempt timeout plus 2 s, so an attempt that runs its whole
 * timeout still commits its outcome well inside it (docs/replicas.md).
 */
export const leaseMs = (timeoutMs: number) => 2 * timeoutMs + 2_000;

/**
 * PostgreSQL: replicas sharing one queue (docs/replicas.md). Migrates under an advisory lock,
 * then runs commands through the group-commit writer, claims with leases in the rows, and keeps
 * what the views read (queue counts, gates) fresh from the database: at once after this replica's
 * own commits, and every TICK_MS for what the others did.
 */
export async function openPostgresStorage(
  config: Config,
  log: Logger,
  clock: Clock,
  url: string,
): Promise<Storage> {
  const target: PostgresTarget = {
    url,
    schema: config.storage.schema,
    max: config.storage.poolSize,
    applicationName: `hookbuffer ${hostname()}`,
  };
  const owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  let pool: Awaited<ReturnType<typeof createPostgresPool>>;
  // Claims need no flush to disk: a lease lost to a crash is a lease run out.
  let claimPool: Awaited<ReturnType<typeof createPostgresPool>>;
  try {
    pool = await createPostgresPool(target);
    pool.on("error", (err) => log.warn({ err }, "an idle PostgreSQL connection failed"));
    await migratePostgres(pool);
    claimPool = await createPostgresPool({ ...target, max: 2, asyncCommit: true });
    claimPool.on("error", (err) => log.warn({ err }, "an idle PostgreSQL connection failed"));
    await createPgViewQueries(pool).ensureRoutes(config.routes.map((r) => r.name));
  } catch (err) {
    throw new StartupError(
      `cannot use PostgreSQL at ${redactDatabaseUrl(url)} (storage.url): ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }

  const writer = createPgWriter({ pool, owner, now: clock.now, ids: createIdFactory() });
  const claimQueries = createPgClaimQueries(claimPool);
  const timeouts = new Map(config.routes.map((r) => [r.name, r.timeoutMs]));
  const lease = (route: string) => leaseMs(timeouts.get(route) ?? 30_000);
  const leases: LeaseStore = {
    claim: (route, limit) => claimQueries.claim(route, owner, lease(route), limit),
    takeProbe: (route) => claimQueries.takeProbe(route, owner, lease(route)),
    release: (seqs) => claimQueries.release(owner, seqs),
    releaseAllBut: (route, keep) => claimQueries.releaseAllBut(route, owner, keep),
  };
  const claims = createSharedClaims(
    leases,
    (err) => log.warn({ err }, "could not release a lease; it runs out instead"),
    clock.now,
  );

  // What the views read, refreshed from the database.
  const zero = (): QueueCounts => {
    const c = { openBytes: 0 } as QueueCounts;
    for (const s of STATUSES) c[s] = 0;
    return c;
  };
  let byRoute = new Map<string, QueueCounts>();
  let totals = zero();
  let oldest: number | null = null;
  const gates = new Map<string, Gate>();

  const views = createPgViewQueries(pool);
  const loadGates = () => views.gates();

  let refreshing: Promise<void> | null = null;
  let again = false;
  let lastRefresh = 0;
  let refreshTimer: NodeJS.Timeout | undefined;
  // This replica's commits that moved counts, and refreshes in a row that saw one land meanwhile.
  let commits = 0;
  let stale = 0;
  // Routes whose due count was asked for lately, and the counts last read.
  const dueWanted = new Map<string, number>();
  const due = new Map<string, number>();
  let dueCap = 10_000;
  // A rate-limited route is read always: /stats asks the moment it holds anything back.
  for (const r of config.routes) if (r.rateLimit !== null) dueWanted.set(r.name, Number.POSITIVE_INFINITY);
  let gateCommits = 0;

  function move(route: string, status: EventStatus, n: number, bytes: number): void {
    let c = byRoute.get(route);
    if (!c) {
      c = zero();
      byRoute.set(route, c);
    }
    // An outcome moves its event out of pending, but the event was leased: once a refresh has seen
    // the lease it is counted as delivering, so it leaves from there.
    const from: EventStatus = n < 0 && status === "pending" && c.delivering > 0 ? "delivering" : status;
    c[from] += n;
    totals[from] += n;
    if (status === "pending") {
      c.openBytes += bytes;
      totals.openBytes += bytes;
    }
  }

  async function refresh(): Promise<void> {
    const commitsBefore = commits;
    const gateCommitsBefore = gateCommits;
    for (const [route, at] of dueWanted) if (Date.now() - at > 10_000) dueWanted.delete(route);
    const {
      counts,
      leased,
      oldest: head,
      gates: saved,
      dueCounts,
    } = await readViews(pool, {
      routes: [...dueWanted.keys()],
      cap: dueCap,
    });
    for (const d of dueCounts) due.set(d.route, d.n);
    const next = new Map<string, QueueCounts>();
    const all = zero();
    const of = (route: string) => {
      let c = next.get(route);
      if (!c) {
        c = zero();
        next.set(route, c);
      }
      return c;
    };
    for (const r of counts) {
      const { n } = r;
      of(r.route)[r.status] += n;
      all[r.status] += n;
      if (r.status === "pending") {
        of(r.route).openBytes += r.bytes;
        all.openBytes += r.bytes;
      }
    }
    // Leased rows are pending in the table; shown as delivering, wherever the lease is held.
    for (const r of leased) {
      of(r.route).pending -= r.n;
      of(r.route).delivering += r.n;
      all.pending -= r.n;
      all.delivering += r.n;
    }
    // A commit of this replica's during the read may be missing from it but is in the counts
    // already: keep those and read again, unless that keeps happening (then the read wins).
    if (commits === commitsBefore || ++stale > 5) {
      stale = 0;
      byRoute = next;
      totals = all;
    } else again = true;
    oldest = head;
    // A gate this replica committed during the read may be older in it: never move a gate back.
    if (gateCommits !== gateCommitsBefore) {
      again = true;
      return;
    }
    const changes = [];
    for (const g of saved) {
      const before = gates.get(g.route);
      const { route, updatedAt: _, ...after } = g;
      gates.set(route, after);
      if (before && JSON.stringify(before) !== JSON.stringify(after)) changes.push({ route, before, after });
    }
    // Other replicas' gate changes reach the deliverer the way this replica's own commits do.
    if (changes.length > 0) writer.publish({ counts: [], moves: [], gates: changes });
  }

  const initialGates = await loadGates();
  for (const g of initialGates) {
    const { route, updatedAt: _, ...gate } = g;
    gates.set(route, gate);
  }
  await refresh();
  writer.subscribe((c) => {
    if (c.gates.length > 0) gateCommits++;
    for (const g of c.gates) gates.set(g.route, g.after);
  });

  /** Refreshes the views, at most every REFRESH_MS (a busy replica commits hundreds of turns a second). */
  function refreshSoon(): void {
    if (refreshing) {
      again = true;
      return;
    }
    const wait = lastRefresh + REFRESH_MS - Date.now();
    if (wait > 0) {
      refreshTimer ??= setTimeout(() => {
        refreshTimer = undefined;
        refreshSoon();
      }, wait);
      return;
    }
    lastRefresh = Date.now();
    refreshing = refresh()
      .catch((err: unknown) => log.warn({ err }, "could not read the queue counts from PostgreSQL"))
      .finally(() => {
        refreshing = null;
        if (again) {
          again = false;
          refreshSoon();
        }
      });
  }
  // This replica's commits show at once in its own views (backpressure included).
  writer.subscribe((c) => {
    if (c.moves.length === 0) return;
    commits++;
    // At once, as the SQLite store counts (backpressure sees this replica's own commits exactly);
    // the refresh then brings in the other replicas' and the leases.
    for (const m of c.moves) {
      if (m.from !== null) move(m.route, m.from, -m.n, -m.bytes);
      if (m.to !== null) move(m.route, m.to, m.n, m.bytes);
    }
    refreshSoon();
  });

  const statQueries = createPgStatQueries(pool);
  let tick: NodeJS.Timeout | undefined;
  let listener: Awaited<ReturnType<typeof listenForEvents>> | null = null;
  let closed = false;

  return {
    kind: "postgres",
    commands: writer,
    subscribe: (fn) => writer.subscribe(fn),
    queue: {
      // Leases live in the rows here: `leased` (this process's) is already in the counts.
      get: (route) => ({ ...(route === null ? totals : (byRoute.get(route) ?? zero())) }),
      open: () => ({ events: totals.pending + totals.delivering, bytes: totals.openBytes }),
    },
    gates: initialGates,
    // Read with the views while someone asks (a limited route's /stats), capped as the deliverer asks.
    countDue(route, _now, cap) {
      dueCap = cap;
      if (dueWanted.get(route) !== Number.POSITIVE_INFINITY) dueWanted.set(route, Date.now());
      return due.get(route) ?? 0;
    },
    stats: { page: (table, from, to, after, limit) => statQueries.page(table, from, to, after, limit) },
    oldestOpenReceivedAt: () => oldest,
    claims,
    // Leases live in the rows: every replica's read them.
    eventReads: () => createPgEventReads(pool),
    async current(): Promise<void> {
      // After any refresh running now (it may have read before the caller's last commit).
      while (refreshing) await refreshing;
      // A refresh that raced this replica's own commit keeps the counts it had: read again.
      for (let i = 0; i < 3; i++) {
        const before = commits;
        await refresh();
        if (commits === before) return;
      }
    },
    start(wake): void {
      tick = setInterval(() => {
        refreshSoon();
        wake.changed();
      }, TICK_MS);
      tick.unref();
      void listenForEvents(target, {
        onWake: (route) => (route === null ? wake.changed() : wake.stored()),
        onError: (err) => log.warn({ err }, "LISTEN connection to PostgreSQL failed; reconnecting"),
      }).then(
        (l) => {
          if (closed) void l.close();
          else listener = l;
        },
        (err: unknown) => log.warn({ err }, "could not LISTEN for new events; the safety tick finds them"),
      );
    },
    sqlite: null,
    async drain(): Promise<void> {
      if (tick) clearInterval(tick);
      await writer.drain();
      await claims.settle();
    },
    async close(): Promise<void> {
      closed = true;
      if (tick) clearInterval(tick);
      if (refreshTimer) clearTimeout(refreshTimer);
      await listener?.close();
      await refreshing;
      await Promise.all([pool.end(), claimPool.end()]);
    },
  };
}
