import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { describe, expect } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { createClaims } from "../../src/deliver/claims.js";
import { createDeliverer } from "../../src/deliver/deliverer.js";
import { createIdFactory } from "../../src/ids.js";
import {
  type Committed,
  createQueueCounts,
  createStore,
  createWriter,
  type OpenedDatabase,
  openDatabase,
  type Writer,
} from "../../src/store/index.js";
import { createSqliteCommands } from "../../src/store/sqlite-commands.js";
import { createInlineSender } from "../../src/transport/sender.js";
import { createUpstream } from "../../src/transport/upstream.js";
import { newEvent } from "../helpers/events.js";
import { type Start, test } from "../helpers/harness.js";
import { waitFor } from "../helpers/hookbuffer.js";
import type { Recorder } from "../helpers/recorder.js";

/**
 * A real group-commit writer where every op the deliverer queues shares its batch with an op that
 * fails, so each of those batches rolls back and is replayed op by op.
 */
function poisoned(writer: Writer): Writer {
  return {
    run(op, options) {
      const result = writer.run(op, options);
      writer
        .run(() => {
          throw new Error("a failing op in the same batch");
        })
        .catch(() => undefined);
      return result;
    },
    flush: () => writer.flush(),
    drain: () => writer.drain(),
    subscribe: (fn) => writer.subscribe(fn),
    get queued() {
      return writer.queued;
    },
  };
}

async function setUp(start: Start, up: Recorder) {
  const dir = start.dir();
  const file = join(dir, "config.yaml");
  writeFileSync(
    file,
    `upstream: ${up.url}\ndelivery: {retry: {schedule: [0s, 1h]}, breaker: {failures: 3}}\n`,
  );
  const config = loadConfig({ env: {}, flags: { config: file, db: join(dir, "hb.db") } });
  const route = config.routes[0]!;
  const opened: OpenedDatabase = openDatabase({ path: config.storage.path, synchronous: "normal" });
  const store = createStore(opened.db);
  const writer = createWriter({ db: opened.db });
  const upstream = createUpstream(route);
  const clock = { now: Date.now };
  const deliverer = createDeliverer({
    commands: createSqliteCommands({ store, writer: poisoned(writer), clock, ids: createIdFactory() }),
    subscribe: (fn) => writer.subscribe(fn),
    claims: createClaims({ store, clock }),
    gates: store.gates.all(),
    countDue: () => 0,
    routes: config.routes,
    sender: createInlineSender(new Map([[route.name, upstream]]), Date.now),
    clock: { now: Date.now },
    log: pino({ level: "silent" }),
  });
  start.cleanup(async () => {
    await deliverer.stop(1_000);
    await upstream.close();
    opened.close();
  });
  const insert = (id: string) =>
    writer.run(() =>
      store.events.insert(newEvent({ id, route: route.name, receivedAt: Date.now(), path: "/hook" })),
    );
  return { store, writer, deliverer, insert };
}

describe("breaker state through a replayed write batch", () => {
  test("a failed attempt whose outcome batch is replayed op by op counts once toward the breaker", async ({
    start,
    up,
  }) => {
    up.reply(() => ({ status: 500 }));
    const { store, deliverer, insert } = await setUp(start, up);
    await insert("e1");
    deliverer.start();
    await waitFor(() => store.attempts.forEvent("e1").length === 1, 5_000, "the attempt recorded");
    expect(deliverer.gate("default")?.consecutiveFailures).toBe(1);
    expect(store.gates.all()[0]?.consecutiveFailures).toBe(1);

    // Two more failures open the breaker at exactly 3, not earlier.
    await insert("e2");
    deliverer.wakeForNew();
    await waitFor(() => store.attempts.forEvent("e2").length === 1, 5_000, "the second attempt");
    expect(deliverer.gate("default")).toMatchObject({ state: "active", consecutiveFailures: 2 });
    await insert("e3");
    deliverer.wakeForNew();
    await waitFor(() => store.attempts.forEvent("e3").length === 1, 5_000, "the third attempt");
    expect(deliverer.gate("default")).toMatchObject({ state: "open", consecutiveFailures: 3 });
    expect(up.requests).toHaveLength(3);
  });

  test("every record of a replayed outcome batch is applied once: failures counted, queue moved, gate moved", async ({
    start,
    up,
  }) => {
    up.reply(() => ({ status: 500 }));
    const { store, writer, deliverer, insert } = await setUp(start, up);
    await insert("e1");
    await insert("e2");
    const queue = createQueueCounts({ initial: store.events.countByStatus(), writer });
    const committed: Committed[] = [];
    writer.subscribe((c) => committed.push(c));
    deliverer.start();
    await waitFor(
      () => store.attempts.forEvent("e1").length + store.attempts.forEvent("e2").length === 2,
      5_000,
      "both attempts recorded",
    );
    await waitFor(() => deliverer.leased(null) === 0, 5_000, "the leases settled");
    const failures = committed.flatMap((c) => c.counts).filter((c) => c.metric === "error_status_code");
    expect(failures.reduce((sum, c) => sum + c.n, 0)).toBe(2);
    expect(committed.flatMap((c) => c.gates).map((g) => g.after.consecutiveFailures)).toEqual([1, 2]);
    // Both retried (still pending), each counted once: no move applied twice.
    expect(queue.get("default")).toMatchObject({ pending: 2, delivering: 0, dead: 0, openBytes: 4 });
  });
});
