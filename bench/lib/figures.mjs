// How rounds of one measure are summed up in every bench table.

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The median of the rounds and their range. */
export const spread = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

/** An HTTP load's rounds (autocannon results with `cpuUs`, and `lost` where the server stores). */
export function ingestSummary(xs) {
  return {
    rps: spread(xs.map((x) => x.rps)),
    p50: spread(xs.map((x) => x.latency.p50)),
    p99: spread(xs.map((x) => x.latency.p99)),
    cpuUs: spread(xs.map((x) => x.cpuUs)),
    // autocannon counts a timeout among its errors too.
    non2xx: xs.reduce((s, x) => s + x.non2xx + x.errors, 0),
  };
}

export const lostSum = (xs) => xs.reduce((s, x) => s + x.lost, 0);
