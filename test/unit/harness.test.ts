import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { createStart } from "../helpers/harness.js";

// The harness every integration test relies on to leave nothing running: checked here, since a
// harness that skipped a stop would only show as ports and files leaking between tests.

describe("test harness", () => {
  test("stops everything newest first, and a failing stop neither skips the rest nor hides", async () => {
    const start = createStart();
    const stopped: string[] = [];
    const dir = start.dir();
    start.track({ close: () => void stopped.push("first") });
    start.cleanup(() => {
      stopped.push("failing");
      throw new Error("stop failed");
    });
    start.track({ close: async () => void stopped.push("last") });
    await expect(start.stopAll()).rejects.toThrow("stop failed");
    expect(stopped).toEqual(["last", "failing", "first"]);
    expect(existsSync(dir)).toBe(false);
  });

  test("a hookbuffer the test already stopped is no trouble; its directory goes, its servers close", async () => {
    const start = createStart();
    const hb = await start.hookbuffer({ yaml: "upstream: http://127.0.0.1:9\n" });
    const up = await start.recorder();
    await hb.stop();
    await start.stopAll();
    expect(existsSync(hb.dir)).toBe(false);
    await expect(fetch(up.url)).rejects.toThrow();
  });
});
