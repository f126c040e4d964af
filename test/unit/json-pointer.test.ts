import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { resolvePointer } from "../../src/json-pointer.js";

/** RFC 6901 read straight off the text: split, unescape ~1 then ~0, step. */
function reference(doc: unknown, pointer: string): unknown {
  if (pointer === "") return doc;
  if (!pointer.startsWith("/")) return undefined;
  let node: unknown = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      node = node[Number(token)];
    } else if (node !== null && typeof node === "object" && Object.hasOwn(node, token)) {
      node = (node as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return node;
}

describe("resolvePointer", () => {
  const doc = {
    "": "empty key",
    "a/b": "slash",
    "m~n": "tilde",
    "~1": "literal tilde-one",
    events: [{ webhookEventId: "e0", source: { userId: "U1" } }, { webhookEventId: "e1" }],
    "0": "zero key",
  };

  test("RFC 6901 examples and edge cases", () => {
    expect(resolvePointer(doc, "")).toBe(doc);
    expect(resolvePointer(doc, "/")).toBe("empty key");
    expect(resolvePointer(doc, "/a~1b")).toBe("slash");
    expect(resolvePointer(doc, "/m~0n")).toBe("tilde");
    expect(resolvePointer(doc, "/~01")).toBe("literal tilde-one");
    expect(resolvePointer(doc, "/events/0/source/userId")).toBe("U1");
    expect(resolvePointer(doc, "/events/1/webhookEventId")).toBe("e1");
    expect(resolvePointer(doc, "/0")).toBe("zero key");
    for (const missing of [
      "events",
      "/events/01",
      "/events/-",
      "/events/2",
      "/events/0/",
      "/nope",
      "/events/ 1",
    ])
      expect(resolvePointer(doc, missing)).toBeUndefined();
    expect(resolvePointer("text", "/x")).toBeUndefined();
    expect(resolvePointer(null, "/x")).toBeUndefined();
    expect(resolvePointer({ toString: 1 }, "/constructor")).toBeUndefined();
  });

  test("agrees with a split-and-unescape reading for any document and pointer", () => {
    const token = fc.oneof(
      fc.constantFrom("", "0", "1", "01", "-", "~0", "~1", "a~1b", "events", "x"),
      fc.string({ maxLength: 4 }),
    );
    const pointer = fc.oneof(
      fc.array(token, { maxLength: 4 }).map((ts) => ts.map((t) => `/${t}`).join("")),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), pointer, (json, p) => {
        expect(resolvePointer(json, p)).toBe(reference(json, p));
      }),
      { numRuns: 2000 },
    );
  });
});
