import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createStore, type OpenedDatabase, openDatabase } from "../../src/store/index.js";
import { tempDir } from "../helpers/temp.js";

const NOW = 1_700_000_000_000;
let dir: ReturnType<typeof tempDir>;
let opened: OpenedDatabase;
let store: ReturnType<typeof createStore>;

beforeEach(() => {
  dir = tempDir();
  opened = openDatabase({ path: join(dir.dir, "ingest.db"), synchronous: "normal" });
  store = createStore(opened.db);
});
afterEach(() => {
  opened.close();
  dir.remove();
});

const dedupRow = (key: string) =>
  opened.db.prepare("SELECT event_id, expires_at FROM dedup WHERE route = 'r' AND key = ?").get(key);

describe("dedup claim (one statement on the ingest path)", () => {
  test("a new key is recorded for the event; inside its window it answers the first event's id", () => {
    expect(store.dedup.claim("r", "k", "E1", NOW, NOW + 1_000)).toBeUndefined();
    expect(dedupRow("k")).toEqual({ event_id: "E1", expires_at: NOW + 1_000 });
    expect(store.dedup.claim("r", "k", "E2", NOW + 999, NOW + 1_999)).toBe("E1");
    // The duplicate changed nothing: the window still runs from the first event.
    expect(dedupRow("k")).toEqual({ event_id: "E1", expires_at: NOW + 1_000 });
  });

  test("keys are per route, and an expired key is taken over by the next event", () => {
    expect(store.dedup.claim("r", "k", "E1", NOW, NOW + 1_000)).toBeUndefined();
    expect(store.dedup.claim("other", "k", "E2", NOW, NOW + 1_000)).toBeUndefined();
    expect(store.dedup.claim("r", "k", "E3", NOW + 1_000, NOW + 2_000)).toBeUndefined();
    expect(dedupRow("k")).toEqual({ event_id: "E3", expires_at: NOW + 2_000 });
    expect(store.dedup.find("r", "k", NOW + 1_500)).toBe("E3");
  });
});

describe("events insert: an ordered event is blocked behind its key", () => {
  let n = 0;
  const insert = (orderKey: string | null, route = "r") => {
    const seq = store.events.insert({
      id: `E${++n}`,
      route,
      receivedAt: NOW,
      method: "POST",
      path: "/",
      query: "",
      headers: [["Content-Type", "application/json"]],
      body: Buffer.from("{}"),
      dedupKey: null,
      orderKey,
      nextAttemptAt: NOW,
    });
    return opened.db.prepare("SELECT blocked FROM events WHERE seq = ?").pluck().get(seq);
  };

  test("an event queues behind an open event of its key, on its route only", () => {
    expect(insert("a")).toBe(0);
    expect(insert("a")).toBe(1);
    expect(insert("b")).toBe(0);
    expect(insert("a", "other")).toBe(0);
    expect(insert(null)).toBe(0);
    expect(insert(null)).toBe(0);
    // Once the key's open events are finished, the next one is not blocked.
    opened.db.prepare("UPDATE events SET status = 'delivered' WHERE route = 'r' AND order_key = 'a'").run();
    expect(insert("a")).toBe(0);
  });
});
