/** One sample of the Prometheus text exposition format (version 0.0.4). */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** `# TYPE` per metric family. */
  types: Map<string, string>;
  /** Sum of the samples named `name` whose labels include `match`. */
  value(name: string, match?: Record<string, string>): number;
  /** Whether any sample named `name` (with these labels) exists. */
  has(name: string, match?: Record<string, string>): boolean;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function parseValue(v: string): number {
  if (v === "+Inf") return Number.POSITIVE_INFINITY;
  if (v === "-Inf") return Number.NEGATIVE_INFINITY;
  // prom-client writes NaN as "Nan" (nodejs_eventloop_lag_mean_seconds before the event-loop delay
  // histogram has a sample, e.g. two scrapes in quick succession on a busy machine); Prometheus reads
  // special values case-insensitively, so this is valid output, not a malformed line.
  if (v === "NaN" || v === "Nan") return Number.NaN;
  const n = Number(v);
  if (Number.isNaN(n)) throw new Error(`bad sample value ${v}`);
  return n;
}

/** A strict little parser: any line it cannot read is an error, so malformed output fails tests. */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("#")) {
      const m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (m) types.set(m[1] as string, m[2] as string);
      else if (!/^# HELP \S+/.test(line)) throw new Error(`line ${i + 1}: bad comment: ${line}`);
      continue;
    }
    const m = LINE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: cannot parse: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? "";
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const start = LABEL.lastIndex;
      const l = LABEL.exec(body);
      if (!l || LABEL.lastIndex === start) throw new Error(`line ${i + 1}: bad labels: ${body}`);
      labels[l[1] as string] = unescapeLabel(l[2] as string);
    }
    samples.push({ name: m[1] as string, labels, value: parseValue(m[3] as string) });
  }
  const matching = (name: string, match: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
  return {
    samples,
    types,
    value: (name, match) => matching(name, match).reduce((sum, s) => sum + s.value, 0),
    has: (name, match) => matching(name, match).length > 0,
  };
}
