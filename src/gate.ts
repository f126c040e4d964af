/**
 * A route's delivery gate: whether its events may go out now. An operator pauses and resumes it;
 * the circuit breaker (deliver/breaker.ts) opens it after consecutive failures and closes it after
 * a successful probe. Plain data, persisted as is (routes_state), shared by the deliverer, the store
 * and the views (/stats, /routes, /metrics) without any of them importing another.
 */

/** `active`: delivering; `paused`: by an operator; `open`: by the breaker, until a probe succeeds. */
export type GateState = "active" | "paused" | "open";

export const GateStates: readonly GateState[] = ["active", "paused", "open"];

/** What an operator may set: pause, or resume (which also closes an open breaker). */
export type OperatorGateState = Exclude<GateState, "open">;

/** Why a route was disabled, in Method's shape (codes 25001-25004). */
export interface DisabledRecord {
  type: "WEBHOOK_DISABLED";
  code: 25001 | 25002 | 25003 | 25004;
  sub_type: string;
  message: string;
  /** ISO time the breaker opened. */
  since: string;
}

export type FailureCategory = "other" | "4xx" | "5xx" | "timeout";

export interface Gate {
  state: GateState;
  consecutiveFailures: number;
  /** Categories of the failures in the current run, oldest first (capped). */
  recentFailures: FailureCategory[];
  /** Method-style record while the breaker holds the gate open, else null. */
  disabled: DisabledRecord | null;
  /** Current cooldown (doubles while probes fail), ms. */
  cooldownMs: number | null;
  /** When the next half-open probe may start, epoch ms. */
  probeAt: number | null;
}

/** A gate letting everything through, with no failures counted. */
export const activeGate = (): Gate => ({
  state: "active",
  consecutiveFailures: 0,
  recentFailures: [],
  disabled: null,
  cooldownMs: null,
  probeAt: null,
});
