import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { DEFAULT_ADMIN, DEFAULT_LISTEN } from "../../src/config/defaults.js";
import { loadConfig } from "../../src/config/index.js";
import { envPairs, execForm, readDockerfile } from "../helpers/dockerfile.js";
import { tempDir } from "../helpers/temp.js";

const REPO = resolve(import.meta.dirname, "../..");
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; the assertions are the schema.
type Doc = any;

const k8s: Doc[] = parseAllDocuments(readFileSync(join(REPO, "deploy/kubernetes/sidecar.yaml"), "utf8")).map(
  (d) => {
    if (d.errors.length > 0) throw d.errors[0];
    return d.toJS();
  },
);
const kind = (k: string): Doc => {
  const found = k8s.filter((d) => d.kind === k);
  expect(found, `exactly one ${k}`).toHaveLength(1);
  return found[0];
};
const envOf = (container: Doc) => new Map<string, Doc>(container.env.map((e: Doc) => [e.name, e]));
const portOf = (container: Doc, name: string): number =>
  container.ports.find((p: Doc) => p.name === name)?.containerPort;

describe("deploy/kubernetes/sidecar.yaml", () => {
  const deployment = kind("Deployment");
  const pod = deployment.spec.template.spec;
  const hb = pod.containers.find((c: Doc) => c.name === "hookbuffer");
  const env = envOf(hb);

  test("runs a bot and hookbuffer in one pod, one replica, replaced not rolled", () => {
    expect(pod.containers.map((c: Doc) => c.name).sort()).toEqual(["bot", "hookbuffer"]);
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy.type).toBe("Recreate");
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(10);
  });

  test("the container ports are the config defaults and only ingest is in the Service", () => {
    expect(portOf(hb, "ingest")).toBe(DEFAULT_LISTEN.port);
    expect(portOf(hb, "admin")).toBe(DEFAULT_ADMIN.port);
    const ports: Doc[] = kind("Service").spec.ports;
    expect(ports.map((p) => p.targetPort)).toEqual(["ingest"]);
    expect(kind("Service").spec.selector).toEqual(deployment.spec.template.metadata.labels);
  });

  test("the database sits on the claimed volume and the config on the ConfigMap", () => {
    const mount = (name: string) => hb.volumeMounts.find((m: Doc) => m.name === name).mountPath as string;
    const volume = (name: string) => pod.volumes.find((v: Doc) => v.name === name);
    expect(dirname(env.get("HOOKBUFFER_DB").value)).toBe(mount("data"));
    expect(volume("data").persistentVolumeClaim.claimName).toBe(kind("PersistentVolumeClaim").metadata.name);
    expect(dirname(env.get("HOOKBUFFER_CONFIG").value)).toBe(mount("config"));
    expect(volume("config").configMap.name).toBe(kind("ConfigMap").metadata.name);
  });

  test("the ConfigMap's config loads and agrees with ports, probes and secrets", () => {
    const secret = kind("Secret");
    const fromSecret = (name: string) => {
      const ref = env.get(name).valueFrom.secretKeyRef;
      expect(ref.name).toBe(secret.metadata.name);
      return secret.stringData[ref.key] as string;
    };
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, "config.yaml");
      writeFileSync(file, kind("ConfigMap").data["config.yaml"]);
      const config = loadConfig({
        env: {
          HOOKBUFFER_DB: env.get("HOOKBUFFER_DB").value,
          HOOKBUFFER_ADMIN_TOKEN: fromSecret("HOOKBUFFER_ADMIN_TOKEN"),
          LINE_CHANNEL_SECRET: fromSecret("LINE_CHANNEL_SECRET"),
        },
        flags: { config: file },
      });
      expect(config.listen.port).toBe(portOf(hb, "ingest"));
      expect(config.admin.port).toBe(portOf(hb, "admin"));
      expect(config.admin.token).toBe(secret.stringData["admin-token"]);
      expect(config.storage.path).toBe(env.get("HOOKBUFFER_DB").value);
      expect(config.routes[0]?.verify?.secrets).toEqual([secret.stringData["line-channel-secret"]]);
      expect(hb.livenessProbe.httpGet).toEqual({ path: "/healthz", port: config.listen.port });
      const readiness = hb.readinessProbe.exec.command.join(" ");
      expect(readiness).toContain(`http://127.0.0.1:${config.admin.port}/readyz`);
      expect(readiness).toContain("process.env.HOOKBUFFER_ADMIN_TOKEN");
      expect(config.routes[0]?.upstream).toContain(
        `:${pod.containers.find((c: Doc) => c.name === "bot").ports[0].containerPort}`,
      );
    } finally {
      remove();
    }
  });
});

describe("deploy/docker-compose.yaml", () => {
  const compose: Doc = parse(readFileSync(join(REPO, "deploy/docker-compose.yaml"), "utf8"));
  const hb = compose.services.hookbuffer;

  test("publishes ingest on the default port and admin on the host's loopback only", () => {
    expect(hb.ports).toEqual([
      `${DEFAULT_LISTEN.port}:${DEFAULT_LISTEN.port}`,
      `127.0.0.1:${DEFAULT_ADMIN.port}:${DEFAULT_ADMIN.port}`,
    ]);
    expect(hb.environment.HOOKBUFFER_ADMIN_TOKEN).toMatch(/\$\{HOOKBUFFER_ADMIN_TOKEN:\?/);
  });

  test("keeps the database on a named volume and replays to the bot", () => {
    expect(hb.volumes).toContain(`hookbuffer-data:${dirname(hb.environment.HOOKBUFFER_DB)}`);
    expect(hb.volumes.some((v: string) => v.endsWith(`:${hb.environment.HOOKBUFFER_CONFIG}:ro`))).toBe(true);
    expect(Object.keys(compose.volumes)).toContain("hookbuffer-data");
    expect(hb.environment.HOOKBUFFER_UPSTREAM).toMatch(/^http:\/\/bot:\d+$/);
  });
});

describe("Dockerfile", () => {
  const [build, runtime] = readDockerfile(join(REPO, "Dockerfile"));
  const one = (k: string) => runtime?.instructions.filter((i) => i.keyword === k).map((i) => i.args) ?? [];

  test("builds on a slim LTS image and runs as a non-root user", () => {
    expect(build?.from).toMatch(/^node:(22|24)-bookworm-slim$/);
    expect(runtime?.from).toBe(build?.from);
    expect(one("USER")).toEqual(["node"]);
    expect(one("STOPSIGNAL")).toEqual(["SIGTERM"]);
  });

  test("exposes the default ports, keeps the database on the volume and checks the ingest /healthz", () => {
    expect(one("EXPOSE")).toEqual([`${DEFAULT_LISTEN.port} ${DEFAULT_ADMIN.port}`]);
    const env = new Map(one("ENV").flatMap(envPairs));
    expect(one("VOLUME")).toEqual([dirname(env.get("HOOKBUFFER_DB") ?? "")]);
    expect(env.get("HOOKBUFFER_CONFIG")).toBe("/etc/hookbuffer/config.yaml");
    const check = execForm(one("HEALTHCHECK")[0] ?? "").join(" ");
    expect(check).toContain(`http://127.0.0.1:${DEFAULT_LISTEN.port}/healthz`);
  });
});
