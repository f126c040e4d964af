import type { Database } from "better-sqlite3";
import { JSON_INDEX_PREFIX, jsonExpr, jsonIndexName, sqlString } from "./event-filter.js";

/** A body pointer a route indexes for search (`routes[].index`). */
export interface JsonIndexSpec {
  route: string;
  pointer: string;
}

/**
 * Makes the database's search indexes match the config: one partial expression index per route
 * and pointer (only that route's rows, so other routes' ingest pays nothing), created when missing
 * and dropped when no longer configured. Building one over a large table takes a while: it runs
 * before the listeners open.
 */
export function syncJsonIndexes(
  db: Database,
  wanted: readonly JsonIndexSpec[],
): { created: string[]; dropped: string[] } {
  const existing = new Set(
    (
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND substr(name, 1, ?) = ?")
        .pluck()
        .all(JSON_INDEX_PREFIX.length, JSON_INDEX_PREFIX) as string[]
    ).values(),
  );
  const byName = new Map(wanted.map((w) => [jsonIndexName(w.route, w.pointer), w]));
  const dropped = [...existing].filter((name) => !byName.has(name));
  const created: string[] = [];
  for (const name of dropped) db.exec(`DROP INDEX "${name}"`);
  for (const [name, w] of byName) {
    if (existing.has(name)) continue;
    db.exec(`CREATE INDEX "${name}" ON events (${jsonExpr(w.pointer)}) WHERE route = ${sqlString(w.route)}`);
    created.push(name);
  }
  return { created, dropped };
}
