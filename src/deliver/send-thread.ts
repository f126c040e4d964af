/**
 * The delivery thread: owns one upstream pool per route and performs the attempts the main thread
 * posts, in batches both ways. Keeps HTTP parsing, socket writes and their garbage off the thread
 * that acknowledges webhooks and writes SQLite. Started by thread-sender.ts only.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ShutdownError } from "../classify/errors.js";
import type { AttemptResult } from "../model.js";
import { send } from "./send.js";
import type { ResultBatch, ThreadCommand, ThreadInit } from "./thread-protocol.js";
import { createUpstream } from "./upstream.js";

const port = parentPort;
if (!port) throw new Error("send-thread.js runs only as a worker thread");
const init = workerData as ThreadInit;
const upstreams = new Map(init.routes.map((r) => [r.name, createUpstream(r)]));
const shutdown = new AbortController();
let results: ResultBatch = [];
let flushScheduled = false;

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

port.on("message", (command: ThreadCommand) => {
  if (command.type === "send") {
    for (const job of command.jobs) {
      const upstream = upstreams.get(job.route);
      if (!upstream) throw new Error(`no upstream for route ${job.route}`);
      // Structured clone hands a Buffer over as a plain Uint8Array.
      const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
      const req = { url: job.url, method: job.method, headers: job.headers, body };
      void send(upstream, req, { timeoutMs: job.timeoutMs, now: Date.now, signal: shutdown.signal }).then(
        (result) => settled(job.id, result),
      );
    }
  } else if (command.type === "abort") {
    shutdown.abort(new ShutdownError(command.message));
  } else {
    void Promise.all([...upstreams.values()].map((u) => u.close().catch(() => undefined))).then(() => {
      flush();
      // Nothing is left to keep the thread alive: it exits once the port is closed.
      port.close();
    });
  }
});
