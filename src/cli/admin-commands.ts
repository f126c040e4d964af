import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { EventJson, RouteJson } from "../admin/event-json.js";
import type { StatsReport } from "../stats/report.js";
import { eventsText, routeText, statsText } from "./format.js";
import { USAGE } from "./usage.js";

type Env = Record<string, string | undefined>;
type Stream = NodeJS.WritableStream;

const COMMON = {
  "admin-url": { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  json: { type: "boolean" },
} as const;
const FILTERS = {
  status: { type: "string" },
  route: { type: "string" },
  reason: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  "json-match": { type: "string", multiple: true },
  header: { type: "string", multiple: true },
  path: { type: "string" },
  "min-attempts": { type: "string" },
  "max-attempts": { type: "string" },
  "last-status": { type: "string" },
} as const;

/** Each command's flags (exported for the test that the help names them all). */
export const OPTIONS = {
  stats: { ...COMMON, from: { type: "string" }, to: { type: "string" }, route: { type: "string" } },
  events: {
    ...COMMON,
    ...FILTERS,
    limit: { type: "string" },
    cursor: { type: "string" },
    "scan-budget": { type: "string" },
  },
  redeliver: { ...COMMON, ...FILTERS, "dry-run": { type: "boolean" }, "request-id": { type: "string" } },
  pause: COMMON,
  resume: COMMON,
} as const;

/** Flag name -> API field name. */
const FILTER_FIELDS: Record<keyof typeof FILTERS, string> = {
  status: "status",
  route: "route",
  reason: "reason",
  since: "since",
  until: "until",
  "json-match": "json",
  header: "header",
  path: "path",
  "min-attempts": "min_attempts",
  "max-attempts": "max_attempts",
  "last-status": "last_status",
};

/** The filter flags that were given, under their API names. */
function filterFields(values: Record<string, unknown>): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [flag, field] of Object.entries(FILTER_FIELDS)) {
    const v = values[flag];
    if (typeof v === "string" || Array.isArray(v)) fields[field] = v as string | string[];
  }
  return fields;
}

/** A usage mistake: the command line, not the server, is wrong (exit 2). */
class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A mistake on the command line: ours, or parseArgs' ERR_PARSE_ARGS_* (unknown or malformed option). */
export function isUsageMistake(e: unknown): e is Error {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
}

type Call = (method: string, path: string, body?: unknown) => Promise<unknown>;

/** Non-2xx and network failures, already worded for the operator (exit 1). */
class ApiFailure extends Error {
  override readonly name = "ApiFailure";
}

function client(baseUrl: string, token: string | undefined): Call {
  const base = baseUrl.replace(/\/+$/, "");
  return async (method, path, body) => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    // The admin API refuses a change without a JSON content type (its cross-site guard).
    if (method !== "GET") headers["content-type"] = "application/json";
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, init);
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
      throw new ApiFailure(`cannot reach the admin API at ${base}${cause}`, { cause: err });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      json = null;
    }
    if (!res.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
      const message = error?.message ?? (text.trim() || res.statusText);
      throw new ApiFailure(`${message} (HTTP ${res.status}${error?.code ? `, ${error.code}` : ""})`);
    }
    return json;
  };
}

/**
 * The token to send: `--token-file` / HOOKBUFFER_ADMIN_TOKEN_FILE (kept out of `ps`), else
 * `--token` / HOOKBUFFER_ADMIN_TOKEN; trimmed, as a file usually ends in a newline.
 */
function adminToken(v: Connection, env: Env): string | undefined {
  const file = v["token-file"] ?? (env.HOOKBUFFER_ADMIN_TOKEN_FILE || undefined);
  if (file === undefined) return (v.token ?? env.HOOKBUFFER_ADMIN_TOKEN)?.trim() || undefined;
  try {
    return readFileSync(file, "utf8").trim() || undefined;
  } catch (err) {
    throw new UsageError(`cannot read the token file ${file}: ${(err as { code?: string }).code ?? err}`);
  }
}

/** Query string from the flags that were given, in a stable order; lists repeat their key. */
function query(values: Record<string, unknown>, keys: string[]): string {
  const q = new URLSearchParams();
  for (const k of keys) {
    const v = values[k];
    if (typeof v === "string" && v !== "") q.set(k, v);
    else if (Array.isArray(v)) for (const item of v) q.append(k, String(item));
  }
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}

function onePositional(positionals: string[], what: string): string {
  const [first, ...rest] = positionals;
  if (first === undefined || rest.length > 0) throw new UsageError(`expected exactly one ${what}`);
  return first;
}

type Connection = { "admin-url"?: string; token?: string; "token-file"?: string };

type Command = (args: string[], call: (v: Connection) => Call, out: Stream) => Promise<void>;

