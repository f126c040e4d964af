/** The config module's public surface: everything else in src/config is an implementation detail. */
export { ConfigError, type ConfigIssue, isConfigError } from "./config-error.js";
export { redactDatabaseUrl } from "./database-url.js";
export { DEFAULT_DELIVERY, DEFAULT_SCHEDULE_MS } from "./defaults.js";
export { type CliFlags, type ConfigSources, loadConfig } from "./load.js";
export { isLoopback } from "./schema-sections.js";
export type * from "./types.js";
export { formatDuration, parseDuration, parseSize } from "./units.js";
export { type ConfigWarning, configWarnings } from "./warnings.js";
