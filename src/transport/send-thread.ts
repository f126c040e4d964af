/**
 * The delivery thread: owns one upstream pool per route and performs the attempts the main thread
 * posts, in batches both ways. Keeps HTTP parsing, socket writes and their garbage off the thread
 * that acknowledges webhooks and writes SQLite. Started by thread-sender.ts only.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ShutdownError } from "../classify/errors.js";
import type { AttemptResult } from "../model.js";
import type { Resigner } from "../verify/resign.js";
import { send, shutdownController } from "./send.js";
import type { Job, ResultBatch, ThreadCommand, ThreadInit } from "./thread-protocol.js";
import { createUpstream } from "./upstream.js";

const port = parentPort;
if (!port) throw new Error("send-thread.js runs only as a worker thread");
const init = workerData as ThreadInit;
const started = new Uint8Array(init.started);
const upstreams = new Map(init.routes.map((r) => [r.name, createUpstream(r)]));
// Loaded only when a route re-signs: every module here delays the thread's first delivery.
const resigners: Map<string, Resigner> = init.routes.some((r) => r.verify?.resign)
  ? (await import("../verify/resign.js")).createResigners(init.routes)
  : new Map();
const shutdown = shutdownController();
let results: ResultBatch = [];
let flushScheduled = false;

/**
 * Per route, at most `concurrency` attempts run; the main thread may post more, which wait here.
 * The next one starts the moment a slot frees, without a round trip to the main thread.
 */
interface Lane {
  limit: number;
  running: number;
  waiting: Job[];
}
const lanes = new Map(
  init.routes.map((r): [string, Lane] => [r.name, { limit: r.concurrency, running: 0, waiting: [] }]),
);

function flush(): void {
  flushScheduled = false;
  if (results.length === 0) return;
  port?.postMessage(results);
  results = [];
}

function settled(id: number, result: AttemptResult): void {
  results.push([id, result]);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

function start(lane: Lane, job: Job): void {
  const upstream = upstreams.get(job.route);
  if (!upstream) throw new Error(`no upstream for route ${job.route}`);
  lane.running++;
  if (job.slot >= 0) Atomics.store(started, job.slot, 1);
  // Structured clone hands a Buffer over as a plain Uint8Array.
  const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
  const req = { url: job.url, method: job.method, headers: job.headers, body };
  const now = () => Date.now() + job.clockOffsetMs;
  const opts = { timeoutMs: job.timeoutMs, now, signal: shutdown.signal, resign: resigners.get(job.route) };
  void send(upstream, req, opts).then((result) => {
    lane.running--;
    settled(job.id, result);
    const next = lane.waiting.shift();
    if (next) start(lane, next);
  });
}

/** Hands back attempts that have not started: they end as aborted, never sent. */
function release(lane: Lane, message: string): void {
  const now = Date.now();
  for (const job of lane.waiting.splice(0)) {
    settled(job.id, {
      ok: false,
      statusCode: null,
      failure: null,
      aborted: true,
      error: message,
      startedAt: now,
      durationMs: 0,
      retryAfterMs: null,
    });
  }
}

function laneOf(route: string): Lane {
  const lane = lanes.get(route);
  if (!lane) throw new Error(`no upstream for route ${route}`);
  return lane;
}

port.on("message", (command: ThreadCommand) => {
  if (command.type === "send") {
    for (const job of command.jobs) {
      const lane = laneOf(job.route);
      if (lane.running < lane.limit && !shutdown.signal.aborted) start(lane, job);
      else lane.waiting.push(job);
    }
    if (shutdown.signal.aborted) for (const lane of lanes.values()) release(lane, "delivery stopped");
  } else if (command.type === "release") {
    release(laneOf(command.route), "handed back before it started");
  } else if (command.type === "abort") {
    for (const lane of lanes.values()) release(lane, command.message);
    shutdown.abort(new ShutdownError(command.message));
  } else {
    void Promise.all([...upstreams.values()].map((u) => u.close().catch(() => undefined))).then(() => {
      flush();
      // Nothing is left to keep the thread alive: it exits once the port is closed.
      port.close();
    });
  }
});
