import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, describe, expect, test } from "vitest";
import { openDatabase } from "../../src/store/index.js";
import { startHookbuffer, type TestHookbuffer } from "../helpers/hookbuffer.js";
import { type Recorder, startRecorder } from "../helpers/recorder.js";
import { tempDir } from "../helpers/temp.js";

// Webhook bodies and headers are private data: the database and its side files must be readable by
// hookbuffer's user only, even where the process runs with a permissive umask (a container's 000).
const mode = (path: string) => statSync(path).mode & 0o777;

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

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
  test("the database, its WAL, SHM and lock files are 0600 and a directory it creates is 0700", async () => {
    const { dir, remove } = tempDir();
    cleanup.push(remove);
    const path = join(dir, "created", "by", "hookbuffer", "hb.db");
    await withUmask000(() => {
      const opened = openDatabase({ path, synchronous: "full" });
      // Migrations wrote through the WAL, so all side files exist now.
      cleanup.push(() => opened.close());
    });
    for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}.lock`]) {
      expect(existsSync(file), file).toBe(true);
      expect(mode(file).toString(8), file).toBe("600");
    }
    for (const d of ["created", "created/by", "created/by/hookbuffer"]) {
      expect(mode(join(dir, d)).toString(8), d).toBe("700");
    }
  });

  test("a running hookbuffer that has stored webhooks leaves no file readable by others", async () => {
    const up: Recorder = await startRecorder();
    cleanup.push(() => up.close());
    const hb: TestHookbuffer = await withUmask000(() => startHookbuffer({ yaml: `upstream: ${up.url}\n` }));
    cleanup.push(() => hb.stop());
    await withUmask000(async () => {
      const res = await request(`${hb.ingestUrl}/hook`, { method: "POST", body: '{"private":true}' });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    });
    for (const file of [hb.dbPath, `${hb.dbPath}-wal`, `${hb.dbPath}-shm`, `${hb.dbPath}.lock`]) {
      if (existsSync(file)) expect(mode(file).toString(8), file).toBe("600");
    }
    expect(existsSync(`${hb.dbPath}-wal`)).toBe(true);
  });
});
