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
});
