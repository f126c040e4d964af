import type { NewEvent } from "../../src/store/index.js";

/**
 * An event to store, as ingest would hand it over: a POST of `{}` to / on route "default",
 * received at 0 and due when received, unless `fields` say otherwise.
 */
export function newEvent(fields: Partial<NewEvent> & { id: string }): NewEvent {
  const receivedAt = fields.receivedAt ?? 0;
  return {
    route: "default",
    receivedAt,
    method: "POST",
    path: "/",
    query: "",
    headers: [],
    body: Buffer.from("{}"),
    dedupKey: null,
    orderKey: null,
    nextAttemptAt: receivedAt,
    ...fields,
  };
}
