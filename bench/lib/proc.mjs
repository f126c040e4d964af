// Child processes for the harness: each server runs alone in its own process, announces its port
// with a JSON "listening" line, and is killed when the harness exits, whatever happens.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const children = new Set();
const killAll = () => {
  for (const c of children) c.kill("SIGKILL");
};
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** Starts `node <script> ...args` and resolves once it logs a listening line. */
export function startServer(script, args = [], env = {}, timeoutMs = 60_000) {
  const started = performance.now();
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  children.add(child);
  let out = "";
  const exited = new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      children.delete(child);
      resolve(code ?? signal);
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${out}`)), timeoutMs);
    const onData = (chunk) => {
      out += chunk;
      for (const line of out.split("\n")) {
        if (!/"(hookbuffer listening|listening)"/.test(line)) continue;
        clearTimeout(timer);
        child.stdout.off("data", onData);
        const info = JSON.parse(line);
        const port = info.port ?? Number(String(info.ingest).split(":").pop());
        const adminPort = info.admin ? Number(String(info.admin).split(":").pop()) : null;
        resolve({
          child,
          port,
          adminPort,
          startupMs: performance.now() - started,
          exited,
          output: () => out,
          rssMb: () => rssMb(child.pid),
          cpuMs: () => cpuMs(child.pid),
          stop: async (signal = "SIGTERM") => {
            child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (c) => {
      out += c;
    });
    exited.then((code) => reject(new Error(`${script} exited (${code}) before listening:\n${out}`)));
  });
}

/** Runs a node script to completion and parses the last JSON line it prints. */
export function runJson(script, args = [], env = {}) {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  let out = "";
  child.stdout.on("data", (c) => {
    out += c;
  });
  return new Promise((resolve, reject) =>
    child.on("exit", (code) => {
      children.delete(child);
      const last = out.trim().split("\n").pop();
      if (code !== 0 || !last) reject(new Error(`${script} failed (${code}):\n${out}`));
      else resolve(JSON.parse(last));
    }),
  );
}

export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** CPU time a process has used so far, all threads, user + system (ms; Linux /proc). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which may itself hold spaces: utime and stime are 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100 on Linux
}

/** CPU time of every PostgreSQL server process so far (ms; root or the postgres user can read it). */
export function postgresCpuMs() {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "postgres") total += cpuMs(pid);
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

/** The upstream's (bench/servers/upstream.mjs) answered-request count and CPU time so far. */
export function upstreamState(up) {
  return new Promise((r) => {
    up.child.once("message", r);
    up.child.send("count");
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
