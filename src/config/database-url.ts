/**
 * `storage.url`: the PostgreSQL connection URL that selects the shared store (README, Several
 * replicas). It usually carries a password, so nothing here ever puts the URL's text in a message:
 * a refusal names the scheme at most, and `redactDatabaseUrl` is the form to log.
 */
import { z } from "zod";

const SCHEMES = new Set(["postgres:", "postgresql:"]);

/** A postgres:// or postgresql:// URL, kept as written (the driver parses it again). */
export const databaseUrl = z.string().transform((value, ctx) => {
  const text = value.trim();
  if (text === "") {
    ctx.addIssue({ code: "custom", message: "must not be empty (leave it out, or null, for SQLite)" });
    return z.NEVER;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not echoed: an unparsable URL cannot be masked reliably (e.g. an unescaped @ in the password).
    ctx.addIssue({ code: "custom", message: "not a valid URL" });
    return z.NEVER;
  }
  if (!SCHEMES.has(url.protocol)) {
    ctx.addIssue({
      code: "custom",
      message: `must be a postgres:// or postgresql:// URL (got ${url.protocol})`,
    });
    return z.NEVER;
  }
  return text;
});

/** The URL with its password replaced by `***`, for logs and messages. */
export function redactDatabaseUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === "") return url.href;
    url.password = "***";
    return url.href;
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * A PostgreSQL identifier that needs no quoting: several deployments can share one database, each
 * in its own schema. `pg_` names are reserved for the system (CREATE SCHEMA refuses them).
 */
export const pgSchemaName = z
  .string()
  .max(63, { message: "must be at most 63 characters (PostgreSQL's identifier limit)" })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    message: "must be letters, digits and _ only, not starting with a digit",
  })
  .refine((name) => !name.toLowerCase().startsWith("pg_"), {
    message: "must not start with pg_ (reserved for PostgreSQL's own schemas)",
  });
