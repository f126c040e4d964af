import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { configProblems, loadYaml } from "../helpers/config.js";

const UPSTREAM = "http://127.0.0.1:3000";

const load = (yaml: string, env: Record<string, string> = {}) =>
  loadYaml(`upstream: ${UPSTREAM}\n${yaml}`, env);

const problems = configProblems;

describe("tracing config", () => {
  test("is off by default, and without an endpoint", () => {
    expect(load("").tracing).toBeNull();
    expect(load("tracing:\n").tracing).toBeNull();
    expect(load("tracing: {service_name: bot-proxy}\n").tracing).toBeNull();
  });

  test("resolves an endpoint with the defaults", () => {
    expect(load("tracing: {otlp_endpoint: 'http://collector:4318/v1/traces'}\n").tracing).toEqual({
      endpoint: "http://collector:4318/v1/traces",
      serviceName: "hookbuffer",
      sampleRatio: 1,
      headers: {},
    });
  });

  test("a collector's base URL gets the OTLP traces path; another path is kept", () => {
    expect(load("tracing: {otlp_endpoint: 'http://collector:4318'}\n").tracing?.endpoint).toBe(
      "http://collector:4318/v1/traces",
    );
    expect(load("tracing: {otlp_endpoint: 'https://otlp.example/api/traces'}\n").tracing?.endpoint).toBe(
      "https://otlp.example/api/traces",
    );
  });

  test("takes service name, sample ratio and export headers, also from the environment", () => {
    const config = load("tracing: {headers: {x-api-key: k}}\n", {
      HOOKBUFFER_TRACING__OTLP_ENDPOINT: "http://collector:4318",
      HOOKBUFFER_TRACING__SERVICE_NAME: "line-proxy",
      HOOKBUFFER_TRACING__SAMPLE_RATIO: "0.25",
    });
    expect(config.tracing).toMatchObject({
      endpoint: "http://collector:4318/v1/traces",
      serviceName: "line-proxy",
      sampleRatio: 0.25,
      headers: { "x-api-key": "k" },
    });
  });

  test("reports bad values by key", () => {
    const issues = problems(() =>
      load(
        "tracing: {otlp_endpoint: 'collector:4318', service_name: '', sample_ratio: 2, headers: {'bad name': x}, sampler: y}\n",
      ),
    );
    expect(issues.map((i) => i.path).sort()).toEqual([
      "tracing.headers.bad name",
      "tracing.otlp_endpoint",
      "tracing.sample_ratio",
      "tracing.sampler",
      "tracing.service_name",
    ]);
    expect(issues.find((i) => i.path === "tracing.sample_ratio")?.message).toMatch(/from 0 to 1/);
  });
});

describe("config.example.yaml tracing example", () => {
  test("loads with the tracing block uncommented", () => {
    const path = fileURLToPath(new URL("../../config.example.yaml", import.meta.url));
    let inBlock = false;
    const text = readFileSync(path, "utf8")
      .split("\n")
      .map((line) => {
        if (line.startsWith("# --- end")) inBlock = false;
        else if (line.startsWith("# --- tracing")) inBlock = true;
        else if (inBlock) return line.replace(/^# ?/, "");
        return line;
      })
      .join("\n");
    const config = loadConfig({ env: {}, flags: { config: "example.yaml" }, readFile: () => text });
    expect(config.tracing).toEqual({
      endpoint: "http://otel-collector:4318/v1/traces",
      serviceName: "hookbuffer",
      sampleRatio: 1,
      headers: {},
    });
  });
});
