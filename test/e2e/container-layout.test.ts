import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { envPairs, execForm, type Instruction, readDockerfile } from "../helpers/dockerfile.js";
import { waitFor } from "../helpers/hookbuffer.js";
import { tempDir } from "../helpers/temp.js";

/**
 * The proof that the image works without a Docker engine: every build-stage COPY and RUN of the
 * Dockerfile is replayed in a clean directory (system packages aside), the runtime stage is laid
 * out from the build stage's artefacts only, and the ENTRYPOINT, ENV and HEALTHCHECK are used as
 * written. Slow (npm ci compiles better-sqlite3): HOOKBUFFER_SKIP_SLOW=1 skips it locally, never in CI.
 */
const REPO = resolve(import.meta.dirname, "../..");
const skip = process.env.HOOKBUFFER_SKIP_SLOW === "1" && !process.env.CI;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number | null; output: string }>((done) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c));
    child.stderr.on("data", (c: Buffer) => (output += c));
    child.on("close", (code) => done({ code, output: output.slice(-4000) }));
  });
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
    s.on("error", fail);
  });
}

/** `COPY a b ./dest` -> sources and destination (no --from). */
function copyArgs(i: Instruction): { from: string | null; sources: string[]; dest: string } {
  const words = i.args.split(/\s+/);
  const fromFlag = words[0]?.startsWith("--from=") ? (words.shift() as string).slice(7) : null;
  const dest = words.pop() as string;
  return { from: fromFlag, sources: words, dest };
}

describe.skipIf(skip)("the container image, replayed without Docker", () => {
  test("builds, prunes dev dependencies, starts from the ENTRYPOINT, passes the HEALTHCHECK and exits 0 on SIGTERM", async () => {
    const [build, runtime] = readDockerfile(join(REPO, "Dockerfile"));
    if (!build || !runtime) throw new Error("expected a build and a runtime stage");
    const { dir, remove } = tempDir("hookbuffer-image-");
    let child: ChildProcess | undefined;
    try {
      const app = join(dir, "build");
      mkdirSync(app);
      // Prefer the local npm cache: the lockfile pins every version anyway.
      const npmEnv = { ...process.env, npm_config_prefer_offline: "true", NODE_ENV: "" };
      for (const step of build.instructions) {
        if (step.keyword === "COPY") {
          const { sources, dest } = copyArgs(step);
          for (const s of sources) {
            const target = dest.endsWith("/") ? join(app, dest, s) : join(app, dest);
            cpSync(join(REPO, s), target, { recursive: true });
          }
        } else if (step.keyword === "RUN") {
          if (step.args.startsWith("apt-get")) {
            expect(step.args).toMatch(/python3 make g\+\+/); // what better-sqlite3 needs to compile
            continue;
          }
          const out = await run("sh", ["-c", step.args], app, npmEnv);
          expect(out.code, `Dockerfile line ${step.line} (${step.args}) failed:\n${out.output}`).toBe(0);
        }
      }
      expect(existsSync(join(app, "dist/cli.js"))).toBe(true);
      expect(existsSync(join(app, "node_modules/typescript")), "dev dependencies must be pruned").toBe(false);
      expect(existsSync(join(app, "node_modules/vitest"))).toBe(false);

      // Runtime stage: a fake filesystem root, /app inside it, absolute paths mapped under it.
      const root = join(dir, "root");
      const at = (p: string) => (p.startsWith("/") ? join(root, p) : join(root, "app", p));
      mkdirSync(at("/app"), { recursive: true });
      const env: Record<string, string> = {};
      let entrypoint: string[] = [];
      let healthcheck: string[] = [];
      for (const step of runtime.instructions) {
        if (step.keyword === "ENV") {
          for (const [k, v] of envPairs(step.args)) env[k] = v.startsWith("/") ? at(v) : v;
        } else if (step.keyword === "COPY") {
          const { from, sources, dest } = copyArgs(step);
          for (const s of sources) {
            const source = from === "build" ? join(app, s.replace(/^\/app\/?/, "")) : join(REPO, s);
            expect(existsSync(source), `COPY source ${s} (line ${step.line})`).toBe(true);
            mkdirSync(dirname(at(dest)), { recursive: true });
            cpSync(source, at(dest), { recursive: true });
          }
        } else if (step.keyword === "RUN") {
          expect(step.args).toBe("mkdir -p /data && chown node:node /data");
          mkdirSync(at("/data"), { recursive: true });
        } else if (step.keyword === "ENTRYPOINT") {
          entrypoint = execForm(step.args);
        } else if (step.keyword === "HEALTHCHECK") {
          healthcheck = execForm(step.args);
        }
      }
      expect(env.HOOKBUFFER_CONFIG && existsSync(env.HOOKBUFFER_CONFIG)).toBe(true);
      expect(entrypoint[0]).toBe("node");

      const [port, adminPort] = [await freePort(), await freePort()];
      child = spawn(
        process.execPath,
        [
          ...entrypoint.slice(1),
          "--upstream",
          "http://127.0.0.1:1",
          "--port",
          String(port),
          "--admin-port",
          String(adminPort),
        ],
        { cwd: at("/app"), env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let logs = "";
      child.stdout?.on("data", (c: Buffer) => (logs += c));
      child.stderr?.on("data", (c: Buffer) => (logs += c));
      const exited = new Promise<number | null>((done) => child?.on("exit", (code) => done(code)));

      await waitFor(
        () =>
          fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => r.ok,
            () => false,
          ),
        15_000,
        `ingest /healthz (logs: ${logs})`,
      );
      const admin = await fetch(`http://127.0.0.1:${adminPort}/healthz`);
      expect(admin.status).toBe(200);
      expect(existsSync(at("/data/hookbuffer.db")), "HOOKBUFFER_DB puts the database on the volume").toBe(
        true,
      );

      const check = healthcheck.map((a) => a.replace("127.0.0.1:8080", `127.0.0.1:${port}`));
      expect(check[0]).toBe("node");
      const health = await run(process.execPath, check.slice(1), dir);
      expect(health.code, health.output).toBe(0);

      child.kill("SIGTERM");
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("timeout"), 15_000))]);
      expect(code, logs).toBe(0);
      child = undefined;
      expect(readFileSync(join(app, "package.json"), "utf8")).toContain('"hookbuffer"');
    } finally {
      child?.kill("SIGKILL");
      remove();
    }
  }, 300_000);
});
