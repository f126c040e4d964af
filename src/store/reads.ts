/**
 * What the admin API and /stats read, the same for both stores: asynchronous, since a shared
 * store answers over the network (docs/architecture.md#store-commands).
 */
import type { AttemptRecord } from "./attempts.js";
import type { EventDetail, EventRef, EventSummary, HistoryEntry, SearchPlan } from "./event-admin.js";
import type { EventFilter } from "./event-filter.js";
import type { RecordedRequest } from "./idempotency.js";
import type { StatKey, StatRow } from "./stats.js";

/** What a search did, as the response's `explain` tells it. */
export interface SearchExplain {
  plan: SearchPlan;
  /** Rows a scanning search looked at (sequence numbers covered), or null when it used an index. */
  rowsScanned: number | null;
  /** The scan budget ran out before the page was full: the cursor resumes the scan. */
  partial: boolean;
}

/** One page of a search, newest first. */
export interface SearchPage<R> {
  rows: R[];
  explain: SearchExplain;
  /** Where a partial scan stopped (exclusive cursor), or null. */
  resumeAt: number | null;
}

/**
 * Stored events as the operator sees them. An event leased for delivery reads as `delivering`
 * (status filter included), wherever its lease is held.
 */
export interface EventReads {
  /** Up to `limit` matches below `cursor` (a seq), newest first; `budget` caps rows a scan reads. */
  list(
    filter: EventFilter,
    cursor: number | null,
    limit: number,
    budget: number,
  ): Promise<SearchPage<EventSummary>>;
  /** Up to `limit` matches, newest first, with what a bulk change needs. */
  refs(filter: EventFilter, limit: number): Promise<EventRef[]>;
  count(filter: EventFilter): Promise<number>;
  /** One event with its body, or null. */
  get(id: string): Promise<EventDetail | null>;
  attempts(id: string): Promise<AttemptRecord[]>;
  history(id: string): Promise<HistoryEntry[]>;
  /** A bulk request's recorded answer under its idempotency key, or null. */
  request(key: string): Promise<RecordedRequest | null>;
}

/** Per-minute (or per-hour) counters of every route in [from, to), a page at a time. */
export interface StatPages {
  page(
    table: "minute" | "hour",
    from: number,
    to: number,
    after: StatKey | null,
    limit: number,
  ): StatRow[] | Promise<StatRow[]>;
}
