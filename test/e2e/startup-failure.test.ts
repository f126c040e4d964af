import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { type Child, runCli, spawnHookbuffer } from "../helpers/process.js";
import { tempDir } from "../helpers/temp.js";

let dir: ReturnType<typeof tempDir> | undefined;
let blocker: Server | undefined;
let next: Child | undefined;
afterEach(async () => {
  next?.proc.kill("SIGKILL");
  await new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r()));
  dir?.remove();
  dir = undefined;
  blocker = undefined;
  next = undefined;
});

/** A port held by this process, so hookbuffer's bind fails with EADDRINUSE. */
async function takenPort(): Promise<number> {
  blocker = createServer();
  await new Promise<void>((r) => blocker!.listen(0, "127.0.0.1", () => r()));
  return (blocker.address() as { port: number }).port;
}

/** Runs a start that must fail; checks exit 2, one line, no stack, then that the lock is free. */
async function expectCleanFailure(args: string[], db: string, mentions: RegExp): Promise<void> {
  const run = await runCli([...args, "--db", db, "--host", "127.0.0.1"], { timeoutMs: 30_000 });
  const lines = run.output.split("\n").filter((l) => l.trim() !== "");
  expect(run.code, run.output).toBe(2);
  // Generous: a loaded machine takes seconds just to start node; before, it never exited.
  expect(run.ms, "exits promptly").toBeLessThan(20_000);
  expect(lines, run.output).toHaveLength(1);
  expect(lines[0]).toMatch(/^hookbuffer: /);
  expect(lines[0]).toMatch(mentions);
  expect(run.output).not.toContain("    at ");
  // Everything was released: another hookbuffer can take the database.
  next = await spawnHookbuffer(["--upstream", "http://127.0.0.1:9", "--db", db]);
  expect((await fetch(`${next.ingestUrl}/healthz`)).status).toBe(200);
}

describe("a failed start releases everything and exits 2 with one line", () => {
  test("ingest port already in use", async () => {
    dir = tempDir();
    const port = await takenPort();
    await expectCleanFailure(
      ["--upstream", "http://127.0.0.1:9", "--port", String(port), "--admin-port", "0"],
      join(dir.dir, "hb.db"),
      new RegExp(`127\\.0\\.0\\.1:${port} \\(listen\\.port\\): address already in use`),
    );
  }, 40_000);

  test("admin port already in use (ingest must not stay up)", async () => {
    dir = tempDir();
    const port = await takenPort();
    await expectCleanFailure(
      ["--upstream", "http://127.0.0.1:9", "--port", "0", "--admin-port", String(port)],
      join(dir.dir, "hb.db"),
      new RegExp(`127\\.0\\.0\\.1:${port} \\(admin\\.port\\): address already in use`),
    );
  }, 40_000);

  test("a standard-webhooks secret that is not base64 names the key", async () => {
    dir = tempDir();
    const config = join(dir.dir, "config.yaml");
    writeFileSync(
      config,
      `upstream: http://127.0.0.1:9
verify:
  scheme: standard-webhooks
  secrets: ["whsec_not*base64!"]
`,
    );
    await expectCleanFailure(
      ["--config", config, "--port", "0", "--admin-port", "0"],
      join(dir.dir, "hb.db"),
      /verify\.secrets\[0\].*base64/,
    );
    expect(next).toBeDefined();
  }, 40_000);

  test("--database-url and HOOKBUFFER_DATABASE_URL reach storage.url; the password is never printed", async () => {
    const upstream = ["--upstream", "http://127.0.0.1:9", "--port", "0", "--admin-port", "0"];
    const fromEnv = await runCli(upstream, { env: { HOOKBUFFER_DATABASE_URL: "ftp://hb:s3cret@db/hooks" } });
    expect(fromEnv.code, fromEnv.output).toBe(2);
    expect(fromEnv.output.trim()).toBe(
      "hookbuffer: invalid configuration: storage.url: must be a postgres:// or postgresql:// URL (got ftp:) (from HOOKBUFFER_DATABASE_URL)",
    );
    // A valid URL from the flag: the only problem left is the SQLite file named beside it.
    const fromFlag = await runCli([
      ...upstream,
      "--database-url",
      "postgres://hb:s3cret@db/hooks",
      "--db",
      "/x.db",
    ]);
    expect(fromFlag.code, fromFlag.output).toBe(2);
    expect(fromFlag.output.trim()).toBe(
      "hookbuffer: invalid configuration: storage.path: applies to the SQLite file only; not with storage.url (from --db)",
    );
    expect(fromEnv.output + fromFlag.output).not.toContain("s3cret");
  }, 40_000);
});
