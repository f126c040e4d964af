import type { Logger } from "pino";
import type { AlertConfig } from "../config/types.js";
import type { DeliveryHooks } from "../deliver/deliverer.js";
import {
  type AlertEvent,
  type AlertPayload,
  backlogOld,
  breakerClosed,
  breakerOpened,
  type StorageProblem,
  storageFailing,
  storageRecovered,
  throttled,
  wentDead,
} from "./messages.js";
import { type PostOptions, postAlert } from "./post.js";

export interface AlerterDeps {
  alerts: AlertConfig[];
  now: () => number;
  log: Logger;
  /** received_at (epoch ms) of the oldest undelivered event, or null. */
  oldestOpenReceivedAt: () => number | null;
  /** Events not yet delivered or dead, for the backlog message. */
  openCount: () => number;
  fetch?: typeof fetch;
  /** Retry policy for one alert; defaults: 3 tries, 5 s each, 1 s then 2 s apart. */
  post?: Partial<Omit<PostOptions, "signal" | "fetch">>;
  /** At most one `dead` message per route per this window (ms); default one minute. */
  deadWindowMs?: number;
  /** A first dead event waits this long so a burst becomes one message (ms); default 1 s. */
  deadGatherMs?: number;
  /** How often the backlog age is checked (ms); default the smallest threshold / 4, at most 30 s. */
  checkEveryMs?: number;
}

interface DeadTally {
  count: number;
  last: { reason: string | null; detail: string | null };
  lastSentAt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Posts incident webhooks. Everything is fire and forget: hooks only start a background post, so
 * a slow or broken receiver can never hold up delivery. Each condition alerts once per episode.
 */
export function createAlerter(deps: AlerterDeps) {
  const { log } = deps;
  const shutdown = new AbortController();
  const inflight = new Set<Promise<unknown>>();
  const postOptions: PostOptions = {
    tries: deps.post?.tries ?? 3,
    timeoutMs: deps.post?.timeoutMs ?? 5_000,
    backoffMs: deps.post?.backoffMs ?? 1_000,
    signal: shutdown.signal,
    fetch: deps.fetch ?? fetch,
  };
  const deadWindowMs = deps.deadWindowMs ?? 60_000;
  const deadGatherMs = deps.deadGatherMs ?? 1_000;
  const dead = new Map<string, DeadTally>();
  // One backlog episode per alert target: thresholds differ between targets.
  const backlogEpisode = deps.alerts.map(() => false);
  let checker: NodeJS.Timeout | undefined;

  function send(event: AlertEvent, payload: AlertPayload, only?: AlertConfig): void {
    if (shutdown.signal.aborted) return;
    for (const target of only ? [only] : deps.alerts) {
      if (!target.events.includes(event)) continue;
      const p = postAlert(target.url, payload, postOptions).then((outcome) => {
        if (!outcome.ok && outcome.error !== "stopped") {
          log.warn(
            { event, route: payload.route, tries: outcome.tries, error: outcome.error },
            "alert not delivered",
          );
        }
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
  }

  function flushDead(route: string): void {
    const tally = dead.get(route);
    if (!tally) return;
    tally.timer = undefined;
    if (tally.count === 0) return;
    const now = deps.now();
    send("dead", wentDead(route, tally.count, tally.last, now));
    tally.count = 0;
    tally.lastSentAt = now;
  }

  function checkBacklog(): void {
    const oldest = deps.oldestOpenReceivedAt();
    const now = deps.now();
    const age = oldest === null ? 0 : Math.max(0, now - oldest);
    deps.alerts.forEach((target, i) => {
      const over = age > target.backlogAgeMs;
      if (over && !backlogEpisode[i])
        send("backlog_age", backlogOld(age, target.backlogAgeMs, deps.openCount(), now), target);
      backlogEpisode[i] = over;
    });
  }

  const hooks: Required<DeliveryHooks> = {
    attempt(route, _event, result, update) {
      if (update.status !== "dead") return;
      let tally = dead.get(route.name);
      if (!tally) {
        tally = {
          count: 0,
          last: { reason: null, detail: null },
          lastSentAt: Number.NEGATIVE_INFINITY,
          timer: undefined,
        };
        dead.set(route.name, tally);
      }
      tally.count++;
      tally.last = { reason: result.failure?.reason ?? null, detail: result.failure?.detail ?? null };
      if (tally.timer || shutdown.signal.aborted) return;
      const wait = Math.max(deadGatherMs, tally.lastSentAt + deadWindowMs - deps.now());
      tally.timer = setTimeout(() => flushDead(route.name), wait);
      tally.timer.unref();
    },
    gate(route, before, after) {
      const now = deps.now();
      if (after.state === "open" && before.state !== "open") {
        send("breaker_open", breakerOpened(route.name, after.disabled, after.consecutiveFailures, now));
      } else if (before.state === "open" && after.state === "active") {
        send("breaker_closed", breakerClosed(route.name, now));
      }
    },
    throttle(route, status, started) {
      // Once per episode: its start. Its end is in the log and in /stats.
      if (started) send("throttled", throttled(route.name, status, deps.now()));
    },
    outcomesStalled(stall) {
      storage("outcomes_unrecorded", stall === null ? null : (stall.code ?? "write failed"));
    },
  };

  const storageEpisodes = new Set<StorageProblem>();
  /** A storage problem starts (`detail`) or ends (null); alerts once each per episode. */
  function storage(problem: StorageProblem, detail: string | null): void {
    if (detail !== null && !storageEpisodes.has(problem)) {
      storageEpisodes.add(problem);
      send("storage_failing", storageFailing(problem, detail, deps.now()));
    } else if (detail === null && storageEpisodes.delete(problem)) {
      send("storage_recovered", storageRecovered(problem, deps.now()));
    }
  }

  return {
    hooks,
    /** Starts the backlog-age check (an unref'd timer: it never keeps the process alive). */
    start(): void {
      if (deps.alerts.length === 0 || checker) return;
      const smallest = Math.min(...deps.alerts.map((a) => a.backlogAgeMs));
      checker = setInterval(
        checkBacklog,
        deps.checkEveryMs ?? Math.max(1_000, Math.min(30_000, smallest / 4)),
      );
      checker.unref();
    },
    storage,
    /** Runs the backlog check now (tests, and the first check at start-up). */
    checkBacklog,
    /** Stops timers and cuts in-flight posts short; resolves once they have settled. */
    async stop(): Promise<void> {
      if (checker) clearInterval(checker);
      for (const tally of dead.values()) if (tally.timer) clearTimeout(tally.timer);
      shutdown.abort();
      await Promise.allSettled([...inflight]);
    },
  };
}

export type Alerter = ReturnType<typeof createAlerter>;
