// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests write ${VAR} references on purpose.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { type ConfigError, type ConfigIssue, loadConfig } from "../../src/config/index.js";
import { configProblems, loadYaml } from "../helpers/config.js";

const UPSTREAM = "http://127.0.0.1:3000";

const load = loadYaml;

const problems = configProblems;

const paths = (issues: ConfigIssue[]) => issues.map((issue) => issue.path).sort();

describe("loadConfig", () => {
  test("runs with only --upstream and no file, on the built-in defaults", () => {
    const config = loadConfig({ env: {}, flags: { upstream: UPSTREAM } });
    expect(config.listen).toEqual({
      host: "0.0.0.0",
      port: 8080,
      bodyLimitBytes: 1_048_576,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxHeaderBytes: 16_384,
      maxHeaders: 500,
    });
    expect(config.admin).toEqual({
      host: "127.0.0.1",
      port: 9090,
      token: null,
      allowedHosts: [],
      redeliverMax: 10_000,
    });
    expect(config.storage.path).toBe("./hookbuffer.db");
    expect(config.storage.synchronous).toBe("full");
    expect(config.routes).toHaveLength(1);
    expect(config.routes[0]).toMatchObject({
      name: "default",
      pathPrefix: "/",
      upstream: UPSTREAM,
      concurrency: 8,
      retry: {
        kind: "schedule",
        delaysMs: [0, 30_000, 3_600_000, 21_600_000, 43_200_000, 86_400_000],
        maxAgeMs: null,
      },
      breaker: { failures: 5, cooldownMs: 30_000, maxCooldownMs: 600_000 },
      ordering: { kind: "none" },
      dedup: null,
      verify: null,
      passthrough: [],
      http2: false,
    });
    expect(config.alerts).toEqual([]);
    expect(config.log.level).toBe("info");
  });

  test("takes the file over defaults, the environment over the file and flags over the environment", () => {
    const yaml = `upstream: http://file:1\nlisten: {host: 10.0.0.1, port: 1001}\nadmin: {port: 9001}\nlog: {level: warn}`;
    const env = { HOOKBUFFER_PORT: "2002", HOOKBUFFER_ADMIN_PORT: "9002", HOOKBUFFER_DB: "/env.db" };
    const config = load(yaml, env, { port: "3003", db: "/flag.db" });
    expect(config.routes[0]?.upstream).toBe("http://file:1");
    expect(config.listen).toMatchObject({ host: "10.0.0.1", port: 3003 });
    expect(config.admin.port).toBe(9002);
    expect(config.storage.path).toBe("/flag.db");
    expect(config.log.level).toBe("warn");
  });

  test("maps every named variable and flag onto its key", () => {
    const env = {
      HOOKBUFFER_UPSTREAM: UPSTREAM,
      HOOKBUFFER_HOST: "::",
      HOOKBUFFER_PORT: "1",
      HOOKBUFFER_ADMIN_HOST: "::1",
      HOOKBUFFER_ADMIN_PORT: "2",
      HOOKBUFFER_ADMIN_TOKEN: "t",
      HOOKBUFFER_DB: "/a.db",
      HOOKBUFFER_SYNCHRONOUS: "NORMAL",
      HOOKBUFFER_LOG_LEVEL: "debug",
    };
    const fromEnv = load(undefined, env);
    const fromFlags = load(
      undefined,
      {},
      {
        upstream: UPSTREAM,
        host: "::",
        port: "1",
        adminHost: "::1",
        adminPort: "2",
        adminToken: "t",
        db: "/a.db",
        synchronous: "NORMAL",
        logLevel: "debug",
      },
    );
    for (const config of [fromEnv, fromFlags]) {
      expect(config.listen).toMatchObject({ host: "::", port: 1 });
      expect(config.admin).toEqual({
        host: "::1",
        port: 2,
        token: "t",
        allowedHosts: [],
        redeliverMax: 10_000,
      });
      expect(config.storage).toMatchObject({ path: "/a.db", synchronous: "normal" });
      expect(config.log.level).toBe("debug");
    }
  });

  test("reads the file named by HOOKBUFFER_CONFIG when no --config flag is given", () => {
    const read: string[] = [];
    const readFile = (path: string) => {
      read.push(path);
      return `upstream: ${UPSTREAM}`;
    };
    loadConfig({ env: { HOOKBUFFER_CONFIG: "/etc/hb.yaml" }, flags: {}, readFile });
    loadConfig({ env: { HOOKBUFFER_CONFIG: "/etc/hb.yaml" }, flags: { config: "./mine.yaml" }, readFile });
    expect(read).toEqual(["/etc/hb.yaml", "./mine.yaml"]);
  });

  test("maps HOOKBUFFER_A__B variables onto nested keys, reading values as YAML scalars", () => {
    const config = load(`upstream: ${UPSTREAM}\nroutes: [{name: a, path: /a}]`, {
      HOOKBUFFER_DELIVERY__TIMEOUT: "5s",
      HOOKBUFFER_DELIVERY__CONCURRENCY: "3",
      HOOKBUFFER_DELIVERY__PERMANENT_STATUSES: "[400, 410]",
      HOOKBUFFER_DELIVERY__RETRY__EXPONENTIAL__JITTER: "0.5",
      HOOKBUFFER_ROUTES__0__UPSTREAM_HTTP2: "true",
      HOOKBUFFER_ADMIN__TOKEN: "0123",
    });
    expect(config.routes[0]).toMatchObject({
      timeoutMs: 5_000,
      concurrency: 3,
      permanentStatuses: [400, 410],
      http2: true,
    });
    expect(config.routes[0]?.retry).toMatchObject({ kind: "exponential", jitter: 0.5 });
    expect(config.admin.token).toBe("0123");
  });

  test("ignores empty variables and HOOKBUFFER_ variables that are no config key", () => {
    const config = load(undefined, {
      HOOKBUFFER_UPSTREAM: UPSTREAM,
      HOOKBUFFER_PORT: "",
      HOOKBUFFER_ADMIN_URL: "x",
    });
    expect(config.listen.port).toBe(8080);
  });

  test("interpolates ${VAR} and ${VAR:-default} inside string values", () => {
    const yaml = [
      "upstream: http://${UP_HOST}:${UP_PORT:-3000}/hooks",
      "admin: {token: '${TOKEN:-fallback}'}",
      "storage: {path: '$${NOT_A_VAR}.db'}",
      "verify: {scheme: line, secret: '${LINE_SECRET}'}",
    ].join("\n");
    const config = load(yaml, { UP_HOST: "bot", LINE_SECRET: "s3cret", TOKEN: "" });
    expect(config.routes[0]?.upstream).toBe("http://bot:3000/hooks");
    expect(config.admin.token).toBe("fallback");
    expect(config.storage.path).toBe("${NOT_A_VAR}.db");
    expect(config.routes[0]?.verify?.secrets).toEqual(["s3cret"]);
  });

  test("reports an unset variable without a default at the key that references it", () => {
    const issues = problems(() =>
      load(
        `upstream: ${UPSTREAM}\nroutes:\n  - {name: a, path: /a, verify: {scheme: line, secret: "\${MISSING}"}}`,
      ),
    );
    expect(issues).toEqual([
      { path: "routes[0].verify.secret", message: "environment variable MISSING is not set" },
    ]);
  });

  test("lists every problem at once, each under its key path", () => {
    const yaml = [
      "upstream: ftp://nope",
      "listen: {port: 70000, body_limit: lots, headers_timeout: 40s}",
      "storage: {synchronous: sometimes}",
      "delivery:",
      "  timout: 5s",
      "  retry: {schedule: [1s], exponential: {base: 1s}}",
      "  ordering: {key: events}",
      "  permanent_statuses: [404, 700, 200]",
      "log: {level: loud}",
    ].join("\n");
    const error = (() => {
      try {
        load(yaml);
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error("expected a ConfigError");
    })();
    expect(paths(error.issues)).toEqual([
      "delivery.ordering.key",
      "delivery.permanent_statuses[1]",
      "delivery.permanent_statuses[2]",
      "delivery.retry.exponential",
      "delivery.timout",
      "listen.body_limit",
      "listen.port",
      "log.level",
      "storage.synchronous",
      "upstream",
    ]);
    expect(error.message.split("\n").slice(1)).toEqual(error.issues.map((i) => `${i.path}: ${i.message}`));
  });

  test("checks a section's cross-key rules once its own keys are valid", () => {
    const issues = problems(() => load(`upstream: ${UPSTREAM}\nlisten: {headers_timeout: 40s}`));
    expect(issues).toEqual([
      { path: "listen.headers_timeout", message: "must not exceed listen.request_timeout" },
    ]);
  });

  test("names the variable or flag that supplied a bad value", () => {
    const issues = problems(() =>
      load(undefined, { HOOKBUFFER_PORT: "http" }, { upstream: "localhost:3000" }),
    );
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'upstream: expected an http or https URL, got "localhost:3000" (from --upstream)',
      'listen.port: expected an integer from 0 to 65535, got "http" (from HOOKBUFFER_PORT)',
    ]);
  });

  test("reports YAML syntax errors with their line and nothing else", () => {
    const issues = problems(() => load("upstream: x\nlisten: {port: 1\nadmin: 2\n"));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((i) => i.path === "hookbuffer.yaml" && /line \d+/.test(i.message))).toBe(true);
  });

  test("reports an unreadable file by its path", () => {
    const missing = "/nonexistent/hookbuffer.yaml";
    const issues = problems(() => loadConfig({ env: {}, flags: { config: missing } }));
    expect(issues).toEqual([{ path: missing, message: expect.stringMatching(/^cannot read: ENOENT/) }]);
  });

  test("rejects a file whose top level is not a mapping", () => {
    expect(paths(problems(() => load("- a\n- b")))).toEqual(["hookbuffer.yaml"]);
  });

  test("requires an upstream when no routes are listed", () => {
    expect(problems(() => load(undefined))).toEqual([
      { path: "upstream", message: expect.stringContaining("HOOKBUFFER_UPSTREAM or --upstream") },
    ]);
  });
});

