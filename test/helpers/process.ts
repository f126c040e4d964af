import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { testCliStorage } from "./test-store.js";

export const CLI = resolve(import.meta.dirname, "../../dist/cli.js");

export interface Child {
  proc: ChildProcess;
  /** Ingest and admin base URLs, read from the "listening" log line. */
  ingestUrl: string;
  adminUrl: string;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Runs the built CLI to completion (killed after `timeoutMs`); resolves with its exit code and output. */
export function runCli(
  args: string[],
  options: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<{ code: number | null; output: string; ms: number }> {
  const began = Date.now();
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? "", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    proc.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    proc.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 10_000);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - began });
    });
  });
}

/**
 * Spawns the built CLI and waits until it logs that it listens. Under the PostgreSQL test store
 * (test/helpers/test-store.ts) `--db PATH` becomes that path's schema, unless `env` names a
 * database itself.
 */
export async function spawnHookbuffer(args: string[], env: Record<string, string> = {}): Promise<Child> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const storage = env.HOOKBUFFER_DATABASE_URL ? { args, env: {} } : await testCliStorage(args);
  const proc = spawn(
    process.execPath,
    [CLI, "--port", "0", "--admin-port", "0", "--host", "127.0.0.1", ...storage.args],
    {
      env: { PATH: process.env.PATH ?? "", ...storage.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  proc.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | string>((res) =>
    proc.on("exit", (code, signal) => res(code ?? signal ?? -1)),
  );
  const listening = await new Promise<{ ingest: string; admin: string }>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`hookbuffer did not start:\n${out}`)), 10_000);
    const check = () => {
      const line = out.split("\n").find((l) => l.includes('"hookbuffer listening"'));
      if (line) {
        clearTimeout(timer);
        res(JSON.parse(line) as { ingest: string; admin: string });
      }
    };
    proc.stdout?.on("data", check);
    void exited.then(() => {
      clearTimeout(timer);
      rej(new Error(`hookbuffer exited before listening:\n${out}`));
    });
  });
  return {
    proc,
    ingestUrl: `http://${listening.ingest}`,
    adminUrl: `http://${listening.admin}`,
    output: () => out,
    exited,
  };
}
