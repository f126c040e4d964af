/**
 * Loads the configuration. Sources, later wins: built-in defaults < YAML file (`--config` or
 * HOOKBUFFER_CONFIG) < environment < CLI flags. Every problem from every source is collected and
 * thrown once as a ConfigError.
 */
import { readFileSync } from "node:fs";
import YAML from "yaml";
import { ConfigError, type ConfigIssue } from "./config-error.js";
import { interpolate } from "./interpolate.js";
import { formatPath, fromZodIssues } from "./issues.js";
import { resolveConfig } from "./resolve.js";
import { configSchema } from "./schema.js";
import { applyOverride, type CliFlags, envOverrides, flagOverrides, type Override } from "./sources.js";
import { resolveTokenFile } from "./token-file.js";
import type { Config } from "./types.js";

export type { CliFlags } from "./sources.js";

export interface ConfigSources {
  /** Usually `process.env`: HOOKBUFFER_* settings and the values `${VAR}` references resolve to. */
  env: Record<string, string | undefined>;
  flags: CliFlags;
  /** Reads a file as UTF-8; injectable for tests. */
  readFile?: (path: string) => string;
}

const defaultReadFile = (path: string): string => readFileSync(path, "utf8");

/** Parses and interpolates the YAML file; returns undefined when nothing usable could be read. */
function readYaml(
  file: string,
  sources: ConfigSources,
  issues: ConfigIssue[],
): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = (sources.readFile ?? defaultReadFile)(file);
  } catch (error) {
    issues.push({
      path: file,
      message: `cannot read: ${error instanceof Error ? error.message : String(error)}`,
    });
    return undefined;
  }
  // merge: true allows `<<: *defaults`, handy for routes sharing a delivery block.
  const doc = YAML.parseDocument(text, { merge: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      issues.push({ path: file, message: `YAML ${error.message.split("\n")[0]?.replace(/:$/, "")}` });
    }
    return undefined;
  }
  const tree: unknown = doc.toJS();
  if (tree === null || tree === undefined) return {};
  if (typeof tree !== "object" || Array.isArray(tree)) {
    issues.push({ path: file, message: "expected a mapping of keys at the top level" });
    return undefined;
  }
  return interpolate(tree, sources.env, issues) as Record<string, unknown>;
}

/** Adds "(from HOOKBUFFER_PORT)" to problems with a value an env var or flag supplied. */
function withOrigin(issue: ConfigIssue, overrides: Override[]): ConfigIssue {
  const origin = overrides.findLast((override) => {
    const path = formatPath(override.path);
    return issue.path === path || issue.path.startsWith(`${path}.`) || issue.path.startsWith(`${path}[`);
  })?.origin;
  return origin === undefined ? issue : { path: issue.path, message: `${issue.message} (from ${origin})` };
}

/** Builds the resolved Config from defaults, file, environment and flags; throws ConfigError. */
export function loadConfig(sources: ConfigSources): Config {
  const issues: ConfigIssue[] = [];
  const file = sources.flags.config ?? (sources.env["HOOKBUFFER_CONFIG"] || undefined);
  const tree = file === undefined ? {} : readYaml(file, sources, issues);
  const overrides = [...envOverrides(sources.env, issues), ...flagOverrides(sources.flags)];
  // A file we could not parse would only add noise such as "upstream: required"; stop here.
  if (tree === undefined) throw new ConfigError(issues);
  for (const override of overrides) applyOverride(tree, override);
  resolveTokenFile(tree, sources.readFile ?? defaultReadFile, issues);

  const parsed = configSchema.safeParse(tree);
  const found = parsed.success ? [] : fromZodIssues(parsed.error.issues);
  const resolved = parsed.success ? resolveConfig(parsed.data) : undefined;
  // A value left unresolved by interpolation already has its problem; its schema error would repeat it.
  const reported = new Set(issues.map((issue) => issue.path));
  const later = [...found, ...(resolved?.issues ?? [])].filter((issue) => !reported.has(issue.path));
  issues.push(...later.map((issue) => withOrigin(issue, overrides)));

  if (issues.length > 0 || resolved === undefined) throw new ConfigError(issues);
  return resolved.config;
}
