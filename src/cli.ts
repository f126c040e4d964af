#!/usr/bin/env node
import { parseArgs } from "node:util";
import { isUsageMistake, runAdminCommand } from "./cli/admin-commands.js";
import { USAGE } from "./cli/usage.js";
import type { CliFlags } from "./config/index.js";
import { isConfigError, loadConfig } from "./config/index.js";
import { createLogger } from "./log.js";
import { StartupError, start } from "./main.js";
import { DatabaseLockedError } from "./store/index.js";

/** `serve`'s flags; a mistake in them prints the help and exits 2, like an admin command's. */
function serveFlags(args: string[]) {
  return parseArgs({
    args,
    options: {
      config: { type: "string", short: "c" },
      upstream: { type: "string", short: "u" },
      host: { type: "string" },
      port: { type: "string", short: "p" },
      "admin-host": { type: "string" },
      "admin-port": { type: "string" },
      "admin-token": { type: "string" },
      "admin-token-file": { type: "string" },
      db: { type: "string" },
      synchronous: { type: "string" },
      "database-url": { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
}

async function serve(args: string[]): Promise<number> {
  let values: ReturnType<typeof serveFlags>["values"];
  try {
    ({ values } = serveFlags(args));
  } catch (err) {
    if (!isUsageMistake(err)) throw err;
    process.stderr.write(`hookbuffer: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const flags: CliFlags = {};
  const pairs: Array<[keyof CliFlags, string | undefined]> = [
    ["config", values.config],
    ["upstream", values.upstream],
    ["host", values.host],
    ["port", values.port],
    ["adminHost", values["admin-host"]],
    ["adminPort", values["admin-port"]],
    ["adminToken", values["admin-token"]],
    ["adminTokenFile", values["admin-token-file"]],
    ["db", values.db],
    ["synchronous", values.synchronous],
    ["databaseUrl", values["database-url"]],
    ["logLevel", values["log-level"]],
  ];
  for (const [key, value] of pairs) if (value !== undefined) flags[key] = value;

  const config = loadConfig({ env: process.env, flags });
  const log = createLogger({ level: config.log.level });
  const running = await start({ config, log });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "shutting down");
    running.stop().then(
      () => log.flush(() => process.exit(0)),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        log.flush(() => process.exit(1));
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return -1; // keep running
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (first === undefined || first.startsWith("-")) return serve(argv);
  if (first === "serve") return serve(rest);
  return runAdminCommand(first, rest, process.env, process.stdout);
}

/** What an operator reads when start-up fails: one line (a list only for several config problems). */
function startupMessage(err: unknown): string {
  if (isConfigError(err)) {
    const [only, ...more] = err.issues;
    return only && more.length === 0 ? `invalid configuration: ${only.path}: ${only.message}` : err.message;
  }
  if (err instanceof DatabaseLockedError || err instanceof StartupError) return err.message;
  const text = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return `start-up failed: ${text.replace(/\s*\n\s*/g, " ")}${typeof code === "string" ? ` (${code})` : ""}`;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`hookbuffer: ${startupMessage(err)}\n`);
    process.exitCode = 2;
    // start() has released what it held; this only bounds the exit if something still lingers.
    setTimeout(() => process.exit(2), 2_000).unref();
  },
);
