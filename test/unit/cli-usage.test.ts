import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { OPTIONS } from "../../src/cli/admin-commands.js";
import { USAGE } from "../../src/cli/usage.js";

describe("the one help text", () => {
  test.each([...Object.keys(OPTIONS), "serve", "help"])("names the command %s", (name) => {
    expect(USAGE).toMatch(new RegExp(`^  hookbuffer \\[?${name}\\b`, "m"));
  });

  test.each(Object.entries(OPTIONS))("names every flag of %s", (_name, options) => {
    for (const flag of Object.keys(options)) expect(USAGE).toContain(`--${flag}`);
  });

  test("is what the README's CLI section shows", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("\n## CLI\n"));
    const shown = /```\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(shown).toBe(USAGE);
  });
});
