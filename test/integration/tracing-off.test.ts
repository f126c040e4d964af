import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect } from "vitest";
import { type Start, test } from "../helpers/harness.js";
import { waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import { CLI } from "../helpers/process.js";
import type { Recorder } from "../helpers/recorder.js";

const PRELOAD = resolve(import.meta.dirname, "../fixtures/report-otel-modules.cjs");

/**
 * Runs the built CLI with the module report preloaded, sends one webhook, waits for its delivery,
 * stops it with SIGTERM and returns how many OpenTelemetry SDK modules it had loaded.
 */
async function otelModulesLoaded(start: Start, up: Recorder, tracingYaml: string): Promise<number> {
  const dir = start.dir();
  const config = join(dir, "hookbuffer.yaml");
  writeFileSync(config, `upstream: ${up.url}\n${tracingYaml}`);
  const args = ["--require", PRELOAD, CLI, "--config", config, "--db", join(dir, "hb.db")];
  const proc = spawn(process.execPath, [...args, "--host", "127.0.0.1", "--port", "0", "--admin-port", "0"], {
    env: { PATH: process.env.PATH ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  proc.stdout.on("data", (c: Buffer) => {
    output += c.toString();
  });
  proc.stderr.on("data", (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((r) => proc.on("exit", r));
  start.cleanup(() => {
    proc.kill("SIGKILL");
  });
  const port = await waitFor(() => /"ingest":"[^"]*:(\d+)"/.exec(output)?.[1], 30_000, "the listening line");
  const before = up.requests.length;
  expect((await post(`http://127.0.0.1:${port}/hook`)).status).toBe(200);
  await waitFor(() => up.requests.length > before, 20_000, "the delivery");
  proc.kill("SIGTERM");
  expect(await exited).toBe(0);
  const count = /opentelemetry sdk modules loaded: (\d+)/.exec(output)?.[1];
  if (count === undefined) throw new Error(`no module report in:\n${output}`);
  return Number(count);
}

test("with tracing off the OpenTelemetry SDK is never loaded; with it on, it is", async ({ start, up }) => {
  const otlp = await start.otlp();
  expect(await otelModulesLoaded(start, up, "")).toBe(0);
  expect(await otelModulesLoaded(start, up, `tracing: {otlp_endpoint: "${otlp.url}"}\n`)).toBeGreaterThan(0);
  expect(otlp.spans.length).toBeGreaterThanOrEqual(2);
}, 90_000); // two CLI processes start, deliver and stop, on a machine that may be busy
