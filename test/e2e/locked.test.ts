import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { type Child, runCli, spawnHookbuffer } from "../helpers/process.js";
import { tempDir } from "../helpers/temp.js";

let first: Child | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(() => {
  first?.proc.kill("SIGKILL");
  dir?.remove();
  first = undefined;
  dir = undefined;
});

describe("a database locked by another process", () => {
  test("a second hookbuffer on the same database exits non-zero with a clear error; the first keeps serving", async () => {
    dir = tempDir();
    const db = join(dir.dir, "hb.db");
    first = await spawnHookbuffer(["--upstream", "http://127.0.0.1:9", "--db", db]);
    const second = await runCli([
      "--upstream",
      "http://127.0.0.1:9",
      "--db",
      db,
      "--port",
      "0",
      "--admin-port",
      "0",
      "--host",
      "127.0.0.1",
    ]);
    expect(second.code).not.toBe(0);
    expect(second.code).not.toBeNull();
    expect(second.output).toContain(`database ${db} is in use by another process`);
    expect(second.output).not.toContain("    at "); // a message for operators, not a stack trace
    const res = await fetch(`${first.ingestUrl}/healthz`);
    expect(res.status).toBe(200);
  }, 30_000);
});
