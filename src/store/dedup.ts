import type { Database, Statement } from "better-sqlite3";

export function createDedupQueries(db: Database) {
  const find = db
    .prepare("SELECT event_id FROM dedup WHERE route = ? AND key = ? AND expires_at > ?")
    .pluck() as Statement<[string, string, number], string>;
  // Takes a free or expired key; a key still inside its window is left as it is (no change).
  const claim = db.prepare(
    `INSERT INTO dedup (route, key, event_id, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (route, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at
     WHERE dedup.expires_at <= ?`,
  );
  const prune = db.prepare(
    "DELETE FROM dedup WHERE (route, key) IN (SELECT route, key FROM dedup WHERE expires_at <= ? LIMIT ?)",
  );
  return {
    /** The id of the event already stored under this key, if it is still inside its window. */
    find(route: string, key: string, now: number): string | undefined {
      return find.get(route, key, now);
    },
    /**
     * Records `eventId` under the key unless an event within its window holds it already: then
     * returns that event's id and records nothing. One statement when the key is new (the common
     * case on the ingest path).
     */
    claim(route: string, key: string, eventId: string, now: number, expiresAt: number): string | undefined {
      if (claim.run(route, key, eventId, expiresAt, now).changes === 1) return undefined;
      return find.get(route, key, now);
    },
    prune(now: number, limit: number): number {
      return prune.run(now, limit).changes;
    },
  };
}

export type DedupQueries = ReturnType<typeof createDedupQueries>;
