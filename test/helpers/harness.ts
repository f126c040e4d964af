/**
 * The `test` the integration tests (and the unit tests that need a real database) use: real servers,
 * files and databases started on demand through the test context and stopped after the test,
 * whether it passed or not.
 *
 *   test("...", async ({ start, up }) => {
 *     const hb = await start.hookbuffer({ yaml: `upstream: ${up.url}\n` });
 *   });
 *
 * A fixture is only set up for a test that names it, so a test that needs no alert receiver
 * starts none.
 */
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { test as base } from "vitest";
import type { Synchronous } from "../../src/config/types.js";
import { type OpenedDatabase, openDatabase } from "../../src/store/index.js";
import { type HookbufferOptions, startHookbuffer, type TestHookbuffer } from "./hookbuffer.js";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.js";
import { type Recorder, startRecorder } from "./recorder.js";
import { type SdkBot, type SdkBotOptions, startSdkBot } from "./sdk-bot.js";
import { type ServerScope, serverScope } from "./servers.js";
import { tempDir } from "./temp.js";
import { dropSchemasIn } from "./test-store.js";

/** Anything with a close() the harness can call after the test. */
export interface Closable {
  close(): Promise<void> | void;
}

/** Starts what a test needs; everything is stopped after the test, the last started first. */
export interface Start {
  /** hookbuffer in this process (see startHookbuffer); stopping it twice is harmless. */
  hookbuffer(options: HookbufferOptions): Promise<TestHookbuffer>;
  /** A recording upstream (see startRecorder). */
  recorder(port?: number): Promise<Recorder>;
  /** An OTLP/HTTP trace receiver. */
  otlp(): Promise<OtlpReceiver>;
  /** A bot that checks requests with a provider's SDK. */
  sdkBot(check: (req: IncomingMessage, body: Buffer) => unknown, options?: SdkBotOptions): Promise<SdkBot>;
  /** A temp directory, removed after everything started after it has stopped (with the PostgreSQL schemas of its paths). */
  dir(): string;
  /** A real SQLite database file (hookbuffer's schema) in a temp directory, closed after the test. */
  database(synchronous?: Synchronous): OpenedDatabase;
  /** Closes `thing` after the test, newest first with the rest. */
  track<T extends Closable>(thing: T): T;
  /** Runs `fn` after the test, newest first with the rest. */
  cleanup(fn: () => Promise<void> | void): void;
}

/** A Start whose stopAll() undoes everything, newest first; a failing stop does not skip the rest. */
export function createStart(): Start & { stopAll(): Promise<void> } {
  const stops: Array<() => Promise<void> | void> = [];
  const once = (fn: () => Promise<void> | void) => {
    let done: Promise<void> | undefined;
    return () => {
      done ??= Promise.resolve().then(fn);
      return done;
    };
  };
  const track = <T extends Closable>(thing: T): T => {
    stops.push(once(() => thing.close()));
    return thing;
  };
  const dir = (): string => {
    const { dir, remove } = tempDir();
    // Under PostgreSQL the schemas standing for files in it go with it (test/helpers/test-store.ts).
    stops.push(() => {
      remove();
      return dropSchemasIn(dir);
    });
    return dir;
  };
  return {
    async hookbuffer(options) {
      const hb = await startHookbuffer(options);
      const stop = once(hb.stop);
      stops.push(stop);
      return Object.assign(hb, { stop });
    },
    recorder: async (port) => track(await startRecorder(port)),
    otlp: async () => track(await startOtlpReceiver()),
    sdkBot: async (check, options) => track(await startSdkBot(check, options)),
    dir,
    database: (synchronous = "normal") =>
      track(openDatabase({ path: join(dir(), "hookbuffer.db"), synchronous })),
    track,
    cleanup(fn) {
      stops.push(once(fn));
    },
    async stopAll() {
      const errors: unknown[] = [];
      for (const stop of stops.splice(0).reverse()) {
        try {
          await stop();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length > 0) throw errors[0];
    },
  };
}

export const test = base
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
  .extend("start", async ({}, { onCleanup }): Promise<Start> => {
    const start = createStart();
    onCleanup(() => start.stopAll());
    return start;
  })
  /** The recording upstream most tests deliver to. */
  .extend("up", async ({ start }) => start.recorder())
  /** A second recorder, as the alert receiver. */
  .extend("alerts", async ({ start }) => start.recorder())
  /** Misbehaving servers and upstream pools for the transport tests (see servers.ts). */
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
  .extend("servers", async ({}, { onCleanup }): Promise<ServerScope> => {
    const servers = serverScope();
    onCleanup(() => servers.closeAll());
    return servers;
  });
