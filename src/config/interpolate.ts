/**
 * `${VAR}` and `${VAR:-default}` inside YAML string values, so secrets stay out of the file. Only
 * values are interpolated, never keys, and only from the injected environment. `$${` is a literal `${`.
 */
import type { ConfigIssue } from "./config-error.js";
import { formatPath } from "./issues.js";

const REFERENCE = /\$(\$?)\{([^}]*)\}/g;
const INNER = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

function interpolateString(
  text: string,
  env: Record<string, string | undefined>,
  path: PropertyKey[],
  issues: ConfigIssue[],
): string {
  return text.replace(REFERENCE, (whole, escaped: string, inner: string) => {
    if (escaped !== "") return whole.slice(1);
    const match = INNER.exec(inner);
    if (match === null) {
      issues.push({
        path: formatPath(path),
        message: `malformed reference ${whole}: expected \${NAME} or \${NAME:-default}`,
      });
      return whole;
    }
    const name = match[1] ?? "";
    const fallback = match[2];
    const value = env[name];
    // As in POSIX shells, `:-` also covers a variable that is set but empty.
    if (fallback !== undefined) return value === undefined || value === "" ? fallback : value;
    if (value === undefined) {
      issues.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
      return whole;
    }
    return value;
  });
}

/** Returns a copy of the parsed YAML tree with references replaced; problems go to `issues`. */
export function interpolate(
  value: unknown,
  env: Record<string, string | undefined>,
  issues: ConfigIssue[],
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === "string") return interpolateString(value, env, path, issues);
  if (Array.isArray(value))
    return value.map((item, index) => interpolate(item, env, issues, [...path, index]));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, env, issues, [...path, key])]),
    );
  }
  return value;
}
