/**
 * The PostgreSQL the tests use: `HOOKBUFFER_TEST_PG_URL`, by default the `hookbuffer_test`
 * database on 127.0.0.1:5432 (`.ci/run` starts the server and creates it). Unreachable, the tests
 * that need it skip with the reason, except under CI, where they fail: a green CI run must not hide
 * a store that was never exercised.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { migratePostgres } from "../../src/store/postgres/migrations.js";
import { createPostgresPool, type PostgresTarget } from "../../src/store/postgres/pool.js";

export const DEFAULT_TEST_PG_URL = "postgres://postgres@127.0.0.1:5432/hookbuffer_test";

/** Either a reachable server's URL, or why the tests that need one skip. */
export type TestPostgres = { url: string; skip: null } | { url: null; skip: string };

const underCi = (env: NodeJS.ProcessEnv) => env.CI !== undefined && env.CI !== "" && env.CI !== "false";

/** The URL without its password, for messages. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}

async function ping(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates the test database when the server is there but the database is not (a developer's
 * machine where `.ci/run` has not run), through the server's `postgres` database.
 */
async function createDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = "/postgres";
  const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } catch (err) {
    // Another test file created it at the same moment.
    if ((err as { code?: string }).code !== "42P04") throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Finds the test server; under CI an unreachable one throws instead of skipping. */
export async function findTestPostgres(env: NodeJS.ProcessEnv = process.env): Promise<TestPostgres> {
  const url = env.HOOKBUFFER_TEST_PG_URL || DEFAULT_TEST_PG_URL;
  try {
    try {
      await ping(url);
    } catch (err) {
      if ((err as { code?: string }).code !== "3D000") throw err; // 3D000: no such database
      await createDatabase(url);
      await ping(url);
    }
    return { url, skip: null };
  } catch (err) {
    const reason = `PostgreSQL at ${shown(url)} is unreachable (${(err as Error).message}); start it or set HOOKBUFFER_TEST_PG_URL`;
    if (underCi(env))
      throw new Error(`${reason}. CI is set, so the PostgreSQL tests fail instead of skipping.`);
    return { url: null, skip: reason };
  }
}

/** A schema of one test file's own, so files run in parallel on one database. */
export interface TestSchema {
  /** The schema's name (random). */
  name: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

export async function createTestSchema(url: string): Promise<TestSchema> {
  const name = `hb_test_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${name}`);
  } finally {
    await client.end();
  }
  return {
    name,
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * A test file's migrated schema and its replicas: each `replica()` is a connection pool of its own
 * on that schema, as another hookbuffer process would hold. Pools end and the schema is dropped
 * after the file. Without a server (`server.url` null) nothing is created.
 */
export function usePostgresReplicas(server: TestPostgres) {
  let schema: TestSchema | undefined;
  const pools: pg.Pool[] = [];
  /** The server and the file's schema, for connections that are not pools (LISTEN). */
  function target(): { url: string; schema: string } {
    if (server.url === null || schema === undefined) throw new Error("no PostgreSQL test server");
    return { url: server.url, schema: schema.name };
  }
  /** A pool ended with the file's others. */
  function track<P extends pg.Pool>(p: P): P {
    pools.push(p);
    return p;
  }
  function replica(options: Omit<PostgresTarget, "url" | "schema"> = {}): Promise<pg.Pool> {
    return createPostgresPool({ ...target(), max: 4, ...options }).then(track);
  }
  beforeAll(async () => {
    if (server.url === null) return;
    schema = await createTestSchema(server.url);
    await migratePostgres(await replica());
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await schema?.drop();
  });
  return { replica, target, track };
}
