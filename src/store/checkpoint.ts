import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { Database } from "better-sqlite3";

export const CheckpointModes = { PASSIVE: "PASSIVE", TRUNCATE: "TRUNCATE" } as const;
export type CheckpointMode = keyof typeof CheckpointModes;

/** What `PRAGMA wal_checkpoint` reports. */
export interface CheckpointResult {
  mode: CheckpointMode;
  /** 1 when the checkpoint could not finish because another connection held a lock. */
  busy: number;
  /** Frames in the WAL. */
  log: number;
  /** Frames copied back into the database. */
  checkpointed: number;
}

export interface CheckpointerOptions {
  db: Database;
  /** `<db>-wal`; its size decides when to TRUNCATE. */
  walPath: string;
  /** A PASSIVE checkpoint runs once no batch has committed for this long (ms). */
  idleMs?: number;
  /**
   * Under constant load, a PASSIVE checkpoint runs at least this often anyway (ms; default 250 on
   * the worker, 1,000 on this thread).
   */
  maxIntervalMs?: number;
  /** Above this WAL size (bytes) the checkpoint is TRUNCATE, which also shrinks the file. */
  truncateAboveBytes?: number;
  now?: () => number;
  /** Told about checkpoints that fail (e.g. SQLITE_BUSY from an outside reader). */
  onError?: (err: unknown) => void;
  /**
   * Run routine PASSIVE checkpoints on a worker thread with its own connection to this file, so
   * the checkpoint's writes and fsync never block the event loop (and so never an ack).
   */
  backgroundPath?: string;
}

/** Frames a main-thread checkpoint may still have to copy after the worker's (about 2 MiB). */
const CATCH_UP_FRAMES = 512;
/** A worker pass this short left few new frames behind it: finishing them here is cheap. */
const QUICK_PASS_MS = 100;
/** Passes the worker makes in a row to catch up before the main thread finishes anyway. */
const MAX_CHASES = 3;

/**
 * The worker: one connection, one PASSIVE checkpoint per message. PASSIVE never blocks the main
 * connection's writers, so the two threads need no coordination beyond SQLite's own locks.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.sqlite);
const db = new Database(workerData.path, { timeout: 0 });
parentPort.on("message", () => {
  try {
    const [r] = db.pragma("wal_checkpoint(PASSIVE)");
    parentPort.postMessage({ ok: true, ...r });
  } catch (err) {
    parentPort.postMessage({ ok: false, message: String((err && err.message) || err) });
  }
});
`;

export interface Checkpointer {
  /** Call after every committed batch (the writer's onCommit). */
  onCommit(): void;
  /** Runs one checkpoint now; TRUNCATE if the WAL is over the cap, else PASSIVE (or `mode`). */
  checkpoint(mode?: CheckpointMode): CheckpointResult | null;
  /** Current WAL size in bytes (0 when the file is missing). */
  walBytes(): number;
  /** Cancels the pending timer; a final checkpoint is the caller's choice. */
  stop(): void;
}

/**
 * wal_autocheckpoint is 0 (open.ts): SQLite's own checkpoint would run inside the commit of
 * whichever ingest batch crossed 1000 pages and put a checkpoint's fsyncs on the ack path. This
 * runs them between batches instead: when the writer goes briefly idle, at least every
 * `maxIntervalMs` under constant load (so the WAL cannot grow without bound), and as TRUNCATE
 * once the WAL passes a cap (an outside reader can pin frames and defeat PASSIVE for a while).
 * better-sqlite3 is synchronous, so a checkpoint never interleaves with a batch.
 */
