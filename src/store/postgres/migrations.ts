import type pg from "pg";

/**
 * Ordered schema migrations of the PostgreSQL store; `hookbuffer_migrations` records each version
 * run. Append only: never edit a migration that has shipped. The tables mirror the SQLite store's
 * (src/store/migrations.ts), times as epoch ms, with what several replicas need on top: the lease
 * in the row, dedup keys under a unique key, the breaker's probe lease.
 */
const migrations: string[] = [
  // 1: events, attempts, per-minute and per-hour stats, dedup keys, route (breaker) state.
  `
  CREATE TABLE events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    route text NOT NULL,
    received_at bigint NOT NULL,
    method text NOT NULL,
    path text NOT NULL,
    query text NOT NULL,
    headers text NOT NULL,
    body bytea NOT NULL,
    body_size integer NOT NULL,
    dedup_key text,
    order_key text,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    schedule_base integer NOT NULL DEFAULT 0,
    schedule_start bigint NOT NULL,
    next_attempt_at bigint NOT NULL,
    -- The claim: which replica holds the event and until when (database clock, epoch ms).
    locked_by text,
    lease_until bigint,
    last_reason text,
    last_detail text,
    last_status integer,
    delivered_at bigint,
    finished_at bigint,
    trace_parent text,
    trace_state text,
    response_bytes bigint NOT NULL DEFAULT 0
  );
  -- Claiming walks only pending rows: its size is the backlog, not the history.
  CREATE INDEX events_due ON events (route, next_attempt_at, seq) WHERE status = 'pending';
  -- Per-key order: the open events of one ordering key, oldest first.
  CREATE INDEX events_open_by_key ON events (route, order_key, seq)
    WHERE order_key IS NOT NULL AND status = 'pending';
  CREATE INDEX events_status ON events (status, seq);
  CREATE INDEX events_finished ON events (status, finished_at) WHERE finished_at IS NOT NULL;
  CREATE TABLE attempts (
    event_id text NOT NULL,
    n integer NOT NULL,
    started_at bigint NOT NULL,
    duration_ms integer NOT NULL,
    outcome text NOT NULL,
    reason text,
    detail text,
    status_code integer,
    error text,
    response_body bytea,
    response_size integer,
    PRIMARY KEY (event_id, n)
  );
  CREATE TABLE stats_minute (
    minute bigint NOT NULL,
    route text NOT NULL,
    metric text NOT NULL,
    detail text NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (minute, route, metric, detail)
  );
  CREATE TABLE stats_hour (
    hour bigint NOT NULL,
    route text NOT NULL,
    metric text NOT NULL,
    detail text NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (hour, route, metric, detail)
  );
  -- The unique key makes dedup global: two replicas storing one key meet here, and one waits.
  CREATE TABLE dedup (
    route text NOT NULL,
    key text NOT NULL,
    event_id text NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (route, key)
  );
  CREATE INDEX dedup_expiry ON dedup (expires_at);
  CREATE TABLE routes_state (
    route text PRIMARY KEY,
    state text NOT NULL DEFAULT 'active',
    consecutive_failures integer NOT NULL DEFAULT 0,
    recent_failures text[] NOT NULL DEFAULT '{}',
    disabled jsonb,
    cooldown_ms bigint,
    probe_at bigint,
    -- The half-open probe, one cluster-wide: who took it and until when.
    probe_by text,
    probe_until bigint,
    updated_at bigint NOT NULL
  );
  `,
  // 2: queue counts per route and status, moved in each command's transaction, so /stats and
  // backpressure read a few rows instead of counting the backlog; leased rows found without a scan.
  `
  CREATE TABLE queue_counts (
    route text NOT NULL,
    status text NOT NULL,
    n bigint NOT NULL,
    bytes bigint NOT NULL,
    PRIMARY KEY (route, status)
  );
  INSERT INTO queue_counts (route, status, n, bytes)
  SELECT route, status, count(*),
    sum(CASE WHEN status = 'pending' THEN body_size + response_bytes ELSE 0 END)
  FROM events GROUP BY route, status;
  CREATE INDEX events_leased ON events (route, lease_until) WHERE lease_until IS NOT NULL;
  `,
  // 3: what the admin API needs: operator actions per event, recorded bulk requests, a route index
  // for listing, and a JSON parse that answers NULL instead of raising.
  // Writers name the columns: INSERT INTO event_history (event_id, at, action, request_id) on a
  // redelivery; INSERT INTO admin_requests (key, at, fingerprint, response) ... ON CONFLICT (key)
  // DO UPDATE on a saved bulk answer (keys older than a day pruned by `at`).
  `
  CREATE TABLE event_history (
    -- Insertion order breaks ties of \`at\`, as SQLite's rowid does.
    n bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id text NOT NULL,
    at bigint NOT NULL,
    action text NOT NULL,
    request_id text
  );
  CREATE INDEX event_history_event ON event_history (event_id, at, n);
  CREATE TABLE admin_requests (
    key text PRIMARY KEY,
    at bigint NOT NULL,
    fingerprint text NOT NULL,
    response text NOT NULL
  );
  CREATE INDEX admin_requests_at ON admin_requests (at);
  -- A search by route walks that route's rows newest first instead of every row.
  CREATE INDEX events_route ON events (route, seq);
  -- The body as JSON, or NULL when it is not (bad UTF-8, not JSON, a NUL escape jsonb cannot hold):
  -- one body that is not JSON must not fail a search over all of them. PostgreSQL 15 has no
  -- pg_input_is_valid, so the parse runs in an exception block. Immutable: the result depends
  -- only on the bytes, so an expression index may use it.
  CREATE FUNCTION hookbuffer_try_jsonb(body bytea) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
  BEGIN
    RETURN convert_from(body, 'UTF8')::jsonb;
  EXCEPTION WHEN others THEN
    RETURN NULL;
  END
  $$;
  `,
];

/** The number of migrations this hookbuffer knows. */
export const SCHEMA_VERSION = migrations.length;

/**
 * Brings the schema on the pool's search_path up to date. Runs under a session advisory lock keyed
 * by the schema, so replicas starting together take turns: the first migrates, the others find
 * the work done. Each migration commits with its version row. Returns the schema version.
 */
export async function migratePostgres(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  const lock = "SELECT hashtext('hookbuffer_migrations:' || current_schema()) AS key";
  let key: number | undefined;
  try {
    key = (await client.query<{ key: number }>(lock)).rows[0]?.key;
    await client.query("SELECT pg_advisory_lock($1)", [key]);
    await client.query(`CREATE TABLE IF NOT EXISTS hookbuffer_migrations (
      version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number | null }>(
      "SELECT max(version) AS v FROM hookbuffer_migrations",
    );
    const current = rows[0]?.v ?? 0;
    if (current > migrations.length) {
      throw new Error(
        `database schema version ${current} is newer than this hookbuffer (${migrations.length}); upgrade hookbuffer`,
      );
    }
    for (let version = current; version < migrations.length; version++) {
      await client.query("BEGIN");
      try {
        await client.query(migrations[version] ?? "");
        await client.query("INSERT INTO hookbuffer_migrations (version) VALUES ($1)", [version + 1]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw err;
      }
    }
    return migrations.length;
  } finally {
    if (key !== undefined) await client.query("SELECT pg_advisory_unlock($1)", [key]).catch(() => {});
    client.release();
  }
}
