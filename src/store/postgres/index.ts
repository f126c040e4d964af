/**
 * The PostgreSQL store's pieces (docs/replicas.md): every SQL statement of that store lives
 * in this folder. Nothing here is loaded in SQLite mode: src/store/index.ts does not import it.
 */
export { createPgAttemptQueries, type PgAttemptQueries } from "./attempts.js";
export { createPgClaimQueries, type PgClaimQueries, type PgOutcome } from "./claims.js";
export { binder, LEASED, type PgFilterSql, pgFilterSql, SHOWN_STATUS } from "./event-filter.js";
export { createPgEventReads } from "./event-reads.js";
export {
  createPgEventQueries,
  eventsChannel,
  type PgEventQueries,
  type PgNewEvent,
  type StoreResult,
} from "./events.js";
export {
  createPgGateQueries,
  type PgGateQueries,
  type SharedBreakerPolicy,
  type SharedGate,
} from "./gates.js";
export { type EventsListener, type ListenOptions, listenForEvents } from "./listen.js";
export { migratePostgres, SCHEMA_VERSION } from "./migrations.js";
export {
  createPostgresClient,
  createPostgresPool,
  inTransaction,
  type PostgresTarget,
  type Queryable,
} from "./pool.js";
export { createPgRetentionQueries, type PgPrunedGroup, type PgRetentionQueries } from "./retention.js";
export { createPgStatQueries, type PgStatQueries, type StatIncrement } from "./stats.js";
