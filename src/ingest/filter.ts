/**
 * A route's delivery filter as a predicate (README, Routes): compiled once per route (on its first
 * webhook; the config was validated at load), run on every webhook that passed verification. Pure: it reads the request and decides, nothing else. The decision never
 * changes what is stored or replayed.
 */
import type { DeliveryFilter } from "../config/types.js";
import { matches, type RequestView } from "./match.js";

/** True: deliver the webhook; false: store it as `filtered`. */
export type FilterPredicate = (req: RequestView) => boolean;

/** Every webhook is delivered. */
const DELIVER_ALL: FilterPredicate = () => true;

export function compileFilter(filter: DeliveryFilter | null): FilterPredicate {
  if (filter === null) return DELIVER_ALL;
  switch (filter.kind) {
    case "match": {
      const { match } = filter;
      return (req) => matches(match, req);
    }
    case "not": {
      const inner = compileFilter(filter.of);
      return (req) => !inner(req);
    }
    case "all": {
      const parts = filter.of.map(compileFilter);
      return (req) => parts.every((p) => p(req));
    }
    case "any": {
      const parts = filter.of.map(compileFilter);
      return (req) => parts.some((p) => p(req));
    }
  }
}
