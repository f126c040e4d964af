/**
 * Search over stored events, newest first. A filter SQLite can answer through an index runs as one
 * query. One it would answer by reading rows (a body or header match without an index, a route
 * alone) runs in windows of sequence numbers, yielding to the event loop between windows so ingest
 * commits keep interleaving, and stops after a budget of rows with a cursor that resumes there.
 */
import type { EventFilter, SearchPage, Store } from "../store/index.js";

/** Each window aims at this much query time, so no single read holds the thread for long. */
const WINDOW_TARGET_MS = 4;
const WINDOW_MIN = 256;
const WINDOW_MAX = 200_000;
const WINDOW_FIRST = 2_000;

export type { SearchExplain } from "../store/index.js";

type Read<R> = (before: number | null, limit: number, floor: number | null) => R[];

/** The next window's size, scaled so its query takes about WINDOW_TARGET_MS. */
function nextWindow(window: number, ms: number): number {
  const scaled = (window * WINDOW_TARGET_MS) / Math.max(ms, 0.05);
  return Math.round(Math.min(WINDOW_MAX, Math.max(WINDOW_MIN, scaled)));
}

const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs searches against the store; `budget` is the most rows one call may scan. */
export function createEventSearch(store: Store) {
  /**
   * Up to `want` matches below `cursor`, newest first. `read` runs one bounded query; `budget`
   * caps the rows a scanning plan may look at (Infinity for bulk actions, which still yield).
   */
  async function collect<R extends { seq: number }>(
    filter: EventFilter,
    cursor: number | null,
    want: number,
    budget: number,
    read: Read<R>,
  ): Promise<SearchPage<R>> {
    const plan = store.admin.plan(filter, cursor);
    if (!plan.scan) {
      return {
        rows: read(cursor, want, null),
        explain: { plan, rowsScanned: null, partial: false },
        resumeAt: null,
      };
    }
    const bottom = store.admin.minSeq();
    let before = cursor ?? store.admin.maxSeq() + 1;
    let window = WINDOW_FIRST;
    let scanned = 0;
    const rows: R[] = [];
    while (rows.length < want && before > bottom && scanned < budget) {
      const floor = Math.max(bottom, before - Math.min(window, budget - scanned));
      const t0 = performance.now();
      const got = read(before, want - rows.length, floor);
      const ms = performance.now() - t0;
      rows.push(...got);
      const last = got[got.length - 1];
      if (rows.length >= want && last) {
        scanned += before - last.seq;
        before = last.seq;
        break;
      }
      scanned += before - floor;
      before = floor;
      window = nextWindow(window, ms);
      if (before > bottom) await breathe();
    }
    const partial = rows.length < want && before > bottom;
    return { rows, explain: { plan, rowsScanned: scanned, partial }, resumeAt: partial ? before : null };
  }

  return {
    collect,
    /** Counts every match; a scanning count runs in windows too, yielding between them. */
    async count(filter: EventFilter): Promise<number> {
      if (!store.admin.plan(filter, null).scan) return store.admin.count(filter, null, null);
      const bottom = store.admin.minSeq();
      let before = store.admin.maxSeq() + 1;
      let window = WINDOW_FIRST;
      let n = 0;
      while (before > bottom) {
        const floor = Math.max(bottom, before - window);
        const t0 = performance.now();
        n += store.admin.count(filter, before, floor);
        window = nextWindow(window, performance.now() - t0);
        before = floor;
        if (before > bottom) await breathe();
      }
      return n;
    },
  };
}

export type EventSearch = ReturnType<typeof createEventSearch>;
