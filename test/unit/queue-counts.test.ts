import { describe, expect, test } from "vitest";
import { createQueueCounts } from "../../src/store/queue-counts.js";
import type { Committed } from "../../src/store/writer.js";

/** Queue counts fed by hand-made commits, as the writer would feed them. */
function counts(initial: Parameters<typeof createQueueCounts>[0]["initial"] = []) {
  let feed: (c: Committed) => void = () => undefined;
  const writer = {
    subscribe(fn: (c: Committed) => void) {
      feed = fn;
    },
  };
  const q = createQueueCounts({ initial, writer });
  const commit = (moves: Committed["moves"]) => feed({ counts: [], moves, gates: [] });
  return { q, commit };
}

describe("queue counts", () => {
  test("start from the stored counts; open bytes are those of pending events only", () => {
    const { q } = counts([
      { route: "a", status: "pending", n: 2, bytes: 20 },
      { route: "a", status: "delivered", n: 5, bytes: 500 },
      { route: "b", status: "pending", n: 1, bytes: 7 },
    ]);
    expect(q.get("a")).toMatchObject({ pending: 2, delivering: 0, delivered: 5, dead: 0, openBytes: 20 });
    expect(q.get(null)).toMatchObject({ pending: 3, delivered: 5, openBytes: 27 });
    expect(q.open()).toEqual({ events: 3, bytes: 27 });
  });

  test("follow committed moves: stored, finished with a kept response, retried, reopened, removed", () => {
    const { q, commit } = counts();
    commit([
      { route: "a", from: null, to: "pending", bytes: 10, n: 1 },
      { route: "a", from: null, to: "pending", bytes: 30, n: 1 },
    ]);
    expect(q.get("a")).toMatchObject({ pending: 2, openBytes: 40 });
    // A retry keeps its event pending and holds the stored response's bytes too.
    commit([
      { route: "a", from: "pending", to: "pending", bytes: 10, n: 1 },
      { route: "a", from: null, to: "pending", bytes: 5, n: 0 },
    ]);
    expect(q.get("a")).toMatchObject({ pending: 2, openBytes: 45 });
    commit([{ route: "a", from: "pending", to: "dead", bytes: 15, n: 1 }]);
    expect(q.get("a")).toMatchObject({ pending: 1, dead: 1, openBytes: 30 });
    commit([{ route: "a", from: "dead", to: "pending", bytes: 10, n: 1 }]); // redelivered by hand
    expect(q.get("a")).toMatchObject({ pending: 2, dead: 0, openBytes: 40 });
    commit([{ route: "a", from: "pending", to: null, bytes: 40, n: 2 }]); // discarded
    expect(q.get("a")).toMatchObject({ pending: 0, openBytes: 0 });
  });

  test("leased events show as delivering, out of pending, in a copy", () => {
    const { q } = counts([{ route: "a", status: "pending", n: 3, bytes: 30 }]);
    const view = q.get("a", 2);
    expect(view).toMatchObject({ pending: 1, delivering: 2, openBytes: 30 });
    view.pending = 99;
    expect(q.get("a")).toMatchObject({ pending: 3, delivering: 0 });
    expect(q.open()).toEqual({ events: 3, bytes: 30 });
  });
});
