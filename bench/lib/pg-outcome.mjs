/** The outcome of a claimed event that its upstream answered 200, as the PostgreSQL store records it. */
export const delivered = (e) => ({
  seq: e.seq,
  status: "delivered",
  attempts: e.attempts + 1,
  nextAttemptAt: e.nextAttemptAt,
  lastReason: null,
  lastDetail: null,
  lastStatus: 200,
  deliveredAt: Date.now(),
  finishedAt: Date.now(),
  responseBytes: 0,
});
