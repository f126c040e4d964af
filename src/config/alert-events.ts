/** The alert events, as named in the `alerts[].events` config: one list for the schema, the defaults and the types. */
export const ALERT_EVENTS = [
  "breaker_open",
  "breaker_closed",
  "backlog_age",
  "dead",
  "storage_failing",
  "storage_recovered",
  "throttled",
] as const;

export type AlertEvent = (typeof ALERT_EVENTS)[number];
