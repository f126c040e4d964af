/**
 * Environment variables and CLI flags as overrides on the file's tree: each names a key path, a raw
 * value and where it came from, so a problem with it can say "(from HOOKBUFFER_PORT)".
 */
import YAML from "yaml";
import type { ConfigIssue } from "./config-error.js";

/** Flags as the CLI parsed them: raw strings, validated with everything else. */
export interface CliFlags {
  /** Path of the YAML file (`--config`). */
  config?: string;
  upstream?: string;
  host?: string;
  port?: string;
  adminHost?: string;
  adminPort?: string;
  adminToken?: string;
  adminTokenFile?: string;
  db?: string;
  synchronous?: string;
  /** `--database-url`: storage.url. */
  databaseUrl?: string;
  logLevel?: string;
}

export interface Override {
  /** Key path in the user shape, e.g. ["listen", "port"]. */
  path: string[];
  value: unknown;
  /** `HOOKBUFFER_PORT` or `--port`, for messages. */
  origin: string;
}

const NAMED: ReadonlyArray<
  [flag: Exclude<keyof CliFlags, "config">, flagName: string, env: string, path: string[]]
> = [
  ["upstream", "--upstream", "HOOKBUFFER_UPSTREAM", ["upstream"]],
  ["host", "--host", "HOOKBUFFER_HOST", ["listen", "host"]],
  ["port", "--port", "HOOKBUFFER_PORT", ["listen", "port"]],
  ["adminHost", "--admin-host", "HOOKBUFFER_ADMIN_HOST", ["admin", "host"]],
  ["adminPort", "--admin-port", "HOOKBUFFER_ADMIN_PORT", ["admin", "port"]],
  ["adminToken", "--admin-token", "HOOKBUFFER_ADMIN_TOKEN", ["admin", "token"]],
  ["adminTokenFile", "--admin-token-file", "HOOKBUFFER_ADMIN_TOKEN_FILE", ["admin", "token_file"]],
  ["db", "--db", "HOOKBUFFER_DB", ["storage", "path"]],
  ["synchronous", "--synchronous", "HOOKBUFFER_SYNCHRONOUS", ["storage", "synchronous"]],
  ["databaseUrl", "--database-url", "HOOKBUFFER_DATABASE_URL", ["storage", "url"]],
  ["logLevel", "--log-level", "HOOKBUFFER_LOG_LEVEL", ["log", "level"]],
];

const PREFIX = "HOOKBUFFER_";
const SEGMENT = /^[a-z0-9_]+$/;

/**
 * Reads a generic variable's value as YAML so numbers, booleans and `[400, 410]` work, but keeps the
 * text when YAML would change it (a token `0123` must not become the number 123).
 */
function parseScalar(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch {
    return text;
  }
  if (typeof parsed === "string") return text;
  if (typeof parsed === "number" || typeof parsed === "boolean")
    return String(parsed) === text.trim() ? parsed : text;
  if (parsed === null) return /^(null|~)$/.test(text.trim()) ? null : text;
  return parsed;
}

/**
 * The named variables plus the generic `HOOKBUFFER_<A>__<B>` form (key path a.b, lower-cased).
 * Empty values count as unset, as orchestrators often export empty variables. Other HOOKBUFFER_*
 * variables (no `__`) are left alone: they may belong to other tools.
 */
export function envOverrides(env: Record<string, string | undefined>, issues: ConfigIssue[]): Override[] {
  const generic: Override[] = [];
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (!name.startsWith(PREFIX) || !name.includes("__") || value === undefined || value === "") continue;
    const path = name.slice(PREFIX.length).toLowerCase().split("__");
    if (!path.every((segment) => SEGMENT.test(segment))) {
      issues.push({
        path: name,
        message: "cannot be mapped to a config key (expected HOOKBUFFER_<KEY>__<KEY>)",
      });
      continue;
    }
    generic.push({ path, value: parseScalar(value), origin: name });
  }
  const named: Override[] = [];
  for (const [, , envName, path] of NAMED) {
    const value = env[envName];
    if (value !== undefined && value !== "") named.push({ path, value, origin: envName });
  }
  // The named variables are the documented interface; they win over a generic spelling of the same key.
  return [...generic, ...named];
}

export function flagOverrides(flags: CliFlags): Override[] {
  const out: Override[] = [];
  for (const [flag, flagName, , path] of NAMED) {
    const value = flags[flag];
    if (value !== undefined) out.push({ path, value, origin: flagName });
  }
  return out;
}

/** Sets `override.path` in `tree`, creating objects on the way. */
export function applyOverride(tree: Record<string, unknown>, override: Override): void {
  const { path, value } = override;
  let node: Record<string, unknown> = tree;
  for (const [depth, segment] of path.entries()) {
    if (depth === path.length - 1) {
      node[segment] = value;
      return;
    }
    let child = node[segment];
    if (child === null || typeof child !== "object") {
      child = {};
      node[segment] = child;
    }
    // Arrays index by the numeric segment as plain objects do: HOOKBUFFER_ROUTES__0__UPSTREAM.
    node = child as Record<string, unknown>;
  }
}