describe("loadConfig routes", () => {
  const routes = (yaml: string, env: Record<string, string> = {}) => load(yaml, env).routes;

  test.each([
    ["line", { kind: "line" }],
    ["github", { kind: "header", name: "x-github-delivery" }],
    ["stripe", { kind: "json", pointer: "/id" }],
    ["shopify", { kind: "header", name: "x-shopify-webhook-id", aliases: ["shopify-webhook-id"] }],
    ["standard-webhooks", { kind: "header", name: "webhook-id", aliases: ["svix-id"] }],
  ])("resolves the dedup preset %s to its source with a 24h window", (preset, source) => {
    const [route] = routes(`upstream: ${UPSTREAM}\ndelivery: {dedup: ${preset}}`);
    expect(route?.dedup).toEqual({ source, windowMs: 86_400_000 });
  });

  test("takes dedup as {preset|header|json, window}, lower-casing header names", () => {
    const dedup = (value: string) => routes(`upstream: ${UPSTREAM}\ndelivery: {dedup: ${value}}`)[0]?.dedup;
    expect(dedup("{preset: line, window: 48h}")).toEqual({ source: { kind: "line" }, windowMs: 172_800_000 });
    expect(dedup("{header: X-GitHub-Delivery, window: 1h}")).toEqual({
      source: { kind: "header", name: "x-github-delivery" },
      windowMs: 3_600_000,
    });
    expect(dedup("{json: /events/0/webhookEventId}")?.source).toEqual({
      kind: "json",
      pointer: "/events/0/webhookEventId",
    });
    expect(paths(problems(() => dedup("{header: X, json: /id}")))).toEqual(["delivery.dedup"]);
    expect(paths(problems(() => dedup("bitbucket")))).toEqual(["delivery.dedup.preset"]);
  });

  test("merges each route's delivery over the global block key by key, replacing retry whole", () => {
    const yaml = `
upstream: ${UPSTREAM}
delivery:
  timeout: 20s
  concurrency: 4
  retry: {exponential: {base: 2s, max_attempts: 3}, max_age: 1h}
  breaker: {failures: 2, cooldown: 1m}
  dedup: github
routes:
  - {name: a, path: /a}
  - name: b
    path: /b/
    delivery: {timeout: 5s, retry: {schedule: [0s, 1s]}, breaker: {failures: 9}, dedup: null, ordering: fifo}
`;
    const [a, b] = routes(yaml);
    expect(a).toMatchObject({
      name: "a",
      pathPrefix: "/a",
      upstream: UPSTREAM,
      timeoutMs: 20_000,
      concurrency: 4,
    });
    expect(a?.retry).toEqual({
      kind: "exponential",
      baseMs: 2_000,
      factor: 2,
      maxDelayMs: 3_600_000,
      maxAttempts: 3,
      jitter: 0.2,
      maxAgeMs: 3_600_000,
    });
    expect(a?.dedup?.source).toEqual({ kind: "header", name: "x-github-delivery" });
    expect(b).toMatchObject({
      pathPrefix: "/b",
      timeoutMs: 5_000,
      concurrency: 4,
      dedup: null,
      ordering: { kind: "fifo" },
    });
    expect(b?.retry).toEqual({
      kind: "schedule",
      delaysMs: [0, 1_000],
      maxDelayMs: 3_600_000,
      maxAgeMs: null,
    });
    expect(b?.breaker).toEqual({
      failures: 9,
      cooldownMs: 60_000,
      maxCooldownMs: 600_000,
      count: ["connect", "timeout", "unclassified", "3xx", "4xx", "5xx"],
    });
  });

  test("clamps connect and DNS deadlines to the attempt timeout", () => {
    const [route] = routes(`upstream: ${UPSTREAM}\ndelivery: {timeout: 3s}`);
    expect(route).toMatchObject({ timeoutMs: 3_000, connectTimeoutMs: 3_000, dnsTimeoutMs: 3_000 });
  });

  test("reads ordering as none, fifo or a JSON pointer key", () => {
    const ordering = (value: string) =>
      routes(`upstream: ${UPSTREAM}\ndelivery: {ordering: ${value}}`)[0]?.ordering;
    expect(ordering("fifo")).toEqual({ kind: "fifo" });
    expect(ordering("{key: /events/0/source/userId}")).toEqual({
      kind: "key",
      pointer: "/events/0/source/userId",
    });
    expect(paths(problems(() => ordering("lifo")))).toEqual(["delivery.ordering"]);
  });

  test("uses the top-level upstream for routes that name none and reports routes without any", () => {
    const yaml = "routes:\n  - {name: a, path: /a, upstream: 'http://a:1'}\n  - {name: b, path: /b}";
    expect(problems(() => load(yaml))).toEqual([{ path: "routes[1].upstream", message: expect.any(String) }]);
    expect(load(yaml, { HOOKBUFFER_UPSTREAM: UPSTREAM }).routes.map((r) => r.upstream)).toEqual([
      "http://a:1",
      UPSTREAM,
    ]);
  });

  test("reports duplicate route names and paths, and default-route keys beside routes", () => {
    const yaml = `upstream: ${UPSTREAM}
verify: {scheme: github, secret: s}
routes:
  - {name: a, path: /x}
  - {name: a, path: /x/}
  - {name: b, path: /y}`;
    expect(paths(problems(() => load(yaml)))).toEqual(["routes[1].name", "routes[1].path", "verify"]);
  });

  test("reports bad route names, paths and upstreams by index", () => {
    const yaml =
      "routes:\n  - {name: Line, path: line, upstream: 'bot:3000'}\n  - {name: ok, path: /ok, upstream: 'file:///x'}";
    expect(paths(problems(() => load(yaml)))).toEqual([
      "routes[0].name",
      "routes[0].path",
      "routes[0].upstream",
      "routes[1].upstream",
    ]);
  });

  test("resolves verify with secret rotation, tolerance and the hmac options", () => {
    const yaml = `upstream: ${UPSTREAM}
verify: {scheme: hmac, secrets: [old, new], header: X-Signature, encoding: base64, prefix: "v1=", tolerance: 1m}
passthrough: [{method: post, path: /ping}, {json: {pointer: /type, equals: url_verification}}, {path: /validate, verify: false}]`;
    const [route] = routes(yaml);
    expect(route?.verify).toEqual({
      scheme: "hmac",
      secrets: ["old", "new"],
      toleranceMs: 60_000,
      header: "x-signature",
      algorithm: "sha256",
      encoding: "base64",
      prefix: "v1=",
      resign: false,
    });
    expect(route?.passthrough).toEqual([
      { method: "POST", path: "/ping" },
      { json: { pointer: "/type", equals: "url_verification" } },
      { path: "/validate", verify: false },
    ]);
  });

  test("a passthrough match needs something to match on; verify takes only a boolean", () => {
    const passthrough = (value: string) =>
      problems(() => load(`upstream: ${UPSTREAM}\npassthrough: ${value}`));
    const [empty] = passthrough("[{verify: false}]");
    expect(empty).toMatchObject({
      path: "passthrough[0]",
      message: "set at least one of method, path, json or header",
    });
    expect(paths(passthrough("[{path: /v, verify: maybe}]"))).toEqual(["passthrough[0].verify"]);
    expect(
      load(`upstream: ${UPSTREAM}\npassthrough: [{header: {name: X-GitHub-Event, equals: ping}}]`).routes[0]
        ?.passthrough,
    ).toEqual([{ header: { name: "x-github-event", equals: "ping" } }]);
    expect(paths(passthrough('[{header: {name: "X Event", equals: ping}}]'))).toEqual([
      "passthrough[0].header.name",
    ]);
    expect(paths(passthrough("[{header: {name: X-GitHub-Event}}]"))).toEqual([
      "passthrough[0].header.equals",
    ]);
  });

  test("requires header for hmac, one of secret or secrets, and hmac keys only on hmac", () => {
    const verify = (value: string) => load(`upstream: ${UPSTREAM}\nverify: ${value}`);
    expect(paths(problems(() => verify("{scheme: hmac, secret: s}")))).toEqual(["verify.header"]);
    expect(paths(problems(() => verify("{scheme: line}")))).toEqual(["verify.secret"]);
    expect(paths(problems(() => verify("{scheme: line, secret: s, secrets: [t]}")))).toEqual([
      "verify.secret",
    ]);
    expect(paths(problems(() => verify("{scheme: github, secret: s, header: X-Sig, prefix: a}")))).toEqual([
      "verify.header",
      "verify.prefix",
    ]);
    expect(paths(problems(() => verify("{scheme: line, secret: ''}")))).toEqual(["verify.secret"]);
  });

  test("re-signs by default where the signature has a timestamp, and resign: true elsewhere is an error", () => {
    const verify = (value: string) => load(`upstream: ${UPSTREAM}\nverify: ${value}`).routes[0]?.verify;
    for (const scheme of ["stripe", "slack", "standard-webhooks"]) {
      const secret = scheme === "standard-webhooks" ? "whsec_AAAA" : "s";
      expect(verify(`{scheme: ${scheme}, secret: ${secret}}`)?.resign).toBe(true);
      expect(verify(`{scheme: ${scheme}, secret: ${secret}, resign: false}`)?.resign).toBe(false);
    }
    for (const scheme of ["line", "github", "shopify"]) {
      expect(verify(`{scheme: ${scheme}, secret: s}`)?.resign).toBe(false);
      const [issue] = problems(() => verify(`{scheme: ${scheme}, secret: s, resign: true}`));
      expect(issue).toMatchObject({
        path: "verify.resign",
        message: expect.stringContaining("signed timestamp"),
      });
    }
    expect(verify("{scheme: hmac, secret: s, header: X-Sig}")?.resign).toBe(false);
    expect(paths(problems(() => verify("{scheme: hmac, secret: s, header: X-Sig, resign: true}")))).toEqual([
      "verify.resign",
    ]);
    expect(paths(problems(() => verify("{scheme: stripe, secret: s, resign: maybe}")))).toEqual([
      "verify.resign",
    ]);
  });

  test("hmac takes a signed timestamp header and the signed payload's shape", () => {
    const verify = (value: string) => load(`upstream: ${UPSTREAM}\nverify: ${value}`).routes[0]?.verify;
    expect(verify("{scheme: hmac, secret: s, header: X-Sig, timestamp_header: X-Ts}")).toMatchObject({
      timestamp: { header: "x-ts", before: "", between: "." },
      resign: true,
    });
    expect(
      verify(
        '{scheme: hmac, secret: s, header: X-Sig, timestamp_header: X-Ts, signed_payload: "v0:{timestamp}:{body}"}',
      )?.timestamp,
    ).toEqual({ header: "x-ts", before: "v0:", between: ":" });
    for (const shape of ["{body}.{timestamp}", "{timestamp}", "{timestamp}{timestamp}.{body}", "v0:{body}"]) {
      const [issue] = problems(() =>
        verify(
          `{scheme: hmac, secret: s, header: X-Sig, timestamp_header: X-Ts, signed_payload: "${shape}"}`,
        ),
      );
      expect(issue).toMatchObject({
        path: "verify.signed_payload",
        message: expect.stringContaining("{timestamp}"),
      });
    }
    expect(
      problems(() =>
        verify('{scheme: hmac, secret: s, header: X-Sig, signed_payload: "{timestamp}.{body}"}'),
      ),
    ).toEqual([{ path: "verify.signed_payload", message: "needs timestamp_header" }]);
    expect(paths(problems(() => verify("{scheme: stripe, secret: s, timestamp_header: X-Ts}")))).toEqual([
      "verify.timestamp_header",
    ]);
  });

  test("resolves alerts with every event and a 10m backlog age by default", () => {
    const config = load(`upstream: ${UPSTREAM}\nalerts: [{url: 'http://alert:1/hook'}]`);
    expect(config.alerts).toEqual([
      {
        url: "http://alert:1/hook",
        events: [
          "breaker_open",
          "breaker_closed",
          "backlog_age",
          "dead",
          "storage_failing",
          "storage_recovered",
          "throttled",
        ],
        backlogAgeMs: 600_000,
      },
    ]);
  });
});

