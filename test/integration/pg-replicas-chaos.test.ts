/**
 * Several replicas of the real CLI on one PostgreSQL schema (README, Several replicas), with
 * kill -9 and a flapping upstream: nothing acknowledged is lost, dedup is global, per-key order
 * holds across replicas, and duplicates stay within what at-least-once allows.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { Agent, request } from "undici";
import { describe, expect } from "vitest";
import { leaseMs } from "../../src/app/storage-postgres.js";
import { type Arrival, startFlappyUpstream, type UpstreamMode } from "../helpers/flappy.js";
import { type Start, test } from "../helpers/harness.js";
import { waitFor } from "../helpers/hookbuffer.js";
import { createTestSchema, findTestPostgres } from "../helpers/postgres.js";
import { type Child, spawnHookbuffer } from "../helpers/process.js";

const server = await findTestPostgres();

/** Seeded PRNG (mulberry32), so a failing run can be replayed from the seed it prints. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REPLICAS = 3;
const KEYS = 10;
const PER_KEY = 60;
/** Between two webhooks of one key: 60 per key take about 20 s. */
const SPACING_MS = 330;
const KILLS = 4;
/** delivery.concurrency: how many attempts one replica can have in flight when it is killed. */
const CONCURRENCY = 4;
const MODES: UpstreamMode[] = ["error", "hang", "reset", "refuse"];

/** A schema of the test's own on the test server, dropped after it. */
async function schemaFor(start: Start, url: string): Promise<string> {
  const schema = await createTestSchema(url);
  start.cleanup(() => schema.drop());
  return schema.name;
}

/** One replica: the built CLI on the shared schema, killed (-9) after the test if it still runs. */
async function spawnReplica(start: Start, config: string, url: string): Promise<Child> {
  const child = await spawnHookbuffer(["--config", config, "--database-url", url]);
  start.cleanup(async () => {
    child.proc.kill("SIGKILL");
    await child.exited;
  });
  return child;
}

function writeConfig(start: Start, text: string): string {
  const file = join(start.dir(), "hookbuffer.yaml");
  writeFileSync(file, text);
  return file;
}

interface Reply {
  status: number;
  id?: string;
  outcome?: string;
}

/** POSTs a webhook; null when the replica could not be reached or died mid-request (not acknowledged). */
async function post(agent: Agent, base: string, body: Buffer): Promise<Reply | null> {
  try {
    const res = await request(`${base}/hook`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
      dispatcher: agent,
    });
    const text = await res.body.text();
    try {
      const json = JSON.parse(text) as { id?: string; status?: string };
      return {
        status: res.statusCode,
        ...(json.id && { id: json.id }),
        ...(json.status && { outcome: json.status }),
      };
    } catch {
      return { status: res.statusCode };
    }
  } catch {
    return null;
  }
}

/** Index of the first arrival of `eventId` that matches, or -1. */
function firstIndex(arrivals: Arrival[], eventId: string, ok: boolean): number {
  return arrivals.findIndex((a) => a.eventId === eventId && (!ok || a.answered === "ok"));
}

