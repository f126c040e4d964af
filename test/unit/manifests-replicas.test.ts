import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { DEFAULT_ADMIN, DEFAULT_LISTEN } from "../../src/config/defaults.js";
import { loadConfig } from "../../src/config/index.js";
import { envPairs, readDockerfile } from "../helpers/dockerfile.js";

const REPO = resolve(import.meta.dirname, "../..");
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; the assertions are the schema.
type Doc = any;

/** The runtime image's ENV: what a container starts with before the manifest's own env. */
const runtime = readDockerfile(join(REPO, "Dockerfile"))[1];
const imageEnv = Object.fromEntries(
  runtime?.instructions.filter((i) => i.keyword === "ENV").flatMap((i) => envPairs(i.args)) ?? [],
);
const IMAGE_CONFIG = imageEnv.HOOKBUFFER_CONFIG as string;
const example = readFileSync(join(REPO, "config.example.yaml"), "utf8");

/** PostgreSQL's own default max_connections, less its default superuser_reserved_connections. */
const CONNECTION_BUDGET = 100 - 3;

describe("deploy/kubernetes/replicas.yaml", () => {
  const docs: Doc[] = parseAllDocuments(
    readFileSync(join(REPO, "deploy/kubernetes/replicas.yaml"), "utf8"),
  ).map((d) => {
    if (d.errors.length > 0) throw d.errors[0];
    return d.toJS();
  });
  const kind = (k: string): Doc => {
    const found = docs.filter((d) => d.kind === k);
    expect(found, `exactly one ${k}`).toHaveLength(1);
    return found[0];
  };
  const deployment = kind("Deployment");
  const pod = deployment.spec.template.spec;
  const hb = pod.containers.find((c: Doc) => c.name === "hookbuffer");
  const secret = kind("Secret");
  /** The container's environment as the pod gets it: the image's ENV, then the manifest's env. */
  const podEnv = (): Record<string, string> => {
    const env: Record<string, string> = { ...imageEnv };
    for (const e of hb.env) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref !== undefined) expect(ref.name).toBe(secret.metadata.name);
      env[e.name] = ref === undefined ? e.value : secret.stringData[ref.key];
    }
    return env;
  };
  const config = () =>
    loadConfig({
      env: podEnv(),
      flags: {},
      readFile: (path) => {
        expect(path).toBe(hb.volumeMounts.find((m: Doc) => m.name === "config").mountPath + "/config.yaml");
        return kind("ConfigMap").data["config.yaml"];
      },
    });

  test("several replicas, the database URL from the Secret, no SQLite volume", () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    const url = hb.env.find((e: Doc) => e.name === "HOOKBUFFER_DATABASE_URL");
    expect(url.valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
    expect(pod.volumes.some((v: Doc) => v.persistentVolumeClaim !== undefined)).toBe(false);
  });

  test("the ConfigMap's config loads on the image with the pod's env, selecting PostgreSQL", () => {
    const loaded = config();
    expect(loaded.storage.url).toBe(secret.stringData["database-url"]);
    expect(loaded.storage.schema).toBe("hookbuffer");
    expect(loaded.admin.token).toBe(secret.stringData["admin-token"]);
    expect(loaded.listen.port).toBe(DEFAULT_LISTEN.port);
    expect(loaded.admin.port).toBe(DEFAULT_ADMIN.port);
    // Every replica's pool, its two claim connections and its LISTEN connection fit PostgreSQL's
    // default connection limit (README, Several replicas).
    expect(deployment.spec.replicas * (loaded.storage.poolSize + 3)).toBeLessThanOrEqual(CONNECTION_BUDGET);
  });

  test("probes hit the real endpoints; the Service and the budget select the pods", () => {
    const loaded = config();
    const port = (name: string) => hb.ports.find((p: Doc) => p.name === name).containerPort;
    expect(port("ingest")).toBe(loaded.listen.port);
    expect(port("admin")).toBe(loaded.admin.port);
    expect(hb.livenessProbe.httpGet).toEqual({ path: "/healthz", port: loaded.listen.port });
    const readiness = hb.readinessProbe.exec.command.join(" ");
    expect(readiness).toContain(`http://127.0.0.1:${loaded.admin.port}/readyz`);
    expect(readiness).toContain("process.env.HOOKBUFFER_ADMIN_TOKEN");
    const labels = deployment.spec.template.metadata.labels;
    expect(kind("Service").spec.selector).toEqual(labels);
    expect(kind("Service").spec.ports.map((p: Doc) => p.targetPort)).toEqual(["ingest"]);
    const budget = kind("PodDisruptionBudget");
    expect(budget.spec.selector.matchLabels).toEqual(labels);
    expect(budget.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    expect(hb.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
  });
});

describe("deploy/docker-compose.postgres.yaml", () => {
  const compose: Doc = parse(readFileSync(join(REPO, "deploy/docker-compose.postgres.yaml"), "utf8"), {
    merge: true,
  });
  const replicas = Object.entries(compose.services).filter(([name]) => name.startsWith("hookbuffer"));
  /** Compose's `${VAR:?message}` and `${VAR:-default}` with these values. */
  const substitute = (text: string, values: Record<string, string>) =>
    text.replace(/\$\{(\w+)(?::[?-][^}]*)?\}/g, (_, name: string) => values[name] ?? "");

  test("PostgreSQL 15 with a pg_isready health check, two replicas waiting for it", () => {
    expect(compose.services.postgres.image).toBe("postgres:15");
    expect(compose.services.postgres.healthcheck.test.join(" ")).toContain("pg_isready");
    expect(replicas).toHaveLength(2);
    for (const [, service] of replicas as Array<[string, Doc]>) {
      expect(service.depends_on.postgres).toEqual({ condition: "service_healthy" });
      expect(service.depends_on.bot).toBeDefined();
    }
    const published = replicas.flatMap(([, s]) => (s as Doc).ports.map((p: string) => p.split(":").at(-2)));
    expect(new Set(published).size).toBe(published.length);
  });

  test("each replica's env on the image's own config selects the compose PostgreSQL", () => {
    const values = { POSTGRES_PASSWORD: "pw", HOOKBUFFER_ADMIN_TOKEN: "t" };
    const db = compose.services.postgres.environment;
    for (const [, service] of replicas as Array<[string, Doc]>) {
      const env: Record<string, string> = { ...imageEnv };
      for (const [name, value] of Object.entries(service.environment as Record<string, string>))
        env[name] = substitute(String(value), values);
      const loaded = loadConfig({
        env,
        flags: {},
        readFile: (path) => {
          expect(path).toBe(IMAGE_CONFIG);
          return example;
        },
      });
      const url = new URL(loaded.storage.url ?? "");
      expect(url.hostname).toBe("postgres");
      expect([url.username, url.password, url.pathname]).toEqual([
        db.POSTGRES_USER,
        substitute(db.POSTGRES_PASSWORD, values),
        `/${db.POSTGRES_DB}`,
      ]);
      expect(loaded.routes[0]?.upstream).toMatch(/^http:\/\/bot:\d+$/);
    }
  });
});
