/** Turns zod's issues into `ConfigIssue`s whose paths read like the YAML: `routes[0].delivery.timeout`. */
import type { z } from "zod";
import type { ConfigIssue } from "./config-error.js";

/** `["routes", 0, "upstream"]` -> `routes[0].upstream`. */
export function formatPath(segments: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out === "" ? "(root)" : out;
}

export function fromZodIssues(issues: ReadonlyArray<z.core.$ZodIssue>): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      // One line per key: each typo is its own fix.
      for (const key of issue.keys)
        out.push({ path: formatPath([...issue.path, key]), message: "unknown key" });
      continue;
    }
    const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
    out.push({ path: formatPath(issue.path), message: missing ? "required" : issue.message });
  }
  return out;
}
