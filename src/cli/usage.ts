/**
 * The one help text: `hookbuffer --help`, `hookbuffer help` and every usage mistake print it.
 * Every command the CLI dispatches appears here as `hookbuffer <command>` (a test checks it).
 */
export const USAGE = `hookbuffer: a durable webhook buffer in front of a slow server

Usage:
  hookbuffer [serve] [--config FILE] [--upstream URL] [--host H] [--port N]
             [--admin-host H] [--admin-port N] [--admin-token-file FILE | --admin-token T]
             [--db PATH] [--synchronous full|normal] [--database-url postgres://...]
             [--log-level LEVEL]
  hookbuffer help | --help

Admin commands (talk to a running hookbuffer's admin API):
  hookbuffer stats [--from ISO] [--to ISO] [--route NAME] [--json]
  hookbuffer events [FILTERS] [--limit N] [--cursor C] [--scan-budget N] [--json]
  hookbuffer redeliver <id>
  hookbuffer redeliver FILTERS [--dry-run] [--request-id KEY]
  hookbuffer pause <route>
  hookbuffer resume <route>
Filters: --status S  --route NAME  --reason R  --since ISO  --until ISO
         --json-match /pointer[:value|:prefix*]  --header name[:value|:prefix*]  (repeatable)
         --path /exact|/prefix*  --min-attempts N  --max-attempts N  --last-status CODE
Options: --admin-url URL (env HOOKBUFFER_ADMIN_URL, default http://127.0.0.1:9090)
         --token-file FILE (env HOOKBUFFER_ADMIN_TOKEN_FILE), or --token T (env HOOKBUFFER_ADMIN_TOKEN)

--admin-token, --token and --database-url are visible in ps; prefer the file forms and the environment.
Environment: HOOKBUFFER_CONFIG, HOOKBUFFER_UPSTREAM, HOOKBUFFER_PORT, ... (see README "Configuration").`;
