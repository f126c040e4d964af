import type { Logger } from "pino";
import type { Config } from "../config/types.js";
import type { CommandRunner, PruneDedup, PruneStats } from "./commands.js";
import type { Store } from "./index.js";
import type { FinishedStatus } from "./retention.js";
import { reserveBytes } from "./space.js";

export interface PrunerOptions {
  /** Usage of the database file against its cap (SQLite), or null when nothing is capped. */
  space: Store["space"] | null;
  commands: CommandRunner;
  retention: Config["storage"]["retention"];
  now: () => number;
  log: Logger;
  /** Rows per writer op (ms of work inside a shared ingest transaction). */
  batch?: number;
  /** Pause between scheduled runs (ms). */
  intervalMs?: number;
}

/** Rows removed by one run, by kind. */
export interface PruneReport {
  delivered: number;
  dead: number;
  /** Events left undelivered by a route's filter, kept as long as delivered ones. */
  filtered: number;
  dedup: number;
  stats: number;
  /** Delivered and filtered events removed before their retention age because the database was full. */
  early: number;
}

const yieldToIngest = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Retention off the hot path: every run deletes old delivered, filtered and dead events (with attempts),
 * expired dedup keys and old stat buckets, `batch` rows per writer op, yielding to the event loop
 * between ops so a prune of millions of rows never holds ingest for more than one small batch.
 * Under storage pressure (`relieve`), delivered and filtered events go early, oldest first: nothing
 * more is owed on them, and room for new webhooks is what keeps the promise.
 */
export function createPruner(options: PrunerOptions) {
  const { commands, retention, now, log } = options;
  const batch = options.batch ?? 500;
  const intervalMs = options.intervalMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<PruneReport> | undefined;
  let stopped = false;
  let relieveWanted = false;
  let lastRelief = Number.NEGATIVE_INFINITY;

  async function events(status: FinishedStatus, before: number): Promise<number> {
    let total = 0;
    while (!stopped) {
      const groups = await commands.execute({ kind: "prune-finished", status, before, limit: batch });
      const n = groups.reduce((sum, g) => sum + g.n, 0);
      total += n;
      if (n < batch) break;
      await yieldToIngest();
    }
    return total;
  }

  async function rows(command: () => PruneDedup | PruneStats): Promise<number> {
    let total = 0;
    while (!stopped) {
      const n = await commands.execute(command());
      total += n;
      if (n < batch) break;
      await yieldToIngest();
    }
    return total;
  }

  /** Frees pages until usage is back under the ingest threshold with room to spare, or nothing is left. */
  async function relieveSpace(): Promise<number> {
    let total = 0;
    while (!stopped) {
      const usage = options.space?.usage();
      if (!usage) break;
      if (usage.capBytes === null) break;
      const target = usage.capBytes - 2 * reserveBytes(usage.capBytes);
      if (usage.usedBytes <= target) break;
      const early = { kind: "prune-finished", before: Number.MAX_SAFE_INTEGER, limit: batch } as const;
      let groups = await commands.execute({ ...early, status: "delivered" });
      if (groups.length === 0) groups = await commands.execute({ ...early, status: "filtered" });
      const n = groups.reduce((sum, g) => sum + g.n, 0);
      total += n;
      if (n === 0) break;
      await yieldToIngest();
    }
    if (total > 0)
      log.warn(
        { pruned: total },
        "database full: pruned delivered events before their retention age (filtered ones too)",
      );
    return total;
  }

  async function run(): Promise<PruneReport> {
    const t = now();
    const report: PruneReport = { delivered: 0, dead: 0, filtered: 0, dedup: 0, stats: 0, early: 0 };
    report.delivered = await events("delivered", t - retention.deliveredMs);
    report.filtered = await events("filtered", t - retention.deliveredMs);
    report.dead = await events("dead", t - retention.deadMs);
    report.dedup = await rows(() => ({ kind: "prune-dedup", now: now(), limit: batch }));
    report.stats = await rows(() => ({ kind: "prune-stats", before: t - retention.statsMs, limit: batch }));
    if (relieveWanted) {
      relieveWanted = false;
      report.early = await relieveSpace();
    }
    const removed = report.delivered + report.filtered + report.dead + report.dedup + report.stats;
    if (removed > 0) log.info({ ...report }, "retention pruned old rows");
    return report;
  }

  /** Runs once now, or joins the run in progress. Errors are logged; the next run retries. */
  function runOnce(): Promise<PruneReport> {
    running ??= run()
      .catch((err: unknown) => {
        log.error({ err }, "retention prune failed; retrying on the next run");
        return { delivered: 0, dead: 0, filtered: 0, dedup: 0, stats: 0, early: 0 };
      })
      .finally(() => {
        running = undefined;
        if (relieveWanted && !stopped) void runOnce();
      });
    return running;
  }

  function schedule(delay = intervalMs): void {
    if (stopped) return;
    timer = setTimeout(() => void runOnce().then(() => schedule()), delay);
    timer.unref();
  }

  return {
    /** First run soon after start-up, then every `intervalMs`. */
    start(): void {
      schedule(Math.min(intervalMs, 5_000));
    },
    runOnce,
    /** The database is full: prune delivered events early (joins or follows the current run). */
    relieve(): void {
      // Every refused request asks; one relief per second is plenty (providers retry anyway).
      if (stopped || relieveWanted || now() - lastRelief < 1_000) return;
      lastRelief = now();
      relieveWanted = true;
      if (running === undefined) void runOnce();
    },
    /** Stops scheduling and waits for the batch in progress to commit. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}

export type Pruner = ReturnType<typeof createPruner>;
