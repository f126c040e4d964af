import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterEach, describe, expect, test } from "vitest";
import { createAdminApp } from "../../src/admin/app.js";
import { loadConfig } from "../../src/config/index.js";
import { createIngestApp } from "../../src/ingest/app.js";

// An error nobody planned for (a corrupt database, a bug) answers a bare 500 `internal`: its text
// can name files, SQL or upstream addresses, and the ingest listener faces the internet. The
// operator finds it in the log, with the request it broke.
const SECRET = "SQLITE_CORRUPT: database disk image is malformed (/var/lib/hookbuffer/secret.db)";

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function listen(fetch: (req: Request) => Response | Promise<Response>): Promise<string> {
  const server = serve({ fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  closers.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("an unexpected error", () => {
  test("on the ingest listener: a bare 500 for the provider, the error and the request in the report", async () => {
    const reports: Array<{ message: string; method: string; path: string }> = [];
    const config = loadConfig({ env: {}, flags: { upstream: "http://127.0.0.1:1" } });
    const app = createIngestApp({
      routes: config.routes,
      accept: async () => {
        throw new Error(SECRET);
      },
      bodyLimit: 1024,
      matchHandshake: () => null,
      passthrough: async () => new Response(null, { status: 204 }),
      reportError: (err, request) => reports.push({ message: err.message, ...request }),
    });
    const url = await listen(app.fetch);
    const res = await fetch(`${url}/hook`, { method: "POST", body: "{}" });
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toEqual({
      error: { code: "internal", message: "internal error; the server's log has the details" },
    });
    expect(text).not.toMatch(/SQLITE|secret|var\/lib/);
    expect(reports).toEqual([{ message: SECRET, method: "POST", path: "/hook" }]);
  });

  test("on the admin listener: the same", async () => {
    const reports: Array<{ message: string; method: string; path: string }> = [];
    const app = createAdminApp({
      token: null,
      now: Date.now,
      routeNames: ["default"],
      ready: () => true,
      stats: async () => {
        throw new Error(SECRET);
      },
      reportError: (err, request) => reports.push({ message: err.message, ...request }),
    });
    const url = await listen(app.fetch);
    const res = await fetch(`${url}/stats`);
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(JSON.parse(text).error.code).toBe("internal");
    expect(text).not.toMatch(/SQLITE|secret|var\/lib/);
    expect(reports).toEqual([{ message: SECRET, method: "GET", path: "/stats" }]);
  });
});
