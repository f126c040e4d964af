/** One problem found in the configuration, located by its key path (e.g. `routes[0].upstream`). */
export interface ConfigIssue {
  /** Dotted key path with array indexes in brackets, or the file name for file-level problems. */
  path: string;
  /** What is wrong, in words an operator can act on. */
  message: string;
}

/**
 * Every problem found while loading the configuration, thrown once so an operator fixes them all in
 * one pass instead of one per restart.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], options?: { cause?: unknown }) {
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
