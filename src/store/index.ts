export type { AttemptRecord } from "./attempts.js";
export { type Checkpointer, createCheckpointer } from "./checkpoint.js";
export type {
  CommandResults,
  CommandRunner,
  LeaseCheck,
  OutcomeCount,
  RecordOutcome,
  ResultOf,
  StoreCommand,
  StoredWebhook,
} from "./commands.js";
export { gateMoved } from "./commands.js";
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
export type { RecordedRequest } from "./idempotency.js";
export { DatabaseLockedError, type OpenedDatabase, openDatabase } from "./open.js";
export { PAGE_ROWS, readInPages } from "./paged.js";
export { createQueueCounts, type QueueCounts, type QueueCountsTracker } from "./queue-counts.js";
export type { EventReads, SearchExplain, SearchPage, StatPages } from "./reads.js";
export type { PrunedGroup } from "./retention.js";
export type { SpaceUsage } from "./space.js";
export { createSqliteCommands } from "./sqlite-commands.js";
export { type StatKey, type StatQueries, type StatRow, splitWindow } from "./stats.js";
export { createStore, type Store } from "./store.js";
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
