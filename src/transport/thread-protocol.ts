/** The messages between thread-sender.ts (main thread) and send-thread.ts (the delivery thread). */
import type { VerifyConfig } from "../config/types.js";
import type { AttemptResult } from "../model.js";
import type { UpstreamRoute } from "./upstream.js";

/** workerData: the pools to open, one per route, and how each route re-signs (`verify.resign`). */
export interface ThreadInit {
  routes: Array<UpstreamRoute & { name: string; verify?: VerifyConfig | null }>;
  /**
   * One byte per job slot, set by the thread when it starts the job's request. Survives the
   * thread, so after a crash the main thread can tell attempts that may have reached the
   * upstream from ones that never left the queue.
   */
  started: SharedArrayBuffer;
}

/** One attempt to perform; `id` pairs it with its result. */
export interface Job {
  id: number;
  /** Its byte in `started`, or -1 when every slot is taken (then a crash counts it as started). */
  slot: number;
  route: string;
  url: string;
  method: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
  timeoutMs: number;
  /**
   * hookbuffer's clock minus this thread's Date.now() when the job was handed over, so the
   * attempt's times and a re-signed timestamp follow the injected clock (tests move it).
   */
  clockOffsetMs: number;
}

export type ThreadCommand =
  | { type: "send"; jobs: Job[] }
  /** Hand back the route's attempts that wait for a slot (breaker opened, paused, stopping). */
  | { type: "release"; route: string }
  /** Shutdown: end every attempt in flight as aborted. */
  | { type: "abort"; message: string }
  /** Close the pools and exit once they are closed. */
  | { type: "close" };

/** Results of settled attempts, posted back in batches. */
export type ResultBatch = Array<[id: number, result: AttemptResult]>;