const print = (out: Stream, text: string) => out.write(`${text}\n`);
const printJson = (out: Stream, value: unknown) => print(out, JSON.stringify(value, null, 2));

const commands: Record<keyof typeof OPTIONS, Command> = {
  async stats(args, connect, out) {
    const { values } = parseArgs({ args, options: OPTIONS.stats, strict: true });
    const report = (await connect(values)(
      "GET",
      `/stats${query(values, ["from", "to", "route"])}`,
    )) as StatsReport;
    if (values.json) printJson(out, report);
    else print(out, statsText(report));
  },

  async events(args, connect, out) {
    const { values } = parseArgs({ args, options: OPTIONS.events, strict: true });
    const fields = {
      ...filterFields(values),
      limit: values.limit,
      cursor: values.cursor,
      scan_budget: values["scan-budget"],
    };
    const page = (await connect(values)("GET", `/events${query(fields, Object.keys(fields))}`)) as {
      events: EventJson[];
      next_cursor: string | null;
      explain: { scan: boolean; hint: string };
    };
    if (values.json) return void printJson(out, page);
    print(out, eventsText(page.events));
    // A scan is worth knowing about: it is slower, and a short page may not be the last.
    if (page.explain.scan) print(out, `\nSearch ${page.explain.hint}`);
    if (page.next_cursor !== null) print(out, `\nMore events: repeat with --cursor ${page.next_cursor}`);
  },

  async redeliver(args, connect, out) {
    const { values, positionals } = parseArgs({
      args,
      options: OPTIONS.redeliver,
      strict: true,
      allowPositionals: true,
    });
    const body: Record<string, unknown> = filterFields(values);
    const given = Object.keys(body).length > 0;
    if (positionals.length > 0) {
      if (given) throw new UsageError("give either an event id or filters, not both");
      const id = onePositional(positionals, "event id");
      const res = await connect(values)("POST", `/events/${encodeURIComponent(id)}/redeliver`);
      if (values.json) printJson(out, res);
      else print(out, `event ${id}: queued for redelivery`);
      return;
    }
    if (!given) throw new UsageError("give an event id, or filters such as --status dead");
    if (values["dry-run"]) body.dry_run = true;
    if (values["request-id"] !== undefined) body.request_id = values["request-id"];
    const res = (await connect(values)("POST", "/events/redeliver", body)) as {
      count: number;
      skipped?: number;
      ids?: string[];
      max?: number;
      over_max?: boolean;
    };
    const events = (n: number) => `${n} event${n === 1 ? "" : "s"}`;
    if (values.json) printJson(out, res);
    else if (values["dry-run"]) {
      const first = res.ids?.length ? `; first: ${res.ids.join(" ")}` : "";
      const over = res.over_max ? ` (more than the ${res.max} one request may redeliver)` : "";
      print(out, `${events(res.count)} match${res.count === 1 ? "es" : ""}${over}${first}`);
    } else {
      const skipped = res.skipped ? `; ${res.skipped} skipped (being delivered or gone)` : "";
      print(out, `${events(res.count)} queued for redelivery${skipped}`);
    }
  },

  pause: (args, connect, out) => setRoute("pause", args, connect, out),
  resume: (args, connect, out) => setRoute("resume", args, connect, out),
};

async function setRoute(
  action: "pause" | "resume",
  args: string[],
  connect: Parameters<Command>[1],
  out: Stream,
) {
  const { values, positionals } = parseArgs({
    args,
    options: OPTIONS[action],
    strict: true,
    allowPositionals: true,
  });
  const name = onePositional(positionals, "route name");
  const route = (await connect(values)("POST", `/routes/${encodeURIComponent(name)}/${action}`)) as RouteJson;
  if (values.json) printJson(out, route);
  else print(out, routeText(route));
}

/**
 * Runs one admin subcommand against the admin API. Returns the exit code: 0 done, 1 the server
 * refused or could not be reached, 2 a usage mistake. Errors go to `err` (stderr by default).
 */
export async function runAdminCommand(
  name: string,
  args: string[],
  env: Env,
  out: Stream,
  err: Stream = process.stderr,
): Promise<number> {
  const command = Object.hasOwn(commands, name) ? commands[name as keyof typeof commands] : undefined;
  if (!command) {
    err.write(`hookbuffer: unknown command ${name}\n\n${USAGE}\n`);
    return 2;
  }
  const connect = (v: Connection) =>
    client(v["admin-url"] ?? env.HOOKBUFFER_ADMIN_URL ?? "http://127.0.0.1:9090", adminToken(v, env));
  try {
    await command(args, connect, out);
    return 0;
  } catch (e) {
    if (e instanceof ApiFailure) {
      err.write(`hookbuffer ${name}: ${e.message}\n`);
      return 1;
    }
    if (isUsageMistake(e)) {
      err.write(`hookbuffer ${name}: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}
