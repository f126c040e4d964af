import { execFile } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { runAdminCommand } from "../../src/cli/admin-commands.js";
import { USAGE } from "../../src/cli/usage.js";
import { type Start, test } from "../helpers/harness.js";
import { waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import type { Recorder } from "../helpers/recorder.js";
import { tempDir } from "../helpers/temp.js";
import { testStore } from "../helpers/test-store.js";

const TOKEN = "s3cret";
const ROOT = resolve(import.meta.dirname, "../..");

function capture() {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

/** Runs one admin command in this process against the admin API at `adminUrl`, capturing both streams. */
async function runCli(adminUrl: string, args: string[], env: Record<string, string> = {}) {
  const [name = "", ...rest] = args;
  const out = capture();
  const err = capture();
  const base = { HOOKBUFFER_ADMIN_URL: adminUrl, HOOKBUFFER_ADMIN_TOKEN: TOKEN };
  const code = await runAdminCommand(name, rest, { ...base, ...env }, out.stream, err.stream);
  return { code, stdout: out.text(), stderr: err.text() };
}

/** Route a with 500s for paths containing "fail" (one attempt, then dead) and route b. */
async function open(start: Start, up: Recorder) {
  up.reply((req) => ({ status: req.url.includes("fail") ? 500 : 200 }));
  const server = await start.hookbuffer({
    yaml: [
      `upstream: ${up.url}`,
      "delivery: {retry: {schedule: [0s]}, breaker: {failures: 0}}",
      `admin: {token: ${TOKEN}}`,
      "routes:",
      "  - {name: a, path: /a}",
      "  - {name: b, path: /b}",
    ].join("\n"),
  });
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(server.adminUrl, args, env);
  const ingest = async (path: string) => (await post(`${server.ingestUrl}${path}`)).json.id as string;
  const dead = async () =>
    JSON.parse((await cli(["events", "--status", "dead", "--json"])).stdout).events.length;
  return { recorder: up, server, cli, ingest, dead };
}

describe("admin CLI", () => {
  test("stats prints totals, reason/detail/count rows, the queue and route states as a table", async ({
    start,
    up,
  }) => {
    const { cli, ingest, dead } = await open(start, up);
    await ingest("/a/ok");
    await ingest("/b/ok");
    await ingest("/a/fail");
    await waitFor(async () => (await dead()) === 1, 5_000, "one dead event");
    await waitFor(async () => (await cli(["stats", "--json"])).stdout.includes('"delivered": 2'));

    const res = await cli(["stats"]);
    expect(res).toMatchObject({ code: 0, stderr: "" });
    expect(res.stdout).toMatch(/Received\s+3\n/);
    expect(res.stdout).toMatch(/Delivered\s+2\n/);
    expect(res.stdout).toMatch(/Success rate\s+66\.7%/);
    expect(res.stdout).toMatch(/Reason\s+Detail\s+Count\n\s+error_status_code\s+500\s+1/);
    expect(res.stdout).toContain("Queue: pending 0, delivering 0, delivered 2, dead 1");
    expect(res.stdout).toMatch(/a\s+active\s+0\s+-/);

    const onlyB = await cli(["stats", "--route", "b", "--json"]);
    expect(JSON.parse(onlyB.stdout).totals).toMatchObject({ received: 1, delivered: 1, failed_attempts: 0 });
  });

  test("events lists with filters, and --json prints the API's page with its cursor", async ({
    start,
    up,
  }) => {
    const { cli, ingest, dead } = await open(start, up);
    const ok = await ingest("/a/ok");
    const failed = await ingest("/a/fail");
    await waitFor(async () => (await dead()) === 1, 5_000, "one dead event");

    const res = await cli(["events", "--status", "dead", "--route", "a"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`${failed}\\s+a\\s+dead\\s+1\\s+\\S+Z\\s+error_status_code: 500`));
    expect(res.stdout).not.toContain(ok);
    const page = JSON.parse((await cli(["events", "--limit", "1", "--json"])).stdout);
    expect(page.events.map((e: { id: string }) => e.id)).toEqual([failed]);
    expect(page.next_cursor).toEqual(expect.any(String));
    const next = await cli(["events", "--limit", "1", "--cursor", page.next_cursor]);
    expect(next.stdout).toContain(ok);
  });

  test("redeliver takes one id or a status filter and the events get delivered", async ({ start, up }) => {
    const { recorder, cli, ingest, dead } = await open(start, up);
    const first = await ingest("/a/fail/1");
    await ingest("/a/fail/2");
    await ingest("/b/fail/3");
    await waitFor(async () => (await dead()) === 3, 5_000, "three dead events");
    recorder.reply(() => ({ status: 200 }));

    expect(await cli(["redeliver", first])).toEqual({
      code: 0,
      stdout: `event ${first}: queued for redelivery\n`,
      stderr: "",
    });
    await waitFor(async () => (await dead()) === 2, 5_000, "the first redelivered");
    const bulk = await cli(["redeliver", "--status", "dead", "--route", "a"]);
    expect(bulk).toMatchObject({ code: 0, stdout: "1 event queued for redelivery\n" });
    await waitFor(async () => (await dead()) === 1, 5_000, "route a redelivered");
    expect((await cli(["redeliver", "--status", "dead"])).stdout).toBe("1 event queued for redelivery\n");
    await waitFor(() => recorder.requests.length === 6, 5_000, "all three delivered on the second try");
    expect(await dead()).toBe(0);
  });

  test("events and redeliver search body pointers, headers and paths; a dry run lists and changes nothing", async ({
    start,
    up,
  }) => {
    const { recorder, server, cli, dead } = await open(start, up);
    const send = async (path: string, body: unknown, headers: Record<string, string> = {}) =>
      (await post(`${server.ingestUrl}${path}`, JSON.stringify(body), headers)).json.id as string;
    const u1 = await send("/a/fail", { user: { id: "U1" } }, { "X-Kind": "order" });
    const u2 = await send("/a/fail", { user: { id: "U2" } }, { "X-Kind": "refund" });
    await waitFor(async () => (await dead()) === 2, 5_000, "two dead events");

    const found = await cli(["events", "--json-match", "/user/id:U1", "--header", "x-kind:ord*"]);
    expect(found.code).toBe(0);
    expect(found.stdout).toContain(u1);
    expect(found.stdout).not.toContain(u2);
    expect(found.stdout).toMatch(/Search scanned \d+ rows; no index serves this filter/);
    const both = JSON.parse((await cli(["events", "--path", "/a/*", "--json"])).stdout);
    expect(both.events.map((e: { id: string }) => e.id)).toEqual([u2, u1]);

    const dry = await cli(["redeliver", "--json-match", "/user/id:U2", "--dry-run"]);
    expect(dry).toMatchObject({ code: 0, stdout: `1 event matches; first: ${u2}\n` });
    expect(await dead()).toBe(2);
    recorder.reply(() => ({ status: 200 }));
    const run = await cli(["redeliver", "--json-match", "/user/id:U2", "--request-id", "r-1"]);
    expect(run).toMatchObject({ code: 0, stdout: "1 event queued for redelivery\n" });
    await waitFor(async () => (await dead()) === 1, 5_000, "U2 redelivered");
  });

  test("pause and resume print the route's new state", async ({ start, up }) => {
    const { cli } = await open(start, up);
    expect((await cli(["pause", "a"])).stdout).toBe("route a: paused\n");
    expect(JSON.parse((await cli(["resume", "a", "--json"])).stdout)).toEqual({
      name: "a",
      state: "active",
      disabled: null,
    });
  });

  test("the API's error message goes to stderr with exit 1; usage mistakes exit 2", async ({ start, up }) => {
    const { cli } = await open(start, up);
    const missing = await cli(["redeliver", "01NOPE"]);
    expect(missing).toMatchObject({ code: 1, stdout: "" });
    expect(missing.stderr).toContain("no event with id 01NOPE (HTTP 404, no_event)");
    const noRoute = await cli(["pause", "nope"]);
    expect(noRoute.code).toBe(1);
    expect(noRoute.stderr).toContain("no route named nope");
    const denied = await cli(["events", "--token", "wrong"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("missing or wrong bearer token (HTTP 401");
    const down = await cli(["events"], { HOOKBUFFER_ADMIN_URL: "http://127.0.0.1:1" });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot reach the admin API at http://127.0.0.1:1");

    for (const args of [
      ["frobnicate"],
      ["events", "--bogus"],
      ["redeliver"],
      ["pause"],
      ["redeliver", "x", "--status", "dead"],
    ]) {
      const res = await cli(args);
      expect({ args, code: res.code }).toEqual({ args, code: 2 });
      expect(res.stderr).toContain("Admin commands");
    }
  });
});

// The CLI binary's own handling of argv and environment against the admin API: nothing of it depends
// on the store, and compiling it takes tens of seconds, so it runs in the SQLite project only.
describe.skipIf(testStore === "postgres")("built admin CLI", () => {
  const build = tempDir("hookbuffer-cli-build-");
  const exec = promisify(execFile);

  // Built into a temp dir, so dist/ (which other suites spawn) is never rewritten under them.
  beforeAll(async () => {
    await exec(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", build.dir],
      {
        cwd: ROOT,
      },
    ).catch((err: { stdout?: string }) => {
      // Type errors elsewhere still emit JavaScript; only a missing cli.js is fatal below.
      return err;
    });
    writeFileSync(join(build.dir, "package.json"), '{"type": "module"}\n');
    symlinkSync(join(ROOT, "node_modules"), join(build.dir, "node_modules"), "dir");
  }, 90_000);
  afterAll(() => build.remove());

  test("node dist/cli.js stats reads its settings from the environment and prints the table", async ({
    start,
    up,
  }) => {
    const { server, cli, ingest } = await open(start, up);
    await ingest("/a/ok");
    await waitFor(async () => (await cli(["stats", "--json"])).stdout.includes('"delivered": 1'));
    const { stdout } = await exec(process.execPath, [join(build.dir, "cli.js"), "stats", "--route", "a"], {
      env: {
        PATH: process.env.PATH ?? "",
        HOOKBUFFER_ADMIN_URL: server.adminUrl,
        HOOKBUFFER_ADMIN_TOKEN: TOKEN,
      },
    });
    expect(stdout).toMatch(/Received\s+1\n/);
    expect(stdout).toContain("(a)");

    const failed = await exec(process.execPath, [join(build.dir, "cli.js"), "resume", "nope"], {
      env: {
        PATH: process.env.PATH ?? "",
        HOOKBUFFER_ADMIN_URL: server.adminUrl,
        HOOKBUFFER_ADMIN_TOKEN: TOKEN,
      },
    }).catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining("no route named nope") });
  });

  test("--help, help and every usage mistake print the one help text", async () => {
    const run = (...args: string[]) =>
      exec(process.execPath, [join(build.dir, "cli.js"), ...args], { env: { PATH: process.env.PATH ?? "" } })
        .then((r) => ({ code: 0, ...r }))
        .catch((err: { code: number; stdout: string; stderr: string }) => err);
    expect(await run("--help")).toMatchObject({ code: 0, stdout: `${USAGE}\n` });
    expect(await run("help")).toMatchObject({ code: 0, stdout: `${USAGE}\n` });
    expect(await run("serve", "--help")).toMatchObject({ code: 0, stdout: `${USAGE}\n` });
    for (const args of [["--bogus"], ["serve", "--port"], ["frobnicate"], ["events", "--bogus"]]) {
      const res = await run(...args);
      expect({ args, code: res.code, stdout: res.stdout }).toEqual({ args, code: 2, stdout: "" });
      expect(res.stderr).toMatch(/^hookbuffer[ :]/);
      expect(res.stderr.endsWith(`\n\n${USAGE}\n`)).toBe(true);
    }
  });
});
