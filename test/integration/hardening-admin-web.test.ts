import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runAdminCommand } from "../../src/cli/admin-commands.js";
import { isConfigError, loadConfig } from "../../src/config/index.js";
import { startHookbuffer, type TestHookbuffer } from "../helpers/hookbuffer.js";
import { rawRequest } from "../helpers/raw.js";
import { tempDir } from "../helpers/temp.js";

// A token-less admin listener on loopback: the default, and the one a web page can reach.
let hb: TestHookbuffer;
let port: number;
beforeAll(async () => {
  hb = await startHookbuffer({
    yaml: `upstream: http://127.0.0.1:9
routes:
  - name: bot
    path: /
`,
  });
  port = hb.running.admin.port;
});
afterAll(async () => {
  await hb?.stop();
});

const statusLine = (res: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(res)?.[1]);
const bodyOf = (res: string) =>
  JSON.parse(res.slice(res.indexOf("\r\n\r\n") + 4)) as { error?: { code: string } };
const routeState = async () => {
  const res = await request(`${hb.adminUrl}/routes`);
  const body = (await res.body.json()) as { routes: Array<{ name: string; state: string }> };
  return body.routes.find((r) => r.name === "bot")?.state;
};
const raw = (method: string, path: string, headers: string[], body = "") =>
  rawRequest(
    port,
    [`${method} ${path} HTTP/1.1`, ...headers, `Content-Length: ${Buffer.byteLength(body)}`],
    body,
  );

describe("DNS rebinding: only loopback or configured Host names", () => {
  test.each(["evil.example", `evil.example:${0}`, "rebind.attacker.test:9090", "10.0.0.7"])(
    "Host %s cannot read the API (403 JSON)",
    async (host) => {
      const res = await raw("GET", "/events?body=1", [`Host: ${host}`]);
      expect(statusLine(res)).toBe(403);
      expect(bodyOf(res).error?.code).toBe("forbidden_host");
      expect(res).not.toContain('"events"');
    },
  );

  test.each(["127.0.0.1", "localhost", "[::1]"])("Host %s:<port> is served", async (name) => {
    const res = await raw("GET", "/stats", [`Host: ${name}:${port}`]);
    expect(statusLine(res)).toBe(200);
  });

  test("/healthz answers any Host (probes address a pod by IP)", async () => {
    expect(statusLine(await raw("GET", "/healthz", ["Host: 10.1.2.3:9090"]))).toBe(200);
  });
});

