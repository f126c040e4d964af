import type { Database, Statement } from "better-sqlite3";

export function createDedupQueries(db: Database) {
  const find = db
    .prepare("SELECT event_id FROM dedup WHERE route = ? AND key = ? AND expires_at > ?")
    .pluck() as Statement<[string, string, number], string>;
  const put = db.prepare(
    "INSERT OR REPLACE INTO dedup (route, key, event_id, expires_at) VALUES (?, ?, ?, ?)",
  );
  const prune = db.prepare(
    "DELETE FROM dedup WHERE (route, key) IN (SELECT route, key FROM dedup WHERE expires_at <= ? LIMIT ?)",
  );
  return {
    /** The id of the event already stored under this key, if it is still inside its window. */
    find(route: string, key: string, now: number): string | undefined {
      return find.get(route, key, now);
    },
    put(route: string, key: string, eventId: string, expiresAt: number): void {
      put.run(route, key, eventId, expiresAt);
    },
    prune(now: number, limit: number): number {
      return prune.run(now, limit).changes;
    },
  };
}

export type DedupQueries = ReturnType<typeof createDedupQueries>;
