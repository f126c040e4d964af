import { Hono } from "hono";
import type { Registry } from "prom-client";

/** `GET /metrics` in the Prometheus text format; mounted behind the admin listener's bearer auth. */
export function createMetricsApp(deps: {
  registry: Registry;
  /** Brings the gauges' sources up to date first (a shared store reads them again). */
  current?: () => Promise<void>;
}): Hono {
  const app = new Hono();
  app.get("/metrics", async function metrics(c) {
    await deps.current?.();
    const body = await deps.registry.metrics();
    return c.body(body, 200, { "Content-Type": deps.registry.contentType });
  });
  return app;
}
