/**
 * `admin.token_file`: the admin token read from a file (a Kubernetes secret mount, a Docker
 * secret), so it appears neither in `ps` (as `--admin-token` does) nor in the environment.
 */
import type { ConfigIssue } from "./config-error.js";

/**
 * Replaces `admin.token_file` in the raw tree with the file's content as `admin.token` (trimmed by
 * the schema like any token). Problems are reported against `admin.token_file`.
 */
export function resolveTokenFile(
  tree: Record<string, unknown>,
  readFile: (path: string) => string,
  issues: ConfigIssue[],
): void {
  const admin = tree.admin;
  if (admin === null || typeof admin !== "object" || !("token_file" in admin)) return;
  const section = admin as Record<string, unknown>;
  const file = section.token_file;
  delete section.token_file;
  if (file === null || file === undefined) return;
  if (typeof file !== "string" || file.trim() === "") {
    issues.push({ path: "admin.token_file", message: "expected a file path" });
    return;
  }
  if (section.token !== undefined && section.token !== null) {
    issues.push({ path: "admin.token_file", message: "set only one of admin.token and admin.token_file" });
    return;
  }
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    const reason = (error as { code?: unknown }).code ?? (error instanceof Error ? error.message : error);
    issues.push({ path: "admin.token_file", message: `cannot read ${file}: ${String(reason)}` });
    return;
  }
  if (text.trim() === "") {
    issues.push({ path: "admin.token_file", message: `${file} is empty` });
    return;
  }
  section.token = text;
}
