/**
 * Which store the integration tests run hookbuffer on, read once: SQLite by default, PostgreSQL
 * with `HOOKBUFFER_TEST_STORE=postgres` (the `postgres` vitest project sets it, see vitest.config.ts).
 *
 * Under PostgreSQL a hookbuffer a test starts on a SQLite path gets `storage.url` (the test server,
 * test/helpers/postgres.ts) and a schema of that path's own instead: a restart on the same path is
 * a restart on the same schema, as a restart on the same file is under SQLite. Schemas are dropped
 * when the test's directory is removed, and at the latest after the file (test/postgres-setup.ts).
 */
import { randomUUID } from "node:crypto";
import { dirname } from "node:path";
import { createTestSchema, findTestPostgres, type TestPostgres, type TestSchema } from "./postgres.js";

export type TestStore = "sqlite" | "postgres";

export const testStore: TestStore = process.env.HOOKBUFFER_TEST_STORE === "postgres" ? "postgres" : "sqlite";

let server: Promise<TestPostgres> | undefined;

/** The test PostgreSQL, looked up once per worker (under CI an unreachable one throws). */
export function testPostgres(): Promise<TestPostgres> {
  server ??= findTestPostgres();
  return server;
}

async function testPostgresUrl(): Promise<string> {
  const found = await testPostgres();
  if (found.url === null) throw new Error(found.skip);
  return found.url;
}

/** Schemas by the SQLite path they stand for. */
const schemasByPath = new Map<string, Promise<TestSchema>>();

/** The schema standing for `dbPath`, created on first use. */
function schemaFor(url: string, dbPath: string): Promise<TestSchema> {
  let schema = schemasByPath.get(dbPath);
  if (!schema) {
    schema = createTestSchema(url);
    schemasByPath.set(dbPath, schema);
  }
  return schema;
}

async function drop(paths: string[]): Promise<void> {
  const schemas = paths.map((path) => {
    const schema = schemasByPath.get(path);
    schemasByPath.delete(path);
    return schema;
  });
  await Promise.all(schemas.map(async (s) => (await s)?.drop()));
}

/** Drops the schemas of every path in `dir` (the test removes the directory). */
export function dropSchemasIn(dir: string): Promise<void> {
  return drop([...schemasByPath.keys()].filter((path) => dirname(path) === dir));
}

/** Drops every schema still held (after a test file). */
export function dropAllSchemas(): Promise<void> {
  return drop([...schemasByPath.keys()]);
}

/** Where one hookbuffer keeps its data, as config sources. */
export interface TestStorage {
  /** `--db` under SQLite; nothing under PostgreSQL (storage.path is refused beside storage.url). */
  flags: { db?: string };
  /** The PostgreSQL keys, as environment variables (which a test's own YAML cannot override by accident). */
  env: Record<string, string>;
  /** The schema's name under PostgreSQL. */
  schema: string | null;
}

/**
 * The storage of a hookbuffer on `dbPath`: that file under SQLite; under PostgreSQL `schema` when
 * given (a schema the test shares between instances and drops itself), else the path's own schema.
 */
export async function testStorage(dbPath: string, schema?: string): Promise<TestStorage> {
  if (testStore === "sqlite") return { flags: { db: dbPath }, env: {}, schema: null };
  const url = await testPostgresUrl();
  const name = schema ?? (await schemaFor(url, dbPath)).name;
  return {
    flags: {},
    env: { HOOKBUFFER_DATABASE_URL: url, HOOKBUFFER_STORAGE__SCHEMA: name },
    schema: name,
  };
}

/**
 * CLI arguments and environment for a spawned hookbuffer: under PostgreSQL `--db PATH` becomes
 * the path's schema (and a CLI started without `--db` gets a schema of its own, dropped after the file).
 */
export async function testCliStorage(
  args: string[],
): Promise<{ args: string[]; env: Record<string, string> }> {
  if (testStore === "sqlite") return { args, env: {} };
  const at = args.indexOf("--db");
  const dbPath = at >= 0 ? (args[at + 1] as string) : `spawned-${randomUUID()}`;
  const rest = at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : args;
  return { args: rest, env: (await testStorage(dbPath)).env };
}