export function createCheckpointer(options: CheckpointerOptions): Checkpointer {
  const { db, walPath } = options;
  const idleMs = options.idleMs ?? 75;
  // With the worker, often: under constant load the WAL gains tens of MiB a second, and each
  // pass should find little to copy so the WAL can rewind long before the cap.
  const maxIntervalMs = options.maxIntervalMs ?? (options.backgroundPath !== undefined ? 250 : 1_000);
  const truncateAbove = options.truncateAboveBytes ?? 64 * 1024 * 1024;
  // Rewinding starts well below the cap, so the worker has room to catch up before it.
  const rewindAboveBytes = truncateAbove / 4;
  const now = options.now ?? Date.now;
  let lastCommitAt = 0;
  let lastCheckpointAt = now();
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let worker: Worker | undefined;
  let workerBusy = false;
  let passStartedAt = 0;
  let chases = 0;
  // A WAL frame: one page plus its 24-byte header.
  const frameBytes = (db.pragma("page_size", { simple: true }) as number) + 24;
  const startPass = (w: Worker): void => {
    workerBusy = true;
    passStartedAt = performance.now();
    w.postMessage("checkpoint");
  };
  if (options.backgroundPath !== undefined) {
    const sqlite = createRequire(import.meta.url).resolve("better-sqlite3");
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: options.backgroundPath, sqlite } });
    worker.unref();
    worker.on("message", (r: { ok: boolean; message?: string; log?: number; checkpointed?: number }) => {
      workerBusy = false;
      if (!r.ok) {
        options.onError?.(new Error(`background checkpoint failed: ${r.message}`));
        return;
      }
      lastCheckpointAt = now();
      // Under constant writes a concurrent checkpoint never quite catches up, and SQLite only
      // rewinds the WAL (the next commit writes from its start, in place) after one that copied
      // every frame with no commit in between: only this thread can finish it. That is cheap only
      // when few frames were appended during the worker's pass, so a long pass is followed by
      // another at once, each copying what the last one left, until one is short. Without this
      // the WAL outgrows the cap under constant load and this thread TRUNCATEs it, copying every
      // frame the worker had not: stalls of hundreds of milliseconds (docs/performance.md).
      // The WAL's content, not its file: a rewound WAL keeps its file size.
      const content = (r.log ?? 0) * frameBytes;
      const behind = (r.log ?? 0) - (r.checkpointed ?? 0);
      if (stopped || content <= rewindAboveBytes || behind < 0 || behind > CATCH_UP_FRAMES) {
        chases = 0;
        return;
      }
      if (performance.now() - passStartedAt > QUICK_PASS_MS && chases < MAX_CHASES && worker) {
        chases++;
        startPass(worker);
        return;
      }
      chases = 0;
      checkpoint("PASSIVE");
    });
    worker.on("error", (err) => {
      // Fall back to checkpoints on this thread rather than letting the WAL grow.
      worker = undefined;
      options.onError?.(err);
    });
  }

  function walBytes(): number {
    try {
      return statSync(walPath).size;
    } catch {
      return 0;
    }
  }

  function checkpoint(mode?: CheckpointMode): CheckpointResult | null {
    if (!db.open || db.inTransaction) return null;
    const chosen = mode ?? (walBytes() > truncateAbove ? "TRUNCATE" : "PASSIVE");
    try {
      const row = db.pragma(`wal_checkpoint(${chosen})`) as Array<Omit<CheckpointResult, "mode">>;
      lastCheckpointAt = now();
      dirty = false;
      const r = row[0] ?? { busy: 0, log: 0, checkpointed: 0 };
      return { mode: chosen, ...r };
    } catch (err) {
      options.onError?.(err);
      return null;
    }
  }

  function tick(): void {
    timer = undefined;
    if (stopped || !dirty) return;
    const t = now();
    const idleFor = t - lastCommitAt;
    const overCap = walBytes() > truncateAbove;
    if (idleFor >= idleMs || t - lastCheckpointAt >= maxIntervalMs || overCap) {
      if (worker && !overCap) {
        if (!workerBusy) {
          dirty = false;
          startPass(worker);
        }
        // Writes that land while the worker copies stay dirty and are picked up next time.
        if (dirty) arm(idleMs);
        return;
      }
      checkpoint();
      return;
    }
    arm(Math.max(1, Math.min(idleMs - idleFor, maxIntervalMs - (t - lastCheckpointAt))));
  }

  function arm(delay: number): void {
    timer = setTimeout(tick, delay);
    timer.unref();
  }

  return {
    onCommit() {
      if (stopped) return;
      lastCommitAt = now();
      dirty = true;
      // One timer at a time: re-arming on every commit would cost a timer per batch.
      if (timer === undefined) arm(idleMs);
    },
    checkpoint,
    walBytes,
    stop() {
      stopped = true;
      void worker?.terminate();
      worker = undefined;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
