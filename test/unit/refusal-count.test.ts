import { describe, expect } from "vitest";
import { createIdFactory } from "../../src/ids.js";
import { createRefusalCount } from "../../src/ingest/refusal-count.js";
import { readCounters } from "../../src/stats/report.js";
import { createStore, createWriter, type Writer } from "../../src/store/index.js";
import { createSqliteCommands } from "../../src/store/sqlite-commands.js";
import { test } from "../helpers/harness.js";

const settle = () => new Promise((r) => setTimeout(r, 20));

describe("refusal counts", () => {
  test("a count the database refused is carried into the next refusal's write, not lost", async ({
    start,
  }) => {
    const opened = start.database();
    const real = createWriter({ db: opened.db });
    let refuse = true;
    // The real writer, refusing ops while `refuse` holds, as a full disk would.
    const writer: Writer = {
      ...real,
      run: (op, options) =>
        refuse
          ? Promise.reject(Object.assign(new Error("full"), { code: "SQLITE_FULL" }))
          : real.run(op, options),
      subscribe: (fn) => real.subscribe(fn),
    };
    let now = 60_000;
    const clock = { now: () => now };
    const count = createRefusalCount({
      commands: createSqliteCommands({
        store: createStore(opened.db),
        writer,
        clock,
        ids: createIdFactory(),
      }),
      clock,
    });
    count("r", "rejected_storage");
    count("r", "rejected_storage");
    count("r", "rejected");
    await settle();
    refuse = false;
    now = 120_000;
    count("r", "rejected_storage");
    await settle();
    const read = await readCounters(createStore(opened.db).stats, {
      from: 0,
      to: 600_000,
      route: null,
      bucketMs: 60_000,
    });
    expect(read.totals.sort((a, b) => a.metric.localeCompare(b.metric))).toEqual([
      { metric: "rejected", detail: "", count: 1 },
      { metric: "rejected_storage", detail: "", count: 3 },
    ]);
    // Carried counts keep the minute of their latest refusal.
    expect(read.series).toContainEqual({ bucket: 60_000, metric: "rejected_storage", count: 2 });
  });
});
