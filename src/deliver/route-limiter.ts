/**
 * One route's start-rate gate at run time: holds the limiter state (limiter.ts), re-pumps the route
 * when the next token is due, and reports throttle episodes (start and end) once each.
 */
import type { Logger } from "pino";
import type { RouteConfig } from "../config/types.js";
import type { AttemptResult, ThrottleStatus } from "../model.js";
import {
  afterResult,
  initialLimiter,
  isThrottled,
  type LimiterConfig,
  type LimiterState,
  take,
} from "./limiter.js";

export interface RouteLimiterDeps {
  route: RouteConfig;
  now: () => number;
  log: Logger;
  /** A token is due again: start what waits. */
  ready: () => void;
  /** A pause began: hand prefetched events back. */
  paused: () => void;
  /** A throttle episode started (true) or ended (false). */
  episode: (status: ThrottleStatus, started: boolean) => void;
}

export function createRouteLimiter(deps: RouteLimiterDeps) {
  const { route, log } = deps;
  const cfg: LimiterConfig = {
    limit: route.rateLimit,
    maxPauseMs: route.retry.maxDelayMs,
    concurrency: route.concurrency,
  };
  let state: LimiterState = initialLimiter(cfg, deps.now());
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function status(): ThrottleStatus {
    const paused = state.pausedUntil !== null && state.pausedUntil > deps.now();
    return {
      rate: route.rateLimit?.text ?? null,
      ratePerSecond: route.rateLimit?.perSecond ?? null,
      burst: route.rateLimit?.burst ?? null,
      currentPerSecond: paused ? 0 : state.perMs === null ? null : state.perMs * 1_000,
      throttled: isThrottled(state),
      until: paused && state.pausedUntil !== null ? new Date(state.pausedUntil).toISOString() : null,
      why: state.why,
      since: state.since === null ? null : new Date(state.since).toISOString(),
    };
  }

  function set(next: LimiterState): void {
    const before = state;
    state = next;
    if (isThrottled(before) !== isThrottled(next)) {
      const s = status();
      if (s.throttled)
        log.warn({ route: route.name, why: s.why, until: s.until }, "route throttled by its upstream");
      else log.info({ route: route.name }, "route throttle ended: delivering at the configured rate");
      deps.episode(s, s.throttled);
    }
    if (next.pausedUntil !== null && next.pausedUntil !== before.pausedUntil) deps.paused();
  }

  return {
    /**
     * Takes a token for an attempt starting now. False: nothing may start; the route is pumped
     * again when the next token is due.
     */
    take(): boolean {
      const now = deps.now();
      const t = take(state, cfg, now);
      set(t.state);
      if (t.ok) return true;
      if (!timer && !stopped) {
        timer = setTimeout(() => {
          timer = undefined;
          deps.ready();
        }, t.waitMs);
        timer.unref();
      }
      return false;
    },
    /** Reports an attempt's outcome (back-pressure from the upstream, recovery on success). */
    note(result: AttemptResult): void {
      set(
        afterResult(
          state,
          cfg,
          {
            ok: result.ok,
            statusCode: result.statusCode,
            retryAfterMs: result.retryAfterMs,
            durationMs: result.durationMs,
          },
          deps.now(),
        ),
      );
    },
    /** Whether a rate applies now (configured, or a back-off): attempts then go out one by one. */
    limited(): boolean {
      return state.perMs !== null || state.pausedUntil !== null;
    },
    /** Whether the route waits for a token (its own timer will pump it). */
    waiting(): boolean {
      return timer !== undefined;
    },
    status,
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

export type RouteLimiter = ReturnType<typeof createRouteLimiter>;
