import { type CliFlags, ConfigError, type ConfigIssue, loadConfig } from "../../src/config/index.js";

/** Loads `yaml` as the file hookbuffer.yaml (or no file when undefined), with these env and flags. */
export function loadYaml(yaml: string | undefined, env: Record<string, string> = {}, flags: CliFlags = {}) {
  const withFile: CliFlags = yaml === undefined ? flags : { config: "hookbuffer.yaml", ...flags };
  return loadConfig({ env, flags: withFile, readFile: () => yaml ?? "" });
}

/** The problems of the ConfigError `run` throws; anything else, or nothing thrown, fails the test. */
export function configProblems(run: () => unknown): ConfigIssue[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}
