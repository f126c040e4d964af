// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests write ${VAR} references on purpose.
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { type ConfigIssue, loadConfig, redactDatabaseUrl } from "../../src/config/index.js";
import { configProblems, loadYaml } from "../helpers/config.js";

const UPSTREAM = "http://127.0.0.1:3000";
const URL_ = "postgres://hookbuffer:s3cret@db.internal:5432/hooks";

/** The loaded file: the upstream plus a `storage:` block. */
const withStorage = (storage: string, more = "") => `upstream: ${UPSTREAM}\nstorage:\n${storage}\n${more}`;
const lines = (issues: ConfigIssue[]) => issues.map((issue) => `${issue.path}: ${issue.message}`);

describe("storage.url (PostgreSQL)", () => {
  test("defaults: no url, schema public, 10 connections", () => {
    const { storage } = loadConfig({ env: {}, flags: { upstream: UPSTREAM } });
    expect(storage).toMatchObject({ url: null, schema: "public", poolSize: 10 });
  });

  test.each(["postgres", "postgresql"])("takes a %s:// URL with schema and pool_size", (scheme) => {
    const url = `${scheme}://hb:pw@db/hooks?sslmode=require`;
    const { storage } = loadYaml(withStorage(`  url: ${url}\n  schema: team_a\n  pool_size: 4`));
    expect(storage).toMatchObject({ url, schema: "team_a", poolSize: 4 });
  });

  test("interpolates ${VAR} into the URL, and an unset variable is reported at storage.url", () => {
    const yaml = withStorage("  url: postgres://hb:${PG_PASSWORD}@db/hooks");
    expect(loadYaml(yaml, { PG_PASSWORD: "from-env" }).storage.url).toBe("postgres://hb:from-env@db/hooks");
    expect(lines(configProblems(() => loadYaml(yaml)))).toEqual([
      "storage.url: environment variable PG_PASSWORD is not set",
    ]);
  });

  test.each([
    ["mysql://hb:s3cret@db/hooks", /^must be a postgres:\/\/ or postgresql:\/\/ URL \(got mysql:\)$/],
    ["http://db/hooks", /must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ["postgres://hb:s3cret@[db/hooks", /^not a valid URL$/],
    ["db.internal:5432", /must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ["", /must not be empty/],
  ])("refuses %j naming storage.url, never echoing the password", (url, message) => {
    const issues = configProblems(() => loadYaml(withStorage(`  url: "${url}"`)));
    expect(issues.map((issue) => issue.path)).toEqual(["storage.url"]);
    expect(issues[0]?.message).toMatch(message);
    expect(JSON.stringify(issues)).not.toContain("s3cret");
  });

  test("--database-url and HOOKBUFFER_DATABASE_URL set storage.url: file < env < flag", () => {
    const file = withStorage("  url: postgres://file/db");
    expect(loadYaml(file).storage.url).toBe("postgres://file/db");
    const env = { HOOKBUFFER_DATABASE_URL: "postgres://env/db" };
    expect(loadYaml(file, env).storage.url).toBe("postgres://env/db");
    expect(loadYaml(file, env, { databaseUrl: "postgres://flag/db" }).storage.url).toBe("postgres://flag/db");
    // Without any file; an empty variable counts as unset, as for the other named variables.
    expect(loadConfig({ env: { ...env, HOOKBUFFER_UPSTREAM: UPSTREAM }, flags: {} }).storage.url).toBe(
      "postgres://env/db",
    );
    expect(loadYaml(file, { HOOKBUFFER_DATABASE_URL: "" }).storage.url).toBe("postgres://file/db");
  });

  test("a bad URL from the flag or the variable says where it came from, password masked", () => {
    const fromFlag = configProblems(() =>
      loadYaml(undefined, {}, { upstream: UPSTREAM, databaseUrl: "ftp://u:s3cret@h/x" }),
    );
    expect(lines(fromFlag)).toEqual([
      "storage.url: must be a postgres:// or postgresql:// URL (got ftp:) (from --database-url)",
    ]);
    const fromEnv = configProblems(() =>
      loadYaml(undefined, {
        HOOKBUFFER_UPSTREAM: UPSTREAM,
        HOOKBUFFER_DATABASE_URL: "postgres://u:s3cret@[x",
      }),
    );
    expect(lines(fromEnv)).toEqual(["storage.url: not a valid URL (from HOOKBUFFER_DATABASE_URL)"]);
  });

  test.each([
    ["team-a", /letters, digits and _/],
    ["1team", /letters, digits and _/],
    ["a".repeat(64), /at most 63/],
    ["pg_mine", /pg_/],
    ["", /letters, digits and _/],
  ])("refuses schema %j naming storage.schema", (schema, message) => {
    const issues = configProblems(() => loadYaml(withStorage(`  url: ${URL_}\n  schema: "${schema}"`)));
    expect(issues.map((issue) => issue.path)).toEqual(["storage.schema"]);
    expect(issues[0]?.message).toMatch(message);
  });

  test("takes a 63-character schema and a pool of 1 or 100", () => {
    const schema = `_${"a".repeat(62)}`;
    expect(loadYaml(withStorage(`  url: ${URL_}\n  schema: ${schema}`)).storage.schema).toBe(schema);
    expect(loadYaml(withStorage(`  url: ${URL_}\n  pool_size: 1`)).storage.poolSize).toBe(1);
    expect(loadYaml(withStorage(`  url: ${URL_}\n  pool_size: 100`)).storage.poolSize).toBe(100);
  });

  test.each(["0", "101", "2.5", "ten"])("refuses pool_size %s naming storage.pool_size", (size) => {
    const issues = configProblems(() => loadYaml(withStorage(`  url: ${URL_}\n  pool_size: ${size}`)));
    expect(issues.map((issue) => issue.path)).toEqual(["storage.pool_size"]);
  });

  test("schema and pool_size without a url are errors naming each key", () => {
    const issues = configProblems(() => loadYaml(withStorage("  schema: team_a\n  pool_size: 4")));
    expect(lines(issues).sort()).toEqual([
      "storage.pool_size: only with storage.url (PostgreSQL)",
      "storage.schema: only with storage.url (PostgreSQL)",
    ]);
  });

  test("the SQLite-only storage keys beside a url are errors naming each key and why", () => {
    const storage = `  url: ${URL_}\n  path: /data/hb.db\n  synchronous: normal\n  max_db_size: 20gb`;
    expect(lines(configProblems(() => loadYaml(withStorage(storage)))).sort()).toEqual([
      "storage.max_db_size: applies to the SQLite file only; not with storage.url",
      "storage.path: applies to the SQLite file only; not with storage.url",
      "storage.synchronous: applies to the SQLite file only; not with storage.url",
    ]);
    // null is "no cap", the default: nothing to refuse.
    expect(loadYaml(withStorage(`  url: ${URL_}\n  max_db_size: null`)).storage.maxDbSize).toBeNull();
  });

  test("HOOKBUFFER_DB beside a url is named with its origin", () => {
    const issues = configProblems(() =>
      loadYaml(withStorage(`  url: ${URL_}`), { HOOKBUFFER_DB: "/data/hookbuffer.db" }),
    );
    expect(lines(issues)).toEqual([
      "storage.path: applies to the SQLite file only; not with storage.url (from HOOKBUFFER_DB)",
    ]);
  });

  test("search indexes beside a url are errors naming routes[i].index (or index)", () => {
    const routes = `routes:
  - {name: a, path: /a, index: [/type]}
  - {name: b, path: /b}
  - {name: c, path: /c, index: [/user/id]}`;
    expect(lines(configProblems(() => loadYaml(withStorage(`  url: ${URL_}`, routes))))).toEqual([
      "routes[0].index: search indexes are SQLite only; not with storage.url",
      "routes[2].index: search indexes are SQLite only; not with storage.url",
    ]);
    expect(lines(configProblems(() => loadYaml(withStorage(`  url: ${URL_}`, "index: [/type]"))))).toEqual([
      "index: search indexes are SQLite only; not with storage.url",
    ]);
    // An empty list asks for nothing.
    expect(loadYaml(withStorage(`  url: ${URL_}`, "index: []")).routes[0]?.index).toEqual([]);
  });

  test("the SQLite keys and indexes stay valid without a url", () => {
    const config = loadYaml(withStorage("  path: /data/hb.db\n  max_db_size: 1gb", "index: [/type]"));
    expect(config.storage).toMatchObject({ url: null, path: "/data/hb.db", maxDbSize: 1024 ** 3 });
    expect(config.routes[0]?.index).toEqual(["/type"]);
  });

  test("config.example.yaml (the image's default config) loads with HOOKBUFFER_DATABASE_URL", () => {
    const example = fileURLToPath(new URL("../../config.example.yaml", import.meta.url));
    const config = loadConfig({ env: { HOOKBUFFER_DATABASE_URL: URL_ }, flags: { config: example } });
    expect(config.storage).toMatchObject({ url: URL_, schema: "public", poolSize: 10 });
  });

  test("redactDatabaseUrl masks the password for logs and keeps the rest", () => {
    expect(redactDatabaseUrl(URL_)).toBe("postgres://hookbuffer:***@db.internal:5432/hooks");
    expect(redactDatabaseUrl("postgres://db/hooks")).toBe("postgres://db/hooks");
    expect(redactDatabaseUrl("postgres://u:s3cret@[x")).not.toContain("s3cret");
  });
});
