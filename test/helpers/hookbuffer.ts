import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { Clock } from "../../src/clock.js";
import { type Config, loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/log.js";
import { type Running, start } from "../../src/main.js";
import type { StatsReport } from "../../src/stats/report.js";
import { tempDir } from "./temp.js";

/** The compiled delivery thread (test/global-setup.ts keeps dist/ current). */
export const SEND_THREAD = new URL("../../dist/transport/send-thread.js", import.meta.url);

export interface TestHookbuffer {
  running: Running;
  config: Config;
  /** e.g. http://127.0.0.1:PORT */
  ingestUrl: string;
  adminUrl: string;
  dir: string;
  dbPath: string;
  /** Every log line written so far. */
  logs: string[];
  stop(): Promise<void>;
}

export interface HookbufferOptions {
  yaml: string;
  env?: Record<string, string>;
  /** Keep the database here (not removed by stop()), e.g. to restart on the same file. */
  dir?: string;
  clock?: Clock;
}

/**
 * Starts hookbuffer in this process on ephemeral ports with a fresh database, from YAML text
 * (listen/admin ports and the db path are filled in unless the YAML sets them).
 */
export async function startHookbuffer(options: HookbufferOptions): Promise<TestHookbuffer> {
  const { dir, remove } = options.dir ? { dir: options.dir, remove: () => undefined } : tempDir();
  const dbPath = join(dir, "hookbuffer.db");
  const file = join(dir, "config.yaml");
  writeFileSync(file, options.yaml);
  const config = loadConfig({
    env: { ...options.env },
    flags: { config: file, port: "0", adminPort: "0", host: "127.0.0.1", db: dbPath },
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  const log = createLogger({ level: "debug", destination: sink });
  const running = await start({
    config,
    log,
    sendThreadScript: SEND_THREAD,
    ...(options.clock && { clock: options.clock }),
  });
  return {
    running,
    config,
    ingestUrl: `http://127.0.0.1:${running.ingest.port}`,
    adminUrl: `http://127.0.0.1:${running.admin.port}`,
    dir,
    dbPath,
    logs,
    async stop() {
      await running.stop(2_000);
      remove();
    },
  };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T,
  timeoutMs = 10_000,
  what = "condition",
): Promise<Exclude<Awaited<T>, undefined | null | false | 0 | "">> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<Awaited<T>, undefined | null | false | 0 | "">;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** GET a JSON document (e.g. /stats), typed by the caller. */
export async function getJson<T = StatsReport>(url: string, token?: string): Promise<T> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return (await res.json()) as T;
}
