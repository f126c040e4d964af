/** One problem found in the configuration, located by its key path (e.g. `routes[0].upstream`). */
export interface ConfigIssue {
  /** Dotted key path with array indexes in brackets, or the file name for file-level problems. */
  path: string;
  /** What is wrong, in words an operator can act on. */
  message: string;
}

/** `scheme://user:password@` in a URL: the credential part. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s@"']*@/gi;
/** Query parameters that carry credentials by name (`?token=...`, `&password=...`). */
const SECRET_PARAM =
  /([?&](?:password|passwd|pass|pwd|token|access_token|secret|key|api_key|apikey|sig|signature)=)[^&#\s"']*/gi;

/**
 * A message with the credentials inside URLs replaced by `***`. Config problems echo the value
 * they refuse, and those land in terminals, CI logs and crash reports.
 */
export function redactCredentials(text: string): string {
  return text.replace(USERINFO, "$1***@").replace(SECRET_PARAM, "$1***");
}

/**
 * Every problem found while loading the configuration, thrown once so an operator fixes them all in
 * one pass instead of one per restart.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly issues: ConfigIssue[];

  constructor(found: ConfigIssue[], options?: { cause?: unknown }) {
    const issues = found.map((issue) => ({
      path: redactCredentials(issue.path),
      message: redactCredentials(issue.message),
    }));
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    const lines = issues.map((issue) => `${issue.path}: ${issue.message}`);
    super([`invalid configuration (${count}):`, ...lines].join("\n"), options);
    this.issues = issues;
  }
}

/** Type guard for callers that catch `unknown`. */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}
