import pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { createTestSchema, findTestPostgres } from "../helpers/postgres.js";

const closed = { HOOKBUFFER_TEST_PG_URL: "postgres://postgres@127.0.0.1:1/hookbuffer_test" };

describe("finding the test PostgreSQL", () => {
  test("an unreachable server makes the tests skip with the reason outside CI", async () => {
    const found = await findTestPostgres({ ...closed });
    expect(found.url).toBeNull();
    expect(found.skip).toMatch(/127\.0\.0\.1:1\/hookbuffer_test is unreachable/);
  });

  test("under CI an unreachable server fails instead of skipping", async () => {
    await expect(findTestPostgres({ ...closed, CI: "true" })).rejects.toThrow(/CI is set/);
  });
});

const server = await findTestPostgres();
const dropLater: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const drop of dropLater) await drop();
});

describe.skipIf(server.url === null)(`the test PostgreSQL (${server.skip ?? server.url})`, () => {
  const url = server.url ?? "";
  const query = async (text: string, target = url) => {
    const c = new pg.Client({ connectionString: target });
    await c.connect();
    try {
      return (await c.query(text)).rows;
    } finally {
      await c.end();
    }
  };

  test("a missing test database is created on first use", async () => {
    const name = `hb_test_db_${process.pid}_${Date.now()}`;
    const target = url.replace(/\/[^/]*$/, `/${name}`);
    dropLater.push(() => query(`DROP DATABASE IF EXISTS ${name}`).then(() => {}));
    expect(await findTestPostgres({ HOOKBUFFER_TEST_PG_URL: target, CI: "true" })).toEqual({
      url: target,
      skip: null,
    });
    expect(await query("SELECT 1 AS one", target)).toEqual([{ one: 1 }]);
  });

  test("each test schema is its own and is gone once dropped", async () => {
    const a = await createTestSchema(url);
    const b = await createTestSchema(url);
    dropLater.push(a.drop, b.drop);
    expect(a.name).not.toBe(b.name);
    await query(`CREATE TABLE ${a.name}.t (x int)`);
    const tables = (schema: string) =>
      query(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}'`);
    expect(await tables(a.name)).toEqual([{ table_name: "t" }]);
    expect(await tables(b.name)).toEqual([]);
    await a.drop();
    expect(await query(`SELECT 1 FROM pg_namespace WHERE nspname = '${a.name}'`)).toEqual([]);
  });
});
