/**
 * A Sender whose HTTP work runs on a worker thread (send-thread.ts). Jobs started in one
 * event-loop turn travel as one message, and results come back batched the same way, so the main
 * thread pays a structured clone per attempt instead of the whole HTTP exchange.
 */
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import { type AttemptResult, Details } from "../model.js";
import type { OutgoingRequest } from "./send.js";
import type { Sender } from "./sender.js";
import type { Job, ResultBatch, ThreadCommand, ThreadInit } from "./thread-protocol.js";

export interface ThreadSenderOptions extends Pick<ThreadInit, "routes"> {
  log: Logger;
  now: () => number;
  /** The compiled send-thread.js; defaults to the one beside this module. */
  script?: URL;
  /** How long close() waits for the thread to finish before terminating it (ms). */
  closeTimeoutMs?: number;
}

interface InFlight {
  resolve(result: AttemptResult): void;
  startedAt: number;
  slot: number;
}

/**
 * Job slots in the shared `started` flags: far more than the deliverer hands over at its default
 * concurrency. A job beyond them (thousands in flight) counts as started after a crash.
 */
const SLOTS = 4096;

export function createThreadSender(options: ThreadSenderOptions): Sender {
  const { log, now } = options;
  const script = options.script ?? new URL("./send-thread.js", import.meta.url);
  const routeNames = new Set(options.routes.map((r) => r.name));
  const inFlight = new Map<number, InFlight>();
  let worker: Worker | null = null;
  let nextId = 0;
  let outbox: Job[] = [];
  let postScheduled = false;
  const startedFlags = new SharedArrayBuffer(SLOTS);
  const started = new Uint8Array(startedFlags);
  const freeSlots: number[] = [];
  let unusedSlot = 0;

  function takeSlot(): number {
    const slot = freeSlots.pop() ?? (unusedSlot < SLOTS ? unusedSlot++ : -1);
    if (slot >= 0) Atomics.store(started, slot, 0);
    return slot;
  }

  function settle(id: number, result: AttemptResult): void {
    const entry = inFlight.get(id);
    if (!entry) return;
    inFlight.delete(id);
    if (entry.slot >= 0) freeSlots.push(entry.slot);
    entry.resolve(result);
  }

  function spawn(): Worker {
    const init: ThreadInit = { routes: options.routes, started: startedFlags };
    const w = new Worker(script, { workerData: init });
    w.on("message", (batch: ResultBatch) => {
      for (const [id, result] of batch) settle(id, result);
    });
    w.on("error", (err) => log.error({ err }, "delivery thread failed"));
    w.on("exit", (code) => {
      if (worker === w) worker = null;
      // Only a crash leaves attempts behind. One that never started goes back unsent. One that
      // started has an unknown outcome (the request may have been written), so it counts as an
      // unclassified failure and follows the retry schedule, which also keeps a request that
      // crashes the thread from being retried in a tight loop.
      const at = now();
      for (const [id, entry] of [...inFlight]) {
        const sent = entry.slot < 0 || Atomics.load(started, entry.slot) === 1;
        settle(id, {
          ok: false,
          statusCode: null,
          failure: sent ? { reason: "unclassified", detail: Details.unclassified } : null,
          aborted: !sent,
          error: `delivery thread exited (code ${code}) ${sent ? "during" : "before"} the attempt`,
          startedAt: sent ? entry.startedAt : at,
          durationMs: sent ? at - entry.startedAt : 0,
          retryAfterMs: null,
        });
      }
    });
    return w;
  }

  function post(): void {
    postScheduled = false;
    if (outbox.length === 0) return;
    worker ??= spawn();
    const command: ThreadCommand = { type: "send", jobs: outbox };
    // Bodies move to the thread instead of being copied: the caller is done with them.
    const transfer = [...new Set(outbox.map((job) => job.body.buffer as ArrayBuffer))];
    outbox = [];
    worker.postMessage(command, transfer);
  }

  // Started now, not on the first attempt: the thread's start-up (~100 ms of module loading) would
  // otherwise delay the first delivery after a restart.
  worker = spawn();

  return {
    queues: true,
    send(route: string, req: OutgoingRequest, timeoutMs: number): Promise<AttemptResult> {
      if (!routeNames.has(route)) throw new Error(`no upstream for route ${route}`);
      return new Promise((resolve) => {
        const id = nextId++;
        const slot = takeSlot();
        inFlight.set(id, { resolve, startedAt: now(), slot });
        // Only a body that owns its whole ArrayBuffer can be transferred; a view into a larger
        // (pooled) one is copied first, which also keeps the rest of that pool out of the message.
        const body = req.body.byteLength === req.body.buffer.byteLength ? req.body : new Uint8Array(req.body);
        outbox.push({
          id,
          slot,
          route,
          url: req.url,
          method: req.method,
          headers: req.headers,
          body,
          timeoutMs,
          clockOffsetMs: now() - Date.now(),
        });
        if (!postScheduled) {
          postScheduled = true;
          queueMicrotask(post);
        }
      });
    },
    release(route: string): void {
      post(); // after the sends already made, so those are handed back too
      const command: ThreadCommand = { type: "release", route };
      worker?.postMessage(command);
    },
    abort(reason: Error): void {
      post();
      const command: ThreadCommand = { type: "abort", message: reason.message };
      worker?.postMessage(command);
    },
    async close(): Promise<void> {
      const w = worker;
      if (!w) return;
      const exited = once(w, "exit");
      const command: ThreadCommand = { type: "close" };
      w.postMessage(command);
      const timer = setTimeout(() => void w.terminate(), options.closeTimeoutMs ?? 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