describe.skipIf(server.url === null)(
  `replicas on one PostgreSQL schema (${server.skip ?? "real server"})`,
  () => {
    test("3 replicas, kill -9 and a flapping upstream: nothing acknowledged is lost, dedup is global, per-key order holds", async ({
      start,
    }) => {
      const url = server.url as string;
      const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31);
      const random = prng(seed);
      const up = start.track(await startFlappyUpstream());
      const schema = await schemaFor(start, url);
      const config = writeConfig(
        start,
        `upstream: ${up.url}
storage:
  schema: ${schema}
delivery:
  timeout: 500ms
  connect_timeout: 200ms
  concurrency: ${CONCURRENCY}
  retry: {exponential: {base: 50ms, factor: 2, max_delay: 500ms, max_attempts: 100000}}
  breaker: {failures: 5, cooldown: 100ms, max_cooldown: 500ms}
  ordering: {key: /key}
  dedup: {json: /id}
`,
      );
      // Started one after the other: the first runs the migrations, the others find them done.
      const replicas: Array<Child | null> = [];
      for (let i = 0; i < REPLICAS; i++) replicas.push(await spawnReplica(start, config, url));

      // Short timeouts: a request to a killed replica must fail fast, not wait for undici's defaults.
      const agent = start.track(
        new Agent({ headersTimeout: 3_000, bodyTimeout: 3_000, connect: { timeout: 1_000 } }),
      );
      let turn = 0;
      /** The next replica that is up, round-robin; `not` skips the one a webhook was acknowledged by. */
      async function next(not?: Child): Promise<Child> {
        for (;;) {
          for (let i = 0; i < REPLICAS; i++) {
            const r = replicas[turn++ % REPLICAS];
            if (r && r !== not) return r;
          }
          await sleep(20);
        }
      }

      interface Ack {
        key: number;
        n: number;
        id: string;
        body: Buffer;
      }
      /** Per key, in the order acknowledged (one key's webhooks are sent one after the other). */
      const acks: Ack[][] = Array.from({ length: KEYS }, () => []);
      const gaveUp: string[] = [];
      const dedupBroken: string[] = [];
      let refused = 0;
      let resent = 0;
      const began = Date.now();

      async function sendKey(key: number): Promise<void> {
        for (let n = 0; n < PER_KEY; n++) {
          const due = began + n * SPACING_MS + (key * SPACING_MS) / KEYS;
          if (due > Date.now()) await sleep(due - Date.now());
          const body = Buffer.from(
            JSON.stringify({
              id: `k${key}-${n}`,
              key: `k${key}`,
              n,
              pad: "x".repeat(Math.floor(random() * 300)),
            }),
          );
          // A provider retries until acknowledged: a replica killed after its commit but before its
          // answer makes the retry a duplicate, answered with the stored id.
          let ack: { reply: Reply; via: Child } | undefined;
          for (let tries = 0; tries < 100 && !ack; tries++) {
            const via = await next();
            const reply = await post(agent, via.ingestUrl, body);
            if (reply?.status === 200 && reply.id) ack = { reply, via };
            else {
              refused++;
              await sleep(30);
            }
          }
          if (!ack?.reply.id) {
            gaveUp.push(`k${key}-${n}`);
            continue;
          }
          const id = ack.reply.id;
          acks[key]?.push({ key, n, id, body });
          // Every 6th webhook again through another replica: dedup is global, so it is the same event.
          if (n % 6 === 3) {
            for (let tries = 0; tries < 100; tries++) {
              const reply = await post(agent, (await next(ack.via)).ingestUrl, body);
              if (reply?.status !== 200) {
                await sleep(30);
                continue;
              }
              resent++;
              if (reply.outcome !== "duplicate" || reply.id !== id)
                dedupBroken.push(`k${key}-${n}: ${id} then ${reply.outcome} ${reply.id}`);
              break;
            }
          }
        }
      }

      let sending = true;
      const senders = Promise.all(Array.from({ length: KEYS }, (_, key) => sendKey(key))).finally(() => {
        sending = false;
      });

      const flapper = (async () => {
        while (sending) {
          await up.setMode("ok");
          await sleep(300 + random() * 900);
          if (!sending) break;
          await up.setMode(MODES[Math.floor(random() * MODES.length)] as UpstreamMode);
          await sleep(200 + random() * 600);
        }
        await up.setMode("ok");
      })();

      let kills = 0;
      const killer = (async () => {
        const every = (PER_KEY * SPACING_MS) / (KILLS + 1);
        for (let i = 0; i < KILLS; i++) {
          await sleep(every * (0.6 + 0.6 * random()));
          const slot = Math.floor(random() * REPLICAS);
          const victim = replicas[slot] as Child;
          replicas[slot] = null;
          victim.proc.kill("SIGKILL");
          expect(await victim.exited).toBe("SIGKILL");
          kills++;
          await sleep(200 + random() * 500);
          replicas[slot] = await spawnReplica(start, config, url);
        }
      })();

      await Promise.all([senders, flapper, killer]);
      const acked = acks.flat();
      const ackedIds = new Set(acked.map((a) => a.id));
      const deliveredIds = () => new Set(up.delivered.map((d) => d.eventId));
      await waitFor(
        () => {
          const ids = deliveredIds();
          return [...ackedIds].every((id) => ids.has(id));
        },
        40_000,
        "every acknowledged webhook to be delivered",
      ).catch(() => undefined); // reported precisely below

      const arrivals = [...up.arrivals];
      const delivered = [...up.delivered];
      const copies = new Map<string, Buffer[]>();
      for (const d of delivered) copies.set(d.eventId, [...(copies.get(d.eventId) ?? []), d.body]);
      const lost = acked.filter((a) => !copies.has(a.id)).map((a) => `k${a.key}-${a.n} ${a.id}`);
      const corrupted = acked.filter((a) => (copies.get(a.id) ?? []).some((b) => !b.equals(a.body)));
      const unacked = [...copies.keys()].filter((id) => !ackedIds.has(id));
      const duplicates = [...copies.values()].reduce((sum, c) => sum + c.length - 1, 0);
      // Stored once: every delivery of one provider id carries the one event id it was acknowledged with.
      const eventsPerProviderId = new Map<string, Set<string>>();
      for (const d of delivered) {
        const providerId = (JSON.parse(d.body.toString()) as { id: string }).id;
        eventsPerProviderId.set(
          providerId,
          (eventsPerProviderId.get(providerId) ?? new Set()).add(d.eventId),
        );
      }
      const storedTwice = [...eventsPerProviderId].filter(([, ids]) => ids.size > 1).map(([p]) => p);

      // Per-key order, exact under at-least-once: the next event of a key is claimable only once the
      // previous one is closed (delivered) in the database, and that commit follows the upstream's 200.
      // So the FIRST attempt of event n+1 reaches the upstream after the FIRST 200 of event n, whatever
      // the kills: a replica killed between the upstream's 200 and its commit leaves event n open, and
      // its redelivery (a duplicate) comes before event n+1, not after. Duplicates of an earlier event
      // after a later one's first attempt would need that order broken, so none are allowed here.
      const outOfOrder: string[] = [];
      for (const keyAcks of acks) {
        for (let i = 1; i < keyAcks.length; i++) {
          const prev = keyAcks[i - 1] as Ack;
          const cur = keyAcks[i] as Ack;
          const prevOk = firstIndex(arrivals, prev.id, true);
          const curFirst = firstIndex(arrivals, cur.id, false);
          if (curFirst !== -1 && (prevOk === -1 || curFirst < prevOk))
            outOfOrder.push(
              `k${cur.key}: #${cur.n} arrived (${curFirst}) before #${prev.n} was delivered (${prevOk})`,
            );
        }
      }

      console.log(
        `pg replicas chaos seed=${seed}: sent ${KEYS * PER_KEY}, acked ${acked.length}, not acked on a try ${refused}, ` +
          `resent through another replica ${resent}, kills ${kills}, upstream saw ${arrivals.length} requests, ` +
          `delivered ${delivered.length}, duplicate deliveries ${duplicates}, lost ${lost.length}, ` +
          `out of order ${outOfOrder.length}, stored twice ${storedTwice.length}, ${Date.now() - began} ms`,
      );
      expect(kills).toBe(KILLS);
      expect(gaveUp, `gave up (seed ${seed})`).toEqual([]);
      expect(acked.length).toBe(KEYS * PER_KEY);
      expect(lost, `lost (seed ${seed})`).toEqual([]);
      expect(
        corrupted.map((a) => a.id),
        `corrupted (seed ${seed})`,
      ).toEqual([]);
      expect(unacked, `delivered but never acknowledged (seed ${seed})`).toEqual([]);
      expect(dedupBroken, `a resend through another replica was stored again (seed ${seed})`).toEqual([]);
      expect(storedTwice, `provider ids stored as two events (seed ${seed})`).toEqual([]);
      expect(resent).toBe(
        KEYS * Array.from({ length: PER_KEY }, (_, n) => n).filter((n) => n % 6 === 3).length,
      );
      expect(outOfOrder, `per-key order (seed ${seed})`).toEqual([]);
      // A duplicate needs a replica killed between the upstream's 200 and its commit: at most the
      // attempts it had in flight.
      expect(duplicates, `duplicates (seed ${seed})`).toBeLessThanOrEqual(kills * CONCURRENCY);

      // Stopping is clean on PostgreSQL too.
      for (const r of replicas) r?.proc.kill("SIGTERM");
      for (const r of replicas) expect(await r?.exited).toBe(0);
    }, 120_000);

    test("a replica killed mid-delivery: another one delivers the event once the lease runs out", async ({
      start,
    }) => {
      const url = server.url as string;
      const up = start.track(await startFlappyUpstream());
      const schema = await schemaFor(start, url);
      const TIMEOUT_MS = 3_000;
      const config = writeConfig(
        start,
        `upstream: ${up.url}
storage:
  schema: ${schema}
delivery:
  timeout: ${TIMEOUT_MS}ms
  retry: {schedule: [0s, 100ms, 100ms, 100ms]}
`,
      );
      await up.setMode("hang");
      // Both up before the webhook: whichever claims it, the other must wait for its lease.
      const replicas = [await spawnReplica(start, config, url), await spawnReplica(start, config, url)];
      const agent = start.track(new Agent());
      const body = Buffer.from('{"events":[{"type":"message","n":1}]}');
      // Before the post: the claim may come before the ack reaches this process.
      const sentAt = Date.now();
      const ack = await post(agent, (replicas[0] as Child).ingestUrl, body);
      expect(ack).toMatchObject({ status: 200, outcome: "accepted" });
      await waitFor(() => up.arrivals.length === 1, 10_000, "the first attempt");
      expect(up.arrivals[0]?.eventId).toBe(ack?.id);

      // The lease in the row names its holder (host:pid:...): kill that replica mid-attempt.
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const { rows } = await db
        .query<{ locked_by: string; lease_until: string }>(
          `SELECT locked_by, lease_until FROM ${schema}.events WHERE status = 'pending'`,
        )
        .finally(() => db.end());
      const lease = rows[0] as { locked_by: string; lease_until: string };
      const holder = replicas.find((r) => lease.locked_by.split(":")[1] === String(r.proc.pid));
      const other = replicas.find((r) => r !== holder) as Child;
      expect(holder, `lease holder ${lease.locked_by}`).toBeDefined();
      holder?.proc.kill("SIGKILL");
      expect(await holder?.exited).toBe("SIGKILL");
      // Still the first attempt when the holder died (not a retry after its timeout).
      expect(up.arrivals).toHaveLength(1);
      await up.setMode("ok");

      await waitFor(() => up.delivered.length >= 1, 20_000, "the other replica to deliver");
      const deliveredAt = Date.now();
      expect(up.delivered.map((d) => d.eventId)).toEqual([ack?.id]);
      expect(up.delivered[0]?.body.equals(body)).toBe(true);
      // The lease is 2 x timeout + 2 s from the claim, and nobody takes the event over before it ends.
      expect(Number(lease.lease_until) - sentAt).toBeGreaterThanOrEqual(leaseMs(TIMEOUT_MS));
      expect(deliveredAt).toBeGreaterThan(Number(lease.lease_until));
      // Only two requests: the one the killed replica sent, and the delivery.
      await sleep(300);
      expect(up.arrivals.map((a) => a.answered)).toEqual(["hang", "ok"]);

      other.proc.kill("SIGTERM");
      expect(await other.exited).toBe(0);
    }, 60_000);
  },
);