describe("loadConfig admin token rule", () => {
  test.each(["127.0.0.1", "127.8.9.10", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost"])(
    "lets admin bind %s without a token",
    (host) => {
      expect(
        load(undefined, { HOOKBUFFER_UPSTREAM: UPSTREAM, HOOKBUFFER_ADMIN_HOST: host }).admin.token,
      ).toBeNull();
    },
  );

  test.each(["0.0.0.0", "::", "10.0.0.5", "128.0.0.1", "example.com"])(
    "requires admin.token when admin binds %s",
    (host) => {
      const issues = problems(() =>
        load(undefined, { HOOKBUFFER_UPSTREAM: UPSTREAM, HOOKBUFFER_ADMIN_HOST: host }),
      );
      expect(paths(issues)).toEqual(["admin.token"]);
      const config = load(undefined, {}, { upstream: UPSTREAM, adminHost: host, adminToken: "secret" });
      expect(config.admin).toMatchObject({ host, token: "secret" });
    },
  );

  test("reports the admin listener on the ingest port", () => {
    expect(paths(problems(() => load(undefined, {}, { upstream: UPSTREAM, port: "9090" })))).toEqual([
      "admin.port",
    ]);
  });
});

describe("config.example.yaml", () => {
  const examplePath = fileURLToPath(new URL("../../config.example.yaml", import.meta.url));
  const env = { LINE_CHANNEL_SECRET: "line-secret", GITHUB_WEBHOOK_SECRET: "gh-secret" };

  /** The example with its commented `# --- ... example` blocks switched on. */
  function uncommented(): string {
    let inBlock = false;
    const lines = readFileSync(examplePath, "utf8").split("\n");
    return lines
      .map((line) => {
        if (line.startsWith("# --- end")) inBlock = false;
        else if (line.startsWith("# ---")) inBlock = true;
        else if (inBlock) return line.replace(/^# ?/, "");
        return line;
      })
      .join("\n");
  }

  test("loads as shipped and states the built-in defaults", () => {
    const fromExample = loadConfig({ env: {}, flags: { config: examplePath } });
    expect(fromExample).toEqual(loadConfig({ env: {}, flags: { upstream: UPSTREAM } }));
  });

  test("loads with its routes and alerts examples uncommented", () => {
    const config = loadConfig({ env, flags: { config: "example.yaml" }, readFile: uncommented });
    expect(config.routes.map((route) => [route.name, route.pathPrefix, route.verify?.scheme])).toEqual([
      ["line", "/line", "line"],
      ["github", "/github", "github"],
      ["signed", "/signed", "hmac"],
    ]);
    expect(config.routes[0]?.verify?.secrets).toEqual(["line-secret"]);
    expect(config.routes[0]?.dedup).toEqual({ source: { kind: "line" }, windowMs: 86_400_000 });
    expect(config.routes[2]?.verify?.secrets).toEqual(["change-me"]);
    expect(config.routes[1]?.passthrough).toEqual([{ header: { name: "x-github-event", equals: "ping" } }]);
    expect(config.alerts).toHaveLength(1);
  });
});
