import type { Database } from "better-sqlite3";
import { createAttemptQueries } from "./attempts.js";
import { createDedupQueries } from "./dedup.js";
import { createEventAdminQueries } from "./event-admin.js";
import { createEventQueries } from "./events.js";
import { createGateQueries } from "./gates.js";
import { createIdempotencyQueries } from "./idempotency.js";
import { createRetentionQueries } from "./retention.js";
import { createSpaceQueries } from "./space.js";
import { createStatQueries } from "./stats.js";

export type { AttemptRecord } from "./attempts.js";
export { type Checkpointer, createCheckpointer } from "./checkpoint.js";
export type {
  AdminChange,
  EventDetail,
  EventRef,
  EventSummary,
  HistoryEntry,
  SearchPlan,
} from "./event-admin.js";
export type { EventFilter, HeaderMatch, JsonMatch, TextMatch } from "./event-filter.js";
export type { ClaimCursor, EventUpdate, NewEvent } from "./events.js";
export type { StoredGate } from "./gates.js";
export { DatabaseLockedError, type OpenedDatabase, openDatabase } from "./open.js";
export { PAGE_ROWS, readInPages } from "./paged.js";
export { createQueueCounts, type QueueCounts, type QueueCountsTracker } from "./queue-counts.js";
export type { PrunedGroup } from "./retention.js";
export type { SpaceUsage } from "./space.js";
export { type StatKey, type StatQueries, type StatRow, splitWindow } from "./stats.js";
export {
  type Committed,
  createWriter,
  type GateChange,
  type QueueMove,
  type StatIncrement,
  type WriteContext,
  type WriteOp,
  type Writer,
} from "./writer.js";

/** All SQL lives below this module; callers get prepared, typed queries. */
export function createStore(db: Database) {
  const events = createEventQueries(db);
  return {
    db,
    events,
    attempts: createAttemptQueries(db),
    stats: createStatQueries(db),
    dedup: createDedupQueries(db),
    gates: createGateQueries(db),
    admin: createEventAdminQueries(db, events),
    retention: createRetentionQueries(db),
    idempotency: createIdempotencyQueries(db),
    space: createSpaceQueries(db),
  };
}

export type Store = ReturnType<typeof createStore>;