describe("cross-site requests cannot change anything", () => {
  const host = () => `Host: 127.0.0.1:${port}`;

  test("a cross-site form POST (text/plain, no preflight) is refused and the route stays active", async () => {
    const res = await raw("POST", "/routes/bot/pause", [host(), "Content-Type: text/plain"], "x");
    expect(statusLine(res)).toBe(415);
    expect(bodyOf(res).error?.code).toBe("unsupported_media_type");
    expect(await routeState()).toBe("active");
  });

  test.each([
    ["a foreign Origin", ["Origin: http://evil.example"]],
    ["Origin null (sandboxed frame)", ["Origin: null"]],
    ["Sec-Fetch-Site: cross-site", ["Sec-Fetch-Site: cross-site"]],
    ["Sec-Fetch-Site: same-site", ["Sec-Fetch-Site: same-site"]],
  ])("%s is refused with 403 even with a JSON content type", async (_what, extra) => {
    const res = await raw(
      "POST",
      "/events/redeliver",
      [host(), "Content-Type: application/json", ...extra],
      '{"status":"delivered"}',
    );
    expect(statusLine(res)).toBe(403);
    expect(bodyOf(res).error?.code).toBe("cross_site");
    const pause = await raw("POST", "/routes/bot/pause", [
      host(),
      "Content-Type: application/json",
      ...extra,
    ]);
    expect(statusLine(pause)).toBe(403);
    expect(await routeState()).toBe("active");
  });

  test("a same-origin JSON call (what the dashboard sends) works", async () => {
    const res = await raw("POST", "/routes/bot/pause", [
      host(),
      "Content-Type: application/json",
      `Origin: http://127.0.0.1:${port}`,
      "Sec-Fetch-Site: same-origin",
    ]);
    expect(statusLine(res)).toBe(200);
    expect(await routeState()).toBe("paused");
  });

  test("the CLI's pause and resume still work", async () => {
    const out: string[] = [];
    const sink = { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream;
    expect(await runAdminCommand("resume", ["bot", "--admin-url", hb.adminUrl], {}, sink, sink)).toBe(0);
    expect(await routeState()).toBe("active");
    expect(await runAdminCommand("pause", ["bot", "--admin-url", hb.adminUrl], {}, sink, sink)).toBe(0);
    expect(await routeState()).toBe("paused");
    expect(await runAdminCommand("resume", ["bot", "--admin-url", hb.adminUrl], {}, sink, sink)).toBe(0);
    expect(
      await runAdminCommand("redeliver", ["--status", "dead", "--admin-url", hb.adminUrl], {}, sink, sink),
    ).toBe(0);
  });
});

describe("admin body limit", () => {
  test("a body past 64 KiB with Content-Length gets 413 JSON before it is read", async () => {
    const big = `{"status":"dead","route":"${"x".repeat(200_000)}"}`;
    const res = await raw(
      "POST",
      "/events/redeliver",
      [`Host: 127.0.0.1:${port}`, "Content-Type: application/json"],
      big,
    );
    expect(statusLine(res)).toBe(413);
    expect(bodyOf(res).error?.code).toBe("payload_too_large");
  });

  test("a chunked body is cut off once it passes the limit", async () => {
    const chunk = "x".repeat(16 * 1024);
    const chunks = Array.from({ length: 8 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("");
    const res = await rawRequest(
      port,
      [
        "POST /events/redeliver HTTP/1.1",
        `Host: 127.0.0.1:${port}`,
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
      ],
      `${chunks}0\r\n\r\n`,
    );
    expect(statusLine(res)).toBe(413);
  });
});

describe("configured Host names and token files", () => {
  test("admin.allowed_hosts adds names; others stay refused", async () => {
    const other = await startHookbuffer({
      yaml: "upstream: http://127.0.0.1:9\nadmin:\n  allowed_hosts: [Hookbuffer.Internal]\n",
    });
    try {
      const p = other.running.admin.port;
      const get = (host: string) => rawRequest(p, ["GET /stats HTTP/1.1", `Host: ${host}`]);
      expect(statusLine(await get(`hookbuffer.internal:${p}`))).toBe(200);
      expect(statusLine(await get(`localhost:${p}`))).toBe(200);
      expect(statusLine(await get("evil.example"))).toBe(403);
    } finally {
      await other.stop();
    }
  });

  test("admin.token_file with a trailing newline is read, trimmed and matched; the token is not in argv", async () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, "token");
      writeFileSync(file, "file-t0ken-0123456789\n");
      const config = loadConfig({ env: {}, flags: { upstream: "http://127.0.0.1:9", adminTokenFile: file } });
      expect(config.admin.token).toBe("file-t0ken-0123456789");
      const fromEnv = loadConfig({
        env: { HOOKBUFFER_ADMIN_TOKEN_FILE: file },
        flags: { upstream: "http://127.0.0.1:9" },
      });
      expect(fromEnv.admin.token).toBe("file-t0ken-0123456789");

      const secured = await startHookbuffer({
        yaml: `upstream: http://127.0.0.1:9\nadmin:\n  token_file: ${file}\n`,
      });
      try {
        const get = (token: string) =>
          request(`${secured.adminUrl}/stats`, { headers: { authorization: `Bearer ${token}` } });
        const ok = await get("file-t0ken-0123456789");
        expect(ok.statusCode).toBe(200);
        await ok.body.dump();
        const out: string[] = [];
        const sink = { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream;
        const code = await runAdminCommand(
          "stats",
          ["--json", "--admin-url", secured.adminUrl, "--token-file", file],
          {},
          sink,
          sink,
        );
        expect(code).toBe(0);
      } finally {
        await secured.stop();
      }
    } finally {
      remove();
    }
  });

  test("a token with surrounding whitespace from the environment is trimmed", () => {
    const config = loadConfig({
      env: { HOOKBUFFER_ADMIN_TOKEN: "env-t0ken\n" },
      flags: { upstream: "http://127.0.0.1:9" },
    });
    expect(config.admin.token).toBe("env-t0ken");
  });

  test.each([
    [{ adminTokenFile: "/nonexistent/token" }, /admin\.token_file: cannot read/],
    [{ adminTokenFile: "/dev/null" }, /admin\.token_file: .*empty/],
    [{ adminTokenFile: "/dev/null", adminToken: "t" }, /admin\.token_file: set only one/],
  ])("a bad token file is a config error naming admin.token_file (%o)", (flags, message) => {
    let error: unknown;
    try {
      loadConfig({ env: {}, flags: { upstream: "http://127.0.0.1:9", ...flags } });
    } catch (err) {
      error = err;
    }
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});

describe("config errors never print credentials inside URLs", () => {
  const messageOf = (load: () => unknown): string => {
    try {
      load();
    } catch (err) {
      expect(isConfigError(err)).toBe(true);
      return (err as Error).message;
    }
    throw new Error("expected a config error");
  };

  test("a bad upstream with userinfo names the key, not the password", () => {
    const text = messageOf(() =>
      loadConfig({ env: {}, flags: { upstream: "htp://deploy:hunter2-pw@bot.internal/cb" } }),
    );
    expect(text).toMatch(/upstream/);
    expect(text).not.toContain("hunter2");
    expect(text).toContain("htp://***@bot.internal/cb");
  });

  test("a bad alert URL hides its userinfo and token parameter", () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, "c.yaml");
      writeFileSync(
        file,
        "upstream: http://127.0.0.1:9\nalerts:\n  - url: ftp://ops:hunter2-pw@alerts.example/hook?token=hunter2-tk\n",
      );
      const text = messageOf(() => loadConfig({ env: {}, flags: { config: file } }));
      expect(text).toMatch(/alerts\[0\]\.url/);
      expect(text).not.toContain("hunter2");
    } finally {
      remove();
    }
  });
});
