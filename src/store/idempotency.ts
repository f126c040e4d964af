import type { Database, Statement } from "better-sqlite3";

/** A bulk request already carried out under an idempotency key. */
export interface RecordedRequest {
  /** What the request asked for, so a reused key with another request can be refused. */
  fingerprint: string;
  /** The JSON answer it got. */
  response: string;
}

/** Bulk admin requests by idempotency key, kept for a day. */
export function createIdempotencyQueries(db: Database) {
  const get = db.prepare("SELECT fingerprint, response FROM admin_requests WHERE key = ?") as Statement<
    [string],
    RecordedRequest
  >;
  const put = db.prepare(
    "INSERT OR REPLACE INTO admin_requests (key, at, fingerprint, response) VALUES (?, ?, ?, ?)",
  );
  const prune = db.prepare("DELETE FROM admin_requests WHERE at < ?");
  return {
    get(key: string): RecordedRequest | null {
      return get.get(key) ?? null;
    },
    /** Records the answer and forgets keys older than `before` (epoch ms). */
    put(key: string, at: number, fingerprint: string, response: string, before: number): void {
      prune.run(before);
      put.run(key, at, fingerprint, response);
    },
  };
}

export type IdempotencyQueries = ReturnType<typeof createIdempotencyQueries>;
