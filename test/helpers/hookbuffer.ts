import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { Clock } from "../../src/clock.js";
import { type Config, loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/log.js";
import { type Running, start } from "../../src/main.js";
import type { StatsReport } from "../../src/stats/report.js";
import { tempDir } from "./temp.js";
import { dropSchemasIn, testStorage } from "./test-store.js";

/** The compiled delivery thread (test/global-setup.ts keeps dist/ current). */
export const SEND_THREAD = new URL("../../dist/transport/send-thread.js", import.meta.url);

export interface TestHookbuffer {
  running: Running;
  config: Config;
  /** e.g. http://127.0.0.1:PORT */
  ingestUrl: string;
  adminUrl: string;
  dir: string;
  /** The SQLite file; under PostgreSQL (test/helpers/test-store.ts) the path its schema stands for. */
  dbPath: string;
  /** The PostgreSQL schema, or null under SQLite. */
  schema: string | null;
  /** Every log line written so far. */
  logs: string[];
  stop(): Promise<void>;
}

export interface HookbufferOptions {
  yaml: string;
  env?: Record<string, string>;
  /** Keep the database here (not removed by stop()), e.g. to restart on the same file. */
  dir?: string;
  /** Under PostgreSQL: this schema (the caller's, shared between instances) instead of the path's own. */
  schema?: string;
  clock?: Clock;
}

/**
 * Starts hookbuffer in this process on ephemeral ports with a fresh database, from YAML text
 * (listen/admin ports and the db path are filled in unless the YAML sets them). Under PostgreSQL
 * (test/helpers/test-store.ts) the db path stands for a schema: a restart with the same `dir` finds
 * the same data, and stop() drops the schema with the directory it removes.
 */
export async function startHookbuffer(options: HookbufferOptions): Promise<TestHookbuffer> {
  const { dir, remove } = options.dir ? { dir: options.dir, remove: () => undefined } : tempDir();
  const dbPath = join(dir, "hookbuffer.db");
  const file = join(dir, "config.yaml");
  writeFileSync(file, options.yaml);
  const storage = await testStorage(dbPath, options.schema);
  const config = loadConfig({
    env: { ...options.env, ...storage.env },
    flags: { config: file, port: "0", adminPort: "0", host: "127.0.0.1", ...storage.flags },
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
    schema: storage.schema,
    logs,
    async stop() {
      await running.stop(2_000);
      if (!options.dir) {
        remove();
        await dropSchemasIn(dir);
      }
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
