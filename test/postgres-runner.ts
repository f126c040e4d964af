/**
 * The `postgres` project's runner (vitest.config.ts): before a file runs, it looks for the test
 * PostgreSQL. Unreachable, the whole file is skipped with the reason (its beforeAll hooks would
 * otherwise start hookbuffers with no database), except under CI, where the lookup throws and the
 * file fails (test/helpers/postgres.ts).
 */
import type { RunnerTask, RunnerTestSuite } from "vitest";
import { VitestTestRunner } from "vitest/runners";
import { testPostgres } from "./helpers/test-store.js";

function skipAll(task: RunnerTask): void {
  task.mode = "skip";
  task.result = { ...task.result, state: "skip" };
  if (task.type === "suite") for (const child of task.tasks) skipAll(child);
}

export default class PostgresRunner extends VitestTestRunner {
  override async onBeforeRunSuite(suite: RunnerTestSuite): Promise<void> {
    if (suite.file === suite) {
      const found = await testPostgres();
      if (found.url === null) {
        console.warn(`${suite.name}: skipped, ${found.skip}`);
        skipAll(suite);
      }
    }
    await super.onBeforeRunSuite(suite);
  }
}
