import type { IngestResult } from "./service.js";

/**
 * The status the ingest listener answers for a result: one mapping for the response and for the
 * ingest span, so the two cannot disagree.
 */
export function ingestStatus(result: IngestResult): 200 | 400 | 401 | 503 {
  switch (result.kind) {
    case "accepted":
    case "duplicate":
      return 200;
    case "rejected":
      return result.status ?? 401;
    case "backpressure":
    case "unavailable":
      return 503;
  }
}
