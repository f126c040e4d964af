// Ingest with tracing off and on, from npm run bench (--only=tracing). Off must cost nothing: the
// OpenTelemetry SDK is not loaded and no span is made, so its figure should match the plain
// ingest row. On, every webhook gets an ingest span exported over OTLP/HTTP to a local sink that
// counts what arrives. Runs alternate off/on so drift on a shared machine hits both alike.
import { createServer } from "node:http";
import { join } from "node:path";
import Database from "better-sqlite3";

/** An OTLP/HTTP endpoint that parses each JSON export and counts its spans. */
async function startSink() {
  const sink = { spans: 0, exports: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? []) sink.spans += ss.spans?.length ?? 0;
      sink.exports++;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  sink.url = `http://127.0.0.1:${server.address().port}/v1/traces`;
  sink.close = () => new Promise((resolve) => server.close(resolve));
  return sink;
}

/**
 * deps: the harness's own helpers, so both modes run the exact set-up of the ingest rows; "on"
 * adds only the `tracing:` block.
 */
export async function tracingSection({ runs, seconds, work, startHookbuffer, admin, warm, load, log }) {
  const sink = await startSink();
  const modes = { off: [], on: [] };
  try {
    for (let r = 0; r < runs; r++) {
      for (const mode of ["off", "on"]) {
        const db = join(work, `tracing-${mode}-${r}.db`);
        const spansBefore = sink.spans;
        const extra = mode === "on" ? `tracing: {otlp_endpoint: "${sink.url}"}\n` : "";
        const hb = await startHookbuffer(db, 9, 8, { extra });
        await admin(hb, "POST", "/routes/line/pause");
        await warm(hb.port);
        const warmed = (await admin(hb, "GET", "/stats")).queue.pending;
        const res = await load(hb.port, seconds);
        const rssMb = hb.rssMb();
        await hb.stop(); // flushes the last spans
        const rows = new Database(db, { readonly: true })
          .prepare("SELECT COUNT(*) FROM events")
          .pluck()
          .get();
        const stored = rows - warmed;
        // Every ingest span of this instance, warm-up included, against every stored event: fewer
        // spans than events means the span queue overflowed and spans were dropped.
        const spans = sink.spans - spansBefore;
        modes[mode].push({ ...res, stored, rows, rssMb, spans });
        log(
          `tracing ${mode} run ${r + 1}: ${res.rps.toFixed(0)}/s, ${stored} stored, ${spans} spans, RSS ${rssMb.toFixed(0)} MB`,
        );
      }
    }
  } finally {
    await sink.close();
  }
  const median = (xs) =>
    xs.find((x) => x.rps === [...xs.map((y) => y.rps)].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
  return { off: median(modes.off), on: median(modes.on), runs: modes };
}

/** Rows for the bench table. */
export function tracingRows(t) {
  if (!t) return [];
  const row = (name, x, detail) => [
    name,
    `${x.rps.toFixed(0)} req/s`,
    `p50 ${x.latency.p50} / p99 ${x.latency.p99} ms; RSS ${x.rssMb.toFixed(0)} MB${detail}`,
    `${(x.rps / t.off.rps).toFixed(2)}x`,
  ];
  return [
    row("ingest: hookbuffer, tracing off (default)", t.off, "; SDK not loaded"),
    row(
      "ingest: hookbuffer, tracing on (OTLP/HTTP)",
      t.on,
      `; ${t.on.spans} spans exported for ${t.on.rows} events stored`,
    ),
  ];
}
