import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect } from "vitest";
import { openDatabase } from "../../src/store/index.js";
import { test } from "../helpers/harness.js";
import type { TestHookbuffer } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";

// Webhook bodies and headers are private data: the database and its side files must be readable by
// hookbuffer's user only, even where the process runs with a permissive umask (a container's 000).
const mode = (path: string) => statSync(path).mode & 0o777;

/** Runs `fn` with umask 000 (vitest runs each file in a forked process, where umask may be set). */
async function withUmask000<T>(fn: () => Promise<T> | T): Promise<T> {
  const previous = process.umask(0o000);
  try {
    return await fn();
  } finally {
    process.umask(previous);
  }
}

describe("file modes under umask 000", () => {
  test("the database, its WAL, SHM and lock files are 0600 and a directory it creates is 0700", async ({
    start,
  }) => {
    const dir = start.dir();
    const path = join(dir, "created", "by", "hookbuffer", "hb.db");
    await withUmask000(() => {
      const opened = openDatabase({ path, synchronous: "full" });
      // Migrations wrote through the WAL, so all side files exist now.
      start.cleanup(() => opened.close());
    });
    for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}.lock`]) {
      expect(existsSync(file), file).toBe(true);
      expect(mode(file).toString(8), file).toBe("600");
    }
    for (const d of ["created", "created/by", "created/by/hookbuffer"]) {
      expect(mode(join(dir, d)).toString(8), d).toBe("700");
    }
  });

  test("a running hookbuffer that has stored webhooks leaves no file readable by others", async ({
    start,
    up,
  }) => {
    const hb: TestHookbuffer = await withUmask000(() => start.hookbuffer({ yaml: `upstream: ${up.url}\n` }));
    await withUmask000(async () => {
      expect((await post(`${hb.ingestUrl}/hook`, '{"private":true}')).status).toBe(200);
    });
    for (const file of [hb.dbPath, `${hb.dbPath}-wal`, `${hb.dbPath}-shm`, `${hb.dbPath}.lock`]) {
      if (existsSync(file)) expect(mode(file).toString(8), file).toBe("600");
    }
    expect(existsSync(`${hb.dbPath}-wal`)).toBe(true);
  });
});
