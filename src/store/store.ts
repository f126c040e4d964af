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
