import type { Clock } from "../clock.js";
import type { StatCounter } from "../model.js";
import type { CommandRunner } from "../store/index.js";

/** The counters a refused request is counted under. */
export type RefusalCounter = Extract<StatCounter, "rejected" | "rejected_backpressure" | "rejected_storage">;

/**
 * Counts refused requests in the route's stats (and so in /metrics, which is fed from the same
 * commits). Nobody waits for the write: a failed one loses no webhook, and its counts are carried
 * into the next refusal's write, so a database that refused writes for a while still ends up with
 * every refusal counted once it takes them again.
 */
export function createRefusalCount(deps: { commands: CommandRunner; clock: Pick<Clock, "now"> }) {
  // Counts whose write failed, by route and counter, with the time of the latest one.
  let owed = new Map<string, { at: number; route: string; metric: RefusalCounter; n: number }>();
  const owe = (c: { at: number; route: string; metric: RefusalCounter; n: number }) => {
    const key = `${c.route}\u0000${c.metric}`;
    const seen = owed.get(key);
    if (!seen) owed.set(key, { ...c });
    else {
      seen.n += c.n;
      seen.at = Math.max(seen.at, c.at);
    }
  };
  return function countRefusal(route: string, metric: RefusalCounter): void {
    const at = deps.clock.now();
    const carried = owed;
    owed = new Map();
    deps.commands
      .execute({ kind: "count", counts: [...carried.values(), { at, route, metric, n: 1 }] })
      .catch(() => {
        for (const c of carried.values()) owe(c);
        owe({ at, route, metric, n: 1 });
      });
  };
}

export type CountRefusal = ReturnType<typeof createRefusalCount>;
