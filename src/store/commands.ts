/**
 * The store's write commands: every state change hookbuffer makes is one of these, as data, and
 * each store (SQLite, PostgreSQL) executes a turn's commands as one transaction. What a command
 * changes besides its rows (counters, queue moves, the route's gate) is recorded by the store in
 * the same transaction and handed to subscribers once it commits (see Committed), so the code above
 * the store is the same for both (docs/architecture.md#store-commands).
 */
import type { Gate } from "../gate.js";
import type { AttemptResult, DueEvent, StatMetric } from "../model.js";
import type { AdminChange, EventRef } from "./event-admin.js";
import type { EventUpdate, NewEvent } from "./events.js";
import type { FinishedStatus, PrunedGroup } from "./retention.js";
import type { RunOptions } from "./writer.js";

/** Whether a pending row is leased right now (the SQLite store keeps leases in memory). */
export type LeaseCheck = (seq: number) => boolean;

/** One new webhook; the store stamps its id and arrival time with the clock at commit. */
export interface StoreWebhook {
  kind: "store-webhook";
  event: Omit<NewEvent, "id" | "receivedAt" | "nextAttemptAt">;
  /** Delay of the first attempt after arrival (retry schedule), ms. */
  firstDelayMs: number;
  /** The provider's delivery id and how long it stays a duplicate, or null without dedup. */
  dedup: { key: string; windowMs: number } | null;
}

export type StoredWebhook =
  | { kind: "accepted"; id: string; filtered?: true }
  | { kind: "duplicate"; id: string };

/** A counter increment an outcome carries, computed by the deliverer (pure). */
export interface OutcomeCount {
  at: number;
  metric: StatMetric;
  detail?: string;
}

/** One attempt's outcome: the event's new status, the attempt row, its counters and the gate. */
export interface RecordOutcome {
  kind: "record-outcome";
  route: string;
  event: DueEvent;
  result: AttemptResult;
  update: EventUpdate;
  counts: readonly OutcomeCount[];
  /**
   * The breaker's step. The store applies `next` to the route's gate as it stands in this
   * transaction (the committed value, or the shared row), so concurrent attempts, and replicas,
   * count together.
   */
  gate: { committed: Gate; next(before: Gate): Gate };
  /**
   * Runs as soon as the outcome has committed, before the caller resumes (which may wait for the
   * sync): the deliverer ends the lease there, so the views never count the event twice.
   */
  onCommit?(): void;
}

/** An operator pauses or resumes a route. */
export interface SetGate {
  kind: "set-gate";
  route: string;
  committed: Gate;
  after: Gate;
  at: number;
}

/** Finished -> pending and due now; pending -> due now; leased is a conflict. */
export interface Redeliver {
  kind: "redeliver";
  id: string;
  now: number;
  isLeased: LeaseCheck;
}

/** A chunk of a bulk redelivery, oldest first; leased ones are skipped. */
export interface RedeliverSeqs {
  kind: "redeliver-seqs";
  seqs: readonly number[];
  now: number;
  requestId: string | null;
  isLeased: LeaseCheck;
}

export interface Discard {
  kind: "discard";
  id: string;
  isLeased: LeaseCheck;
}

/** Remembers a bulk request's answer under its idempotency key, dropping keys older than `before`. */
export interface SaveRequest {
  kind: "save-request";
  key: string;
  at: number;
  fingerprint: string;
  response: string;
  before: number;
}

/** Deletes up to `limit` finished events of `status` that finished before `before`. */
export interface PruneFinished {
  kind: "prune-finished";
  status: FinishedStatus;
  before: number;
  limit: number;
}

export interface PruneDedup {
  kind: "prune-dedup";
  now: number;
  limit: number;
}

export interface PruneStats {
  kind: "prune-stats";
  before: number;
  limit: number;
}

/** Counter increments alone (refusals counted outside any other write). */
export interface CountOnly {
  kind: "count";
  counts: ReadonlyArray<{ at: number; route: string; metric: StatMetric; n: number }>;
}

export type StoreCommand =
  | StoreWebhook
  | RecordOutcome
  | SetGate
  | Redeliver
  | RedeliverSeqs
  | Discard
  | SaveRequest
  | PruneFinished
  | PruneDedup
  | PruneStats
  | CountOnly;

/** What each command resolves with, after its commit. */
export interface CommandResults {
  "store-webhook": StoredWebhook;
  "record-outcome": undefined;
  "set-gate": undefined;
  redeliver: AdminChange;
  "redeliver-seqs": { changed: EventRef[]; skipped: number };
  discard: AdminChange;
  "save-request": undefined;
  "prune-finished": PrunedGroup[];
  "prune-dedup": number;
  "prune-stats": number;
  count: undefined;
}

export type ResultOf<C extends StoreCommand> = CommandResults[C["kind"]];

/**
 * Executes commands: one turn's commands share one transaction (group commit), and each resolves
 * after the commit with its result.
 */
export interface CommandRunner {
  execute<C extends StoreCommand>(command: C, options?: RunOptions): Promise<ResultOf<C>>;
  /** Runs the queued batch now (lazy commands included). */
  flush(): void;
}

/** Whether a gate step changed what is saved (routes_state). */
export function gateMoved(before: Gate, after: Gate): boolean {
  return (
    after.state !== before.state ||
    after.probeAt !== before.probeAt ||
    after.consecutiveFailures !== before.consecutiveFailures
  );
}
