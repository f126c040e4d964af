/**
 * Each file of the `postgres` project (vitest.config.ts): the schemas its hookbuffers used and a
 * test left behind (one that failed before its cleanup) are dropped after the file.
 */
import { afterAll } from "vitest";
import { dropAllSchemas } from "./helpers/test-store.js";

afterAll(() => dropAllSchemas());
