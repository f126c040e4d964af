import { statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  type Checkpointer,
  createCheckpointer,
  createStore,
  createWriter,
  type OpenedDatabase,
  openDatabase,
} from "../../src/store/index.js";
import { tempDir } from "../helpers/temp.js";

let dir: ReturnType<typeof tempDir>;
let opened: OpenedDatabase;
let dbPath: string;
let checkpointer: Checkpointer | undefined;

beforeEach(() => {
  dir = tempDir();
  dbPath = join(dir.dir, "c.db");
  opened = openDatabase({ path: dbPath, synchronous: "normal" });
});
afterEach(() => {
  checkpointer?.stop();
  checkpointer = undefined;
  opened.close();
  dir.remove();
});

const walSize = () => {
  try {
    return statSync(`${dbPath}-wal`).size;
  } catch {
    return 0;
  }
};
const body = Buffer.alloc(4096, 7);
let n = 0;
const insert = (store: ReturnType<typeof createStore>) =>
  store.events.insert({
    id: `e${n++}`,
    route: "default",
    receivedAt: 0,
    method: "POST",
    path: "/",
    query: "",
    headers: [],
    body,
    dedupKey: null,
    orderKey: null,
    nextAttemptAt: 0,
  });

/** Writes `totalBytes` of bodies as back-to-back batches (never idle), returning the largest WAL seen. */
async function sustainedWrites(
  writer: ReturnType<typeof createWriter>,
  store: ReturnType<typeof createStore>,
  totalBytes: number,
): Promise<number> {
  let maxWal = 0;
  for (let written = 0; written < totalBytes; written += 100 * body.length) {
    await Promise.all(Array.from({ length: 100 }, () => writer.run(() => insert(store))));
    maxWal = Math.max(maxWal, walSize());
  }
  return maxWal;
}

describe("WAL checkpointer", () => {
  test("keeps the WAL bounded under sustained writes that never leave the writer idle", async () => {
    const store = createStore(opened.db);
    checkpointer = createCheckpointer({
      db: opened.db,
      walPath: `${dbPath}-wal`,
      idleMs: 50,
      maxIntervalMs: 100,
      truncateAboveBytes: 8 * 1024 * 1024,
    });
    const cp = checkpointer;
    const writer = createWriter({ db: opened.db, onCommit: () => cp.onCommit() });
    const maxWal = await sustainedWrites(writer, store, 64 * 1024 * 1024);
    expect(maxWal).toBeLessThan(24 * 1024 * 1024);
  }, 60_000);

  test("without it the WAL grows with every byte written (the failure the checkpointer prevents)", async () => {
    const store = createStore(opened.db);
    const writer = createWriter({ db: opened.db });
    const maxWal = await sustainedWrites(writer, store, 32 * 1024 * 1024);
    expect(maxWal).toBeGreaterThan(32 * 1024 * 1024);
  }, 60_000);

  test("checkpoints once the writer is idle, so the next write restarts the WAL from its start", async () => {
    const store = createStore(opened.db);
    checkpointer = createCheckpointer({ db: opened.db, walPath: `${dbPath}-wal`, idleMs: 30 });
    const cp = checkpointer;
    const writer = createWriter({ db: opened.db, onCommit: () => cp.onCommit() });
    await Promise.all(Array.from({ length: 200 }, () => writer.run(() => insert(store))));
    await new Promise((r) => setTimeout(r, 150));
    await writer.run(() => insert(store));
    // Frames now in the WAL: only the last small write's if the idle checkpoint ran.
    const [row] = opened.db.pragma("wal_checkpoint(PASSIVE)") as Array<{ log: number }>;
    expect(row?.log).toBeLessThan(20);
  });

  test("with the worker, a steadily written WAL rewinds at a quarter of the cap, without a main-thread TRUNCATE", async () => {
    const store = createStore(opened.db);
    checkpointer = createCheckpointer({ db: opened.db, walPath: `${dbPath}-wal`, backgroundPath: dbPath });
    const cp = checkpointer;
    const writer = createWriter({ db: opened.db, onCommit: () => cp.onCommit() });
    // Some 8 MiB of WAL a second for 7 s, in batches as ingest makes them, never idle for long.
    let maxWal = 0;
    const started = performance.now();
    while (performance.now() - started < 7_000) {
      await Promise.all(Array.from({ length: 30 }, () => writer.run(() => insert(store))));
      maxWal = Math.max(maxWal, walSize());
      await new Promise((r) => setTimeout(r, 25));
    }
    // The file's high-water mark stays under half the 64 MiB cap, where rewinding used to start:
    // the WAL was rewound (written again from its start) long before a TRUNCATE was needed.
    expect(maxWal).toBeGreaterThan(0);
    expect(maxWal).toBeLessThan(32 * 1024 * 1024);
  }, 30_000);

  test("truncates the WAL file once it passes the cap", async () => {
    const store = createStore(opened.db);
    checkpointer = createCheckpointer({
      db: opened.db,
      walPath: `${dbPath}-wal`,
      idleMs: 30,
      truncateAboveBytes: 1024 * 1024,
    });
    const cp = checkpointer;
    const writer = createWriter({ db: opened.db, maxBatch: 5000, onCommit: () => cp.onCommit() });
    await Promise.all(Array.from({ length: 2000 }, () => writer.run(() => insert(store))));
    expect(walSize()).toBeGreaterThan(4 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 150));
    expect(walSize()).toBe(0);
  });
});
