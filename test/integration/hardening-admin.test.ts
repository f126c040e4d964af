import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isConfigError, loadConfig } from "../../src/config/index.js";
import { startHookbuffer, type TestHookbuffer } from "../helpers/hookbuffer.js";
import { CLI } from "../helpers/process.js";

const TOKEN = "adm1n-t0ken-with-some-length-0123456789";

let hb: TestHookbuffer;
beforeAll(async () => {
  hb = await startHookbuffer({
    yaml: `upstream: http://127.0.0.1:9\nadmin:\n  token: \${ADMIN_TOKEN}\n`,
    env: { ADMIN_TOKEN: TOKEN },
  });
});
afterAll(async () => {
  await hb?.stop();
});

async function stats(authorization?: string) {
  const res = await request(`${hb.adminUrl}/stats`, authorization ? { headers: { authorization } } : {});
  const body = await res.body.text();
  return { status: res.statusCode, body, challenge: res.headers["www-authenticate"] };
}

describe("admin bearer token", () => {
  test.each<[string, string | undefined]>([
    ["no Authorization header", undefined],
    ["an empty bearer", "Bearer "],
    ["a wrong token of the same length", `Bearer ${"x".repeat(TOKEN.length)}`],
    ["a prefix of the token", `Bearer ${TOKEN.slice(0, -1)}`],
    ["the token plus a suffix", `Bearer ${TOKEN}x`],
    ["the token under another scheme", `Basic ${TOKEN}`],
    ["the token with different case", `Bearer ${TOKEN.toUpperCase()}`],
  ])("%s is 401 with a Bearer challenge and no data", async (_what, authorization) => {
    const res = await stats(authorization);
    expect(res.status).toBe(401);
    expect(res.challenge).toBe('Bearer realm="hookbuffer"');
    expect(JSON.parse(res.body)).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
    expect(res.body).not.toContain("totals");
  });

  test("the right token is accepted (the scheme name is case-insensitive, RFC 9110 §11.1)", async () => {
    expect((await stats(`Bearer ${TOKEN}`)).status).toBe(200);
    expect((await stats(`bearer ${TOKEN}`)).status).toBe(200);
  });

  test("/healthz stays open for probes", async () => {
    const res = await request(`${hb.adminUrl}/healthz`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });
});

describe("admin exposure at start-up", () => {
  const load = (adminHost: string, adminToken?: string) =>
    loadConfig({
      env: {},
      flags: { upstream: "http://127.0.0.1:9", adminHost, ...(adminToken ? { adminToken } : {}) },
    });

  test.each(["0.0.0.0", "::", "10.1.2.3", "192.168.0.10", "fe80::1", "admin.internal"])(
    "a non-loopback admin host (%s) without a token is a config error naming admin.token",
    (host) => {
      let error: unknown;
      try {
        load(host);
      } catch (err) {
        error = err;
      }
      expect(isConfigError(error)).toBe(true);
      expect((error as Error).message).toMatch(/admin\.token/);
      expect(load(host, "t0ken").admin.token).toBe("t0ken");
    },
  );

  test.each(["127.0.0.1", "127.5.6.7", "::1", "[::1]", "localhost"])(
    "a loopback admin host (%s) may run without a token",
    (host) => {
      expect(load(host).admin.token).toBeNull();
    },
  );

  test.skipIf(!existsSync(CLI))(
    "the CLI refuses to start with --admin-host 0.0.0.0 and no token, and exits 2",
    async () => {
      const proc = spawn(
        process.execPath,
        [CLI, "--upstream", "http://127.0.0.1:9", "--admin-host", "0.0.0.0", "--db", "/nonexistent/never.db"],
        { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      proc.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      const code = await new Promise<number | null>((resolve) => proc.on("exit", (c) => resolve(c)));
      expect(code).toBe(2);
      expect(stderr).toMatch(/admin\.token/);
      expect(stderr).toMatch(/loopback/);
    },
  );
});
