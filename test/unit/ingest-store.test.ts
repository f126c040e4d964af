import { describe, expect } from "vitest";
import { createStore, type OpenedDatabase } from "../../src/store/index.js";
import { newEvent } from "../helpers/events.js";
import { type Start, test } from "../helpers/harness.js";

const NOW = 1_700_000_000_000;

/** A store over a real database of its own. */
function open(start: Start) {
  const opened = start.database();
  return { opened, store: createStore(opened.db) };
}

const dedupRow = (opened: OpenedDatabase, key: string) =>
  opened.db.prepare("SELECT event_id, expires_at FROM dedup WHERE route = 'r' AND key = ?").get(key);

describe("dedup claim (one statement on the ingest path)", () => {
  test("a new key is recorded for the event; inside its window it answers the first event's id", ({
    start,
  }) => {
    const { opened, store } = open(start);
    expect(store.dedup.claim("r", "k", "E1", NOW, NOW + 1_000)).toBeUndefined();
    expect(dedupRow(opened, "k")).toEqual({ event_id: "E1", expires_at: NOW + 1_000 });
    expect(store.dedup.claim("r", "k", "E2", NOW + 999, NOW + 1_999)).toBe("E1");
    // The duplicate changed nothing: the window still runs from the first event.
    expect(dedupRow(opened, "k")).toEqual({ event_id: "E1", expires_at: NOW + 1_000 });
  });

  test("keys are per route, and an expired key is taken over by the next event", ({ start }) => {
    const { opened, store } = open(start);
    expect(store.dedup.claim("r", "k", "E1", NOW, NOW + 1_000)).toBeUndefined();
    expect(store.dedup.claim("other", "k", "E2", NOW, NOW + 1_000)).toBeUndefined();
    expect(store.dedup.claim("r", "k", "E3", NOW + 1_000, NOW + 2_000)).toBeUndefined();
    expect(dedupRow(opened, "k")).toEqual({ event_id: "E3", expires_at: NOW + 2_000 });
    expect(store.dedup.find("r", "k", NOW + 1_500)).toBe("E3");
  });
});

describe("events insert: an ordered event is blocked behind its key", () => {
  test("an event queues behind an open event of its key, on its route only", ({ start }) => {
    const { opened, store } = open(start);
    let n = 0;
    const insert = (orderKey: string | null, route = "r") => {
      const seq = store.events.insert(
        newEvent({
          id: `E${++n}`,
          route,
          receivedAt: NOW,
          headers: [["Content-Type", "application/json"]],
          orderKey,
        }),
      );
      return opened.db.prepare("SELECT blocked FROM events WHERE seq = ?").pluck().get(seq);
    };
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
