import type pg from "pg";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { migratePostgres, SCHEMA_VERSION } from "../../src/store/postgres/migrations.js";
import { createPostgresPool } from "../../src/store/postgres/pool.js";
import { createTestSchema, findTestPostgres, type TestSchema } from "../helpers/postgres.js";

const server = await findTestPostgres();
const schemas: TestSchema[] = [];
let pools: pg.Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.map((p) => p.end()));
  pools = [];
});
afterAll(async () => {
  for (const s of schemas) await s.drop();
});

async function freshSchema(url: string): Promise<string> {
  const s = await createTestSchema(url);
  schemas.push(s);
  return s.name;
}

async function pool(url: string, schema: string): Promise<pg.Pool> {
  const p = await createPostgresPool({ url, schema, max: 2 });
  pools.push(p);
  return p;
}

describe.skipIf(server.url === null)(`PostgreSQL schema migrations (${server.skip ?? "real server"})`, () => {
  const url = server.url ?? "";

  test("three replicas migrating one schema at once take turns: each version runs once", async () => {
    for (let round = 0; round < 3; round++) {
      const schema = await freshSchema(url);
      const replicas = await Promise.all([1, 2, 3].map(() => pool(url, schema)));
      const versions = await Promise.all(replicas.map((p) => migratePostgres(p)));
      expect(versions).toEqual([SCHEMA_VERSION, SCHEMA_VERSION, SCHEMA_VERSION]);
      const first = replicas[0] as pg.Pool;
      const recorded = await first.query("SELECT version FROM hookbuffer_migrations ORDER BY version");
      expect(recorded.rows.map((r) => r.version)).toEqual(
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
      const tables = await first.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
        [schema],
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        "admin_requests",
        "attempts",
        "dedup",
        "event_history",
        "events",
        "hookbuffer_migrations",
        "queue_counts",
        "routes_state",
        "stats_hour",
        "stats_minute",
      ]);
    }
  });

  test("a migrated schema migrates again as a no-op", async () => {
    const p = await pool(url, await freshSchema(url));
    await migratePostgres(p);
    await p.query("INSERT INTO routes_state (route, updated_at) VALUES ('line', 0)");
    expect(await migratePostgres(p)).toBe(SCHEMA_VERSION);
    expect((await p.query("SELECT route FROM routes_state")).rows).toEqual([{ route: "line" }]);
  });

  test("a schema newer than this hookbuffer is refused, and the lock is released", async () => {
    const p = await pool(url, await freshSchema(url));
    await migratePostgres(p);
    await p.query("INSERT INTO hookbuffer_migrations (version) VALUES ($1)", [SCHEMA_VERSION + 1]);
    await expect(migratePostgres(p)).rejects.toThrow(/newer than this hookbuffer/);
    const other = await pool(url, (await p.query("SELECT current_schema() AS s")).rows[0].s);
    const free = await other.query(
      "SELECT pg_try_advisory_lock(hashtext('hookbuffer_migrations:' || current_schema())) AS ok",
    );
    expect(free.rows[0].ok).toBe(true);
  });
});
