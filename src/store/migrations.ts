import type { Database } from "better-sqlite3";

/**
 * Ordered schema migrations; `PRAGMA user_version` records how many have run. Append only: never
 * edit a migration that has shipped.
 */
const migrations: string[] = [
  // 1: events, attempts, per-minute stats, dedup keys, route (breaker) state.
  `
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    route TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    body_size INTEGER NOT NULL,
    dedup_key TEXT,
    order_key TEXT,
    blocked INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- Redelivery restarts the retry schedule: attempts before it, and when it restarted.
    schedule_base INTEGER NOT NULL DEFAULT 0,
    schedule_start INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_reason TEXT,
    last_detail TEXT,
    last_status INTEGER,
    delivered_at INTEGER,
    finished_at INTEGER
  );
  -- Claiming: only claimable rows are in this index, so its size is the due backlog, not history.
  CREATE INDEX events_due ON events (route, next_attempt_at, seq) WHERE status = 'pending' AND blocked = 0;
  -- Ordering: the open events of one ordering key, oldest first.
  CREATE INDEX events_open_by_key ON events (route, order_key, seq)
    WHERE order_key IS NOT NULL AND status = 'pending';
  -- Admin listing (newest first) and retention (oldest finished first).
  CREATE INDEX events_status ON events (status, seq);
  CREATE INDEX events_finished ON events (status, finished_at) WHERE finished_at IS NOT NULL;
  CREATE TABLE attempts (
    event_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    detail TEXT,
    status_code INTEGER,
    error TEXT,
    PRIMARY KEY (event_id, n)
  ) WITHOUT ROWID;
  CREATE TABLE stats_minute (
    minute INTEGER NOT NULL,
    route TEXT NOT NULL,
    metric TEXT NOT NULL,
    detail TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (minute, route, metric, detail)
  ) WITHOUT ROWID;
  -- Hourly rollup of stats_minute, written in the same upsert, so long windows read hours.
  CREATE TABLE stats_hour (
    hour INTEGER NOT NULL,
    route TEXT NOT NULL,
    metric TEXT NOT NULL,
    detail TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (hour, route, metric, detail)
  ) WITHOUT ROWID;
  CREATE TABLE dedup (
    route TEXT NOT NULL,
    key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (route, key)
  ) WITHOUT ROWID;
  CREATE INDEX dedup_expiry ON dedup (expires_at);
  CREATE TABLE routes_state (
    route TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    recent_failures TEXT NOT NULL DEFAULT '[]',
    disabled TEXT,
    cooldown_ms INTEGER,
    probe_at INTEGER,
    updated_at INTEGER NOT NULL
  );
  `,
  // 2: the trace context of each event (README, Tracing), NULL when stored with tracing off.
  `
  ALTER TABLE events ADD COLUMN trace_parent TEXT;
  ALTER TABLE events ADD COLUMN trace_state TEXT;
  `,
  // 3: the upstream's answer per attempt (its first bytes, capped), bytes stored per event for
  // storage.max_bytes, operator actions per event, and recorded bulk requests for idempotency.
  `
  ALTER TABLE attempts ADD COLUMN response_body BLOB;
  ALTER TABLE attempts ADD COLUMN response_size INTEGER;
  ALTER TABLE events ADD COLUMN response_bytes INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE event_history (
    event_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    request_id TEXT
  );
  CREATE INDEX event_history_event ON event_history (event_id, at);
  CREATE TABLE admin_requests (
    key TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    response TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX admin_requests_at ON admin_requests (at);
  `,
];

export function migrate(db: Database): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `database schema version ${current} is newer than this hookbuffer (${migrations.length}); upgrade hookbuffer`,
    );
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version] ?? "");
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return migrations.length;
}
