/**
 * The SQLite store's commands: each runs as a write op of the group-commit writer, inside the
 * turn's transaction, with its effects recorded in the writer's context.
 */
import type { Clock } from "../clock.js";
import type { CommandRunner, ResultOf, StoreCommand, StoredWebhook } from "./commands.js";
import { gateMoved } from "./commands.js";
import {
  attemptRow,
  discarded,
  keptResponse,
  outcomeRecorded,
  pruned,
  reopened,
  webhookStored,
} from "./effects.js";
import type { Store } from "./store.js";
import type { RunOptions, WriteContext, Writer } from "./writer.js";

export interface SqliteCommandsDeps {
  store: Store;
  writer: Writer;
  clock: Clock;
  /** A new event id for the clock reading `now`. */
  ids: (now: number) => string;
}

export function createSqliteCommands(deps: SqliteCommandsDeps): CommandRunner {
  const { store, writer, clock } = deps;

  function apply(ctx: WriteContext, c: StoreCommand): unknown {
    switch (c.kind) {
      case "store-webhook": {
        // The clock at commit: new events sort after every claim cursor (deliver/claims.ts).
        const now = clock.now();
        const id = deps.ids(now);
        const { event } = c;
        let stored: StoredWebhook;
        const original =
          c.dedup === null
            ? undefined
            : store.dedup.claim(event.route, c.dedup.key, id, now, now + c.dedup.windowMs);
        if (original !== undefined) stored = { kind: "duplicate", id: original };
        else {
          const filtered = event.filtered === true;
          // Field by field, one shape for every insert (a spread made a new one per call).
          store.events.insert({
            id,
            route: event.route,
            receivedAt: now,
            method: event.method,
            path: event.path,
            query: event.query,
            headers: event.headers,
            body: event.body,
            dedupKey: event.dedupKey,
            orderKey: event.orderKey,
            nextAttemptAt: filtered ? now : now + c.firstDelayMs,
            trace: event.trace ?? null,
            filtered,
          });
          stored = filtered ? { kind: "accepted", id, filtered: true } : { kind: "accepted", id };
        }
        webhookStored(ctx, event.route, now, event.body.length, stored);
        return stored;
      }
      case "record-outcome": {
        const body = keptResponse(c);
        const storedBytes = body?.length ?? 0;
        store.events.update(c.update, c.event.orderKey, c.route, storedBytes);
        store.attempts.insert(attemptRow(c, body));
        outcomeRecorded(ctx, c, storedBytes);
        // The gate moves in commit order, so concurrent attempts cannot overwrite each other's
        // transitions; a replayed batch starts over from the committed value.
        const before = ctx.gate(c.route, c.gate.committed);
        const after = c.gate.next(before);
        if (gateMoved(before, after)) ctx.setGate(c.route, before, after, clock.now());
        if (c.onCommit) ctx.afterCommit(c.onCommit);
        return undefined;
      }
      case "set-gate":
        ctx.setGate(c.route, ctx.gate(c.route, c.committed), c.after, c.at);
        return undefined;
      case "redeliver": {
        const change = store.admin.redeliver(c.id, c.now, c.isLeased);
        if (change.result === "ok") reopened(ctx, [change.ref]);
        return change;
      }
      case "redeliver-seqs": {
        const change = store.admin.redeliverSeqs(c.seqs, c.now, c.isLeased, c.requestId);
        reopened(ctx, change.changed);
        return change;
      }
      case "discard": {
        const change = store.admin.discard(c.id, c.isLeased);
        if (change.result === "ok") discarded(ctx, change.ref);
        return change;
      }
      case "save-request":
        store.idempotency.put(c.key, c.at, c.fingerprint, c.response, c.before);
        return undefined;
      case "prune-finished": {
        const groups = store.retention.pruneFinished(c.status, c.before, c.limit);
        pruned(ctx, groups);
        return groups;
      }
      case "prune-dedup":
        return store.dedup.prune(c.now, c.limit);
      case "prune-stats":
        return store.retention.pruneStats(c.before, c.limit);
      case "count":
        for (const n of c.counts) ctx.count(n.at, n.route, n.metric, "", n.n);
        return undefined;
    }
  }

  return {
    execute<C extends StoreCommand>(command: C, options?: RunOptions): Promise<ResultOf<C>> {
      return writer.run((ctx) => apply(ctx, command) as ResultOf<C>, options);
    },
    flush: () => writer.flush(),
  };
}
