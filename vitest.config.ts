import { defineConfig } from "vitest/config";

/**
 * The integration files that test behaviour through HTTP without caring which store holds the
 * events: the `postgres` project runs them again on PostgreSQL (test/helpers/test-store.ts), so
 * both stores answer to the same tests. Files that open the SQLite file or exercise SQLite's own
 * machinery (checkpoints, disk-full, the claim cursor, search indexes, ...) stay SQLite-only. The
 * other store-agnostic files join this list as the PostgreSQL store passes them. Not yet:
 * ordering (its JSON-pointer test timed out under load on PostgreSQL, undiagnosed; per-key order
 * across replicas is tested in pg-claim-heads and pg-replicas-chaos), rate-limit, cli-admin and
 * hardening-limits.
 */
export const STORE_AGNOSTIC = [
  "test/integration/admin-events.test.ts",
  "test/integration/alerts.test.ts",
  "test/integration/backpressure.test.ts",
  "test/integration/breaker-count.test.ts",
  "test/integration/breaker.test.ts",
  "test/integration/counts-agree.test.ts",
  "test/integration/delivery.test.ts",
  "test/integration/error-shape.test.ts",
  "test/integration/filter.test.ts",
  "test/integration/hardening-admin-web.test.ts",
  "test/integration/hardening-admin.test.ts",
  "test/integration/hardening-destination.test.ts",
  "test/integration/hardening-ingest.test.ts",
  "test/integration/hardening-keys.test.ts",
  "test/integration/hardening-passthrough.test.ts",
  "test/integration/metrics.test.ts",
  "test/integration/provider-header-names.test.ts",
  "test/integration/resign.test.ts",
  "test/integration/routes.test.ts",
  "test/integration/throttle.test.ts",
  "test/integration/tracing.test.ts",
  "test/integration/verify-ingest.test.ts",
];

export default defineConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests bind real sockets and spawn processes; two workers match the 2-core target machine.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: "sqlite", include: ["test/**/*.test.ts"] },
      },
      {
        extends: true,
        test: {
          name: "postgres",
          include: STORE_AGNOSTIC,
          env: { HOOKBUFFER_TEST_STORE: "postgres" },
          // Skips a file when no PostgreSQL answers, or fails it under CI (test/postgres-runner.ts).
          runner: "./test/postgres-runner.ts",
          setupFiles: ["test/postgres-setup.ts"],
        },
      },
    ],
  },
});
