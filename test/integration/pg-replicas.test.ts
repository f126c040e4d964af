// Several hookbuffers on one PostgreSQL schema, in this process (real listeners, real upstream,
// real server): the guarantees that only exist across replicas — a shared breaker with one probe
// cluster-wide, global dedup — and what a replica does when the database goes away or refuses.
import { writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { describe, expect } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/log.js";
import { start as startHookbuffer } from "../../src/main.js";
import { type Start, test } from "../helpers/harness.js";
import { getJson, SEND_THREAD, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import { createTestSchema, findTestPostgres } from "../helpers/postgres.js";
import { runCli } from "../helpers/process.js";

const server = await findTestPostgres();

interface Replica {
  ingestUrl: string;
  adminUrl: string;
  logs: string[];
  stop(): Promise<void>;
}

/** One hookbuffer on `url` and `schema`, stopped after the test. */
async function replica(start: Start, url: string, schema: string, yaml: string): Promise<Replica> {
  const dir = start.dir();
  const file = join(dir, "config.yaml");
  writeFileSync(file, `${yaml}\nstorage: {schema: ${schema}}\n`);
  const config = loadConfig({
    env: {},
    flags: { config: file, port: "0", adminPort: "0", host: "127.0.0.1", databaseUrl: url },
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  const running = await startHookbuffer({
    config,
    log: createLogger({ level: "debug", destination: sink }),
    sendThreadScript: SEND_THREAD,
  });
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= running.stop(2_000);
    return stopped;
  };
  start.cleanup(stop);
  return {
    ingestUrl: `http://127.0.0.1:${running.ingest.port}`,
    adminUrl: `http://127.0.0.1:${running.admin.port}`,
    logs,
    stop,
  };
}

interface RouteView {
  state: string;
  disabled: { code: number } | null;
}

// biome-ignore lint/suspicious/noExplicitAny: the admin API's JSON, read field by field
const json = async (u: string): Promise<any> => (await fetch(u)).json();

const routeOf = async (r: Replica) => (await getJson(`${r.adminUrl}/stats`)).routes[0] as RouteView;

/** A TCP proxy in front of PostgreSQL that a test can cut (every connection dropped) and restore. */
async function startProxy(target: URL) {
  const sockets = new Set<Socket>();
  let listener: Server | null = null;
  let port = 0;
  const restore = () =>
    new Promise<void>((resolve) => {
      const l = createServer((client) => {
        const db = connect(Number(target.port || 5432), target.hostname);
        sockets.add(client).add(db);
        client.pipe(db).pipe(client);
        const end = () => {
          client.destroy();
          db.destroy();
          sockets.delete(client);
          sockets.delete(db);
        };
        client.on("error", end).on("close", end);
        db.on("error", end).on("close", end);
      });
      listener = l;
      l.listen(port, "127.0.0.1", () => {
        port = (l.address() as { port: number }).port;
        resolve();
      });
    });
  const cut = async () => {
    const l = listener;
    listener = null;
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (l) await new Promise<void>((resolve) => l.close(() => resolve()));
  };
  await restore();
  const u = new URL(target.toString());
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return { url: u.toString(), cut, restore, close: cut };
}

describe.skipIf(server.url === null)("replicas on one PostgreSQL", () => {
  const url = server.url as string;
  // Each test gets its own schema: replicas of one test share it.
  const fresh = async (start: Start) => {
    const s = await createTestSchema(url);
    start.cleanup(() => s.drop());
    return s.name;
  };

  test("the breaker is shared: failures spread over three replicas open the route on all of them, and one probe runs cluster-wide", {
    timeout: 60_000,
  }, async ({ start, up }) => {
    up.reply(() => ({ status: 503 }));
    const name = await fresh(start);
    const yaml = `upstream: ${up.url}
delivery:
  timeout: 500ms
  concurrency: 1
  retry: {schedule: [0s, 1h]}
  breaker: {failures: 5, cooldown: 600ms, max_cooldown: 600ms}`;
    const replicas = [
      await replica(start, url, name, yaml),
      await replica(start, url, name, yaml),
      await replica(start, url, name, yaml),
    ];
    // Five webhooks round-robin: one failed attempt each (the retry is an hour away), so no
    // replica alone reaches five failures.
    for (let i = 0; i < 5; i++) {
      const r = await post(`${(replicas[i % 3] as Replica).ingestUrl}/`, `{"n":${i}}`);
      expect(r.status).toBe(200);
    }
    for (const r of replicas) {
      const open = await waitFor(
        async () => {
          const v = await routeOf(r);
          return v.state === "open" ? v : undefined;
        },
        20_000,
        "the route to open on every replica",
      );
      expect(open.disabled).toMatchObject({ code: 25003 });
    }
    // While the upstream stays down, each cooldown lets one probe through, whichever replica takes
    // it. New webhooks on every replica are what the probes may take.
    const openedAt = Date.now();
    const before = up.requests.length;
    for (const r of replicas) expect((await post(`${r.ingestUrl}/`, '{"probe":true}')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const probes = up.requests.slice(before).map((q) => q.at);
    const cooldowns = Math.ceil((Date.now() - openedAt) / 600) + 1;
    // A failed probe ends its lease: the next cooldown has its own probe.
    expect(probes.length).toBeGreaterThanOrEqual(2);
    expect(probes.length).toBeLessThanOrEqual(cooldowns);
    // Never two probes inside one cooldown.
    for (let i = 1; i < probes.length; i++) {
      expect((probes[i] as number) - (probes[i - 1] as number)).toBeGreaterThanOrEqual(500);
    }
    // The upstream recovers: the next probe (a new webhook, the others wait an hour) closes the
    // route everywhere.
    up.reply(() => ({ status: 200 }));
    expect((await post(`${(replicas[0] as Replica).ingestUrl}/`, '{"after":true}')).status).toBe(200);
    for (const r of replicas) {
      await waitFor(
        async () => (await routeOf(r)).state === "active",
        20_000,
        "the route to close everywhere",
      );
    }
  });

  test("dedup is global: one provider delivery id through two replicas is stored and delivered once", {
    timeout: 60_000,
  }, async ({ start, up }) => {
    const name = await fresh(start);
    const yaml = `upstream: ${up.url}\ndelivery: {dedup: {header: X-Delivery-Id}}`;
    const a = await replica(start, url, name, yaml);
    const b = await replica(start, url, name, yaml);
    const first = await post(`${a.ingestUrl}/`, '{"n":1}', { "X-Delivery-Id": "d-1" });
    const again = await post(`${b.ingestUrl}/`, '{"n":1}', { "X-Delivery-Id": "d-1" });
    expect(first.json).toMatchObject({ status: "accepted" });
    expect(again.json).toEqual({ status: "duplicate", id: first.json.id });
    await waitFor(() => up.requests.length >= 1, 20_000, "the delivery");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(up.requests).toHaveLength(1);
    const stats = await getJson(`${b.adminUrl}/stats`);
    expect(stats.totals).toMatchObject({ received: 1, duplicates: 1, delivered: 1 });
    // The queue gauges read the shared database, and say so.
    const metrics = await (await fetch(`${a.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/# HELP hookbuffer_queue_events .*Cluster-wide on PostgreSQL/);
    expect(metrics).toMatch(/hookbuffer_queue_events\{route="default",status="delivered"\} 1/);
  });

  test("pause, /events and redeliver on one replica act on the whole cluster", { timeout: 60_000 }, async ({
    start,
    up,
  }) => {
    const name = await fresh(start);
    const yaml = `upstream: ${up.url}`;
    const a = await replica(start, url, name, yaml);
    const b = await replica(start, url, name, yaml);
    const admin = (r: Replica, path: string) =>
      fetch(`${r.adminUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
    expect((await admin(a, "/routes/default/pause")).status).toBe(200);
    // Within the refresh period every replica holds its deliveries.
    await waitFor(async () => (await routeOf(b)).state === "paused", 10_000, "replica b to see the pause");
    const posted = await post(`${b.ingestUrl}/`, '{"n":1}');
    expect(posted.status).toBe(200);
    const id = posted.json.id as string;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(up.requests).toHaveLength(0);
    // A's admin API lists and shows the event B stored.
    const listed = await json(`${a.adminUrl}/events?status=pending`);
    expect(listed.events.map((e: { id: string }) => e.id)).toEqual([id]);
    expect((await admin(b, "/routes/default/resume")).status).toBe(200);
    await waitFor(() => up.requests.length === 1, 10_000, "the delivery after resume");
    // Redelivered from A, delivered again by whichever replica claims it.
    await waitFor(
      async () => (await json(`${a.adminUrl}/events/${id}`)).status === "delivered",
      10_000,
      "delivered",
    );
    expect((await admin(a, `/events/${id}/redeliver`)).status).toBe(202);
    await waitFor(() => up.requests.length === 2, 10_000, "the redelivery");
    // B shows both attempts (once the second outcome commits) and the redelivery in the history.
    const detail = await waitFor(
      async () => {
        const d = await json(`${b.adminUrl}/events/${id}`);
        return d.attempts.length === 2 ? d : undefined;
      },
      10_000,
      "the second attempt",
    );
    expect(detail.history).toHaveLength(1);
  });

  test("a database that cannot be reached gets 503 with Retry-After, never a 200; acknowledged webhooks are all delivered once it is back", {
    timeout: 60_000,
  }, async ({ start, up }) => {
    const name = await fresh(start);
    const proxy = await startProxy(new URL(url));
    start.cleanup(() => proxy.close());
    const r = await replica(start, proxy.url, name, `upstream: ${up.url}`);
    const acked: string[] = [];
    const ok = await post(`${r.ingestUrl}/`, '{"n":1}');
    expect(ok.status).toBe(200);
    acked.push(ok.json.id as string);
    await proxy.cut();
    const refused = await post(`${r.ingestUrl}/`, '{"n":2}');
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(refused.json.error?.message).toMatch(/could not be stored/);
    await proxy.restore();
    const back = await waitFor(
      async () => {
        const p = await post(`${r.ingestUrl}/`, '{"n":3}');
        return p.status === 200 ? p : undefined;
      },
      20_000,
      "ingest to take webhooks again",
    );
    acked.push(back.json.id as string);
    await waitFor(
      () =>
        acked.every((id) =>
          up.requests.some((q) =>
            q.headers.some(([k, v]) => k.toLowerCase() === "x-hookbuffer-event-id" && v === id),
          ),
        ),
      30_000,
      "every acknowledged webhook to be delivered",
    );
  });

  test("a database that refuses the write gets 503, not a 200", { timeout: 60_000 }, async ({
    start,
    up,
  }) => {
    const name = await fresh(start);
    const r = await replica(start, url, name, `upstream: ${up.url}`);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    start.cleanup(() => admin.end());
    await admin.query(`ALTER TABLE ${name}.events ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`);
    const refused = await post(`${r.ingestUrl}/`, '{"n":1}');
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    await admin.query(`ALTER TABLE ${name}.events DROP CONSTRAINT refuse_all`);
    expect((await post(`${r.ingestUrl}/`, '{"n":2}')).status).toBe(200);
  });

  test("start-up against a database that cannot be reached is one line and exit 2, the password hidden", {
    timeout: 60_000,
  }, async () => {
    const result = await runCli(["--upstream", "http://127.0.0.1:9", "--port", "0", "--admin-port", "0"], {
      env: { HOOKBUFFER_DATABASE_URL: "postgres://hb:s3cret@127.0.0.1:1/hookbuffer" },
      timeoutMs: 15_000,
    });
    expect(result.code).toBe(2);
    expect(result.output.trim().split("\n")).toHaveLength(1);
    expect(result.output).toMatch(/storage\.url/);
    expect(result.output).not.toContain("s3cret");
  });
});
