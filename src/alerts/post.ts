/** How one alert is delivered: a few quick tries, each with a deadline, never longer than that. */
export interface PostOptions {
  /** Total tries, the first included. */
  tries: number;
  /** Deadline for one try (ms). */
  timeoutMs: number;
  /** Wait before the second try (ms); doubles after each further failure. */
  backoffMs: number;
  /** Aborted on shutdown: no further tries, the current one is cut short. */
  signal: AbortSignal;
  fetch: typeof fetch;
}

export type PostOutcome = { ok: true; tries: number } | { ok: false; tries: number; error: string };

/** 408, 429 and 5xx are worth another try; any other status means the receiver will not take it. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** POSTs JSON with retries; resolves with the outcome and never throws. */
export async function postAlert(url: string, payload: object, options: PostOptions): Promise<PostOutcome> {
  const body = JSON.stringify(payload);
  let error = "not tried";
  for (let n = 1; n <= options.tries; n++) {
    if (options.signal.aborted) return { ok: false, tries: n - 1, error: "stopped" };
    try {
      const res = await options.fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "hookbuffer-alerts" },
        body,
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      // Drain the body so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, tries: n };
      error = `receiver answered ${res.status}`;
      if (!retryable(res.status)) return { ok: false, tries: n, error };
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    if (n < options.tries) await sleep(options.backoffMs * 2 ** (n - 1), options.signal);
  }
  return { ok: false, tries: options.tries, error };
}
