import { describe, expect, test } from "vitest";
import type { DeliveryFilter } from "../../src/config/types.js";
import { compileFilter } from "../../src/ingest/filter.js";
import { requestView } from "../../src/ingest/match.js";
import { configProblems, loadYaml } from "../helpers/config.js";

const UPSTREAM = "http://127.0.0.1:3000";

const load = (yaml: string) => loadYaml(yaml);

/** The filter of the first route, from a `filter:` value written as YAML flow text. */
function filterOf(flow: string): DeliveryFilter | null {
  const config = load(`upstream: ${UPSTREAM}\nroutes: [{name: r, path: /r, filter: ${flow}}]\n`);
  return config.routes[0]?.filter ?? null;
}

const problems = (yaml: string) => configProblems(() => load(yaml));

const routeProblems = (flow: string) =>
  problems(`upstream: ${UPSTREAM}\nroutes: [{name: r, path: /r, filter: ${flow}}]\n`);

/** Whether a request with this body and these headers is delivered under the filter. */
function delivers(flow: string, body: string, headers: Array<[string, string]> = []): boolean {
  return compileFilter(filterOf(flow))(requestView({ headers, body: Buffer.from(body) }));
}

const LINE = JSON.stringify({
  destination: "U1",
  events: [{ type: "message", mode: "active", n: 3, ok: true, none: null, source: { userId: "Uabc" } }],
});

describe("delivery filter", () => {
  test("no filter delivers everything", () => {
    expect(compileFilter(null)(requestView({ headers: [], body: Buffer.from("x") }))).toBe(true);
  });

  test("equals compares as a JSON value: string, number, boolean, null; 1 is not '1'", () => {
    expect(delivers("[{json: /events/0/type, equals: message}]", LINE)).toBe(true);
    expect(delivers("[{json: /events/0/type, equals: postback}]", LINE)).toBe(false);
    expect(delivers("[{json: /events/0/n, equals: 3}]", LINE)).toBe(true);
    expect(delivers("[{json: /events/0/n, equals: '3'}]", LINE)).toBe(false);
    expect(delivers("[{json: /events/0/ok, equals: true}]", LINE)).toBe(true);
    expect(delivers("[{json: /events/0/ok, equals: 'true'}]", LINE)).toBe(false);
    expect(delivers("[{json: /events/0/none, equals: null}]", LINE)).toBe(true);
    // An object never equals a scalar, even its JSON text.
    expect(delivers(`[{json: /events/0/source, equals: '{"userId":"Uabc"}'}]`, LINE)).toBe(false);
  });

  test("in matches any listed value, each compared as for equals", () => {
    expect(delivers("[{json: /events/0/type, in: [follow, message]}]", LINE)).toBe(true);
    expect(delivers("[{json: /events/0/type, in: [follow, postback]}]", LINE)).toBe(false);
    expect(delivers("[{json: /events/0/n, in: [1, 2, 3]}]", LINE)).toBe(true);
    expect(delivers("[{json: /events/0/n, in: ['3']}]", LINE)).toBe(false);
  });

  test("exists: true when the pointer resolves (JSON null included), false when it does not", () => {
    expect(delivers("[{json: /events/0/source/userId, exists: true}]", LINE)).toBe(true);
    expect(delivers("[{json: /events/0/none, exists: true}]", LINE)).toBe(true);
    expect(delivers("[{json: /events/1, exists: true}]", LINE)).toBe(false);
    expect(delivers("[{json: /events/1, exists: false}]", LINE)).toBe(true);
    expect(delivers("[{json: /events/0/type, exists: false}]", LINE)).toBe(false);
  });

  test("prefix matches strings only", () => {
    expect(delivers("[{json: /events/0/source/userId, prefix: U}]", LINE)).toBe(true);
    expect(delivers("[{json: /events/0/source/userId, prefix: C}]", LINE)).toBe(false);
    expect(delivers("[{json: /events/0/n, prefix: '3'}]", LINE)).toBe(false);
  });

  test("a missing pointer matches no value test", () => {
    for (const test of ["equals: x", "in: [x]", "prefix: x", "exists: true"])
      expect(delivers(`[{json: /missing/deep/0, ${test}}]`, LINE)).toBe(false);
  });

  test("a body that is not JSON matches no json condition, and exists: false holds", () => {
    for (const body of ["not json", "", "{broken", "\u0000\u0001"]) {
      expect(delivers("[{json: /type, equals: x}]", body)).toBe(false);
      expect(delivers("[{json: /type, exists: true}]", body)).toBe(false);
      expect(delivers("[{json: /type, exists: false}]", body)).toBe(true);
    }
  });

  test("headers: names case-insensitive, the first value counts, numbers compared as text", () => {
    const headers: Array<[string, string]> = [
      ["X-GitHub-Event", "push"],
      ["x-github-event", "ping"],
      ["X-Count", "7"],
    ];
    expect(delivers("[{header: x-github-event, equals: push}]", "", headers)).toBe(true);
    expect(delivers("[{header: X-GITHUB-EVENT, equals: push}]", "", headers)).toBe(true);
    expect(delivers("[{header: x-github-event, equals: ping}]", "", headers)).toBe(false);
    expect(delivers("[{header: x-github-event, in: [issues, push]}]", "", headers)).toBe(true);
    expect(delivers("[{header: x-github-event, prefix: pu}]", "", headers)).toBe(true);
    expect(delivers("[{header: x-count, equals: 7}]", "", headers)).toBe(true);
    expect(delivers("[{header: x-missing, exists: false}]", "", headers)).toBe(true);
    expect(delivers("[{header: x-missing, exists: true}]", "", headers)).toBe(false);
    expect(delivers("[{header: x-missing, equals: push}]", "", headers)).toBe(false);
  });

  test("a list and all: need every match; any: needs one; not: negates", () => {
    const h: Array<[string, string]> = [["X-GitHub-Event", "push"]];
    const body = '{"ref":"refs/heads/main"}';
    expect(
      delivers("[{header: x-github-event, equals: push}, {json: /ref, prefix: refs/heads/}]", body, h),
    ).toBe(true);
    expect(
      delivers("{all: [{header: x-github-event, equals: push}, {json: /ref, equals: x}]}", body, h),
    ).toBe(false);
    expect(
      delivers("{any: [{header: x-github-event, equals: issues}, {json: /ref, exists: true}]}", body, h),
    ).toBe(true);
    expect(
      delivers("{any: [{header: x-github-event, equals: issues}, {json: /nope, exists: true}]}", body, h),
    ).toBe(false);
    expect(delivers("{not: {header: x-github-event, equals: push}}", body, h)).toBe(false);
    expect(delivers("{not: {any: [{json: /ref, prefix: refs/tags/}]}}", body, h)).toBe(true);
    // A single match needs no list around it.
    expect(delivers("{json: /ref, equals: refs/heads/main}", body, h)).toBe(true);
  });
});

describe("filter config", () => {
  test("resolves to data on the route (header names lower-cased); absent or null is no filter", () => {
    expect(filterOf("[{header: X-GitHub-Event, equals: push}]")).toEqual({
      kind: "all",
      of: [
        {
          kind: "match",
          match: {
            source: { kind: "header", name: "x-github-event" },
            test: { op: "equals", value: "push" },
          },
        },
      ],
    });
    expect(filterOf("null")).toBeNull();
    expect(load(`upstream: ${UPSTREAM}\n`).routes[0]?.filter).toBeNull();
    // Without routes:, a top-level filter is the default route's.
    expect(load(`upstream: ${UPSTREAM}\nfilter: {json: /type, exists: true}\n`).routes[0]?.filter).toEqual({
      kind: "match",
      match: { source: { kind: "json", pointer: "/type" }, test: { op: "exists", value: true } },
    });
  });

  test("every problem names its key path", () => {
    expect(routeProblems("{all: [{json: /a, equals: x}, {json: /b, in: []}]}")).toEqual([
      { path: "routes[0].filter.all[1].in", message: "must be a non-empty list" },
    ]);
    expect(routeProblems("[{json: /a, equals: x}, {json: b, equals: x}]")).toEqual([
      { path: "routes[0].filter[1].json", message: expect.stringContaining("JSON pointer") },
    ]);
    expect(routeProblems("[{json: /a}]")).toEqual([
      { path: "routes[0].filter[0]", message: "needs one of equals, in, exists or prefix (got none)" },
    ]);
    expect(routeProblems("[{json: /a, equals: x, prefix: y}]")).toEqual([
      { path: "routes[0].filter[0]", message: "name only one operator (got equals, prefix)" },
    ]);
    expect(routeProblems("[{json: /a, header: x-a, equals: x}]")).toEqual([
      { path: "routes[0].filter[0]", message: "name only one of json or header" },
    ]);
    expect(routeProblems("[{equals: x}]")).toEqual([
      { path: "routes[0].filter[0]", message: "name one of json or header" },
    ]);
    expect(routeProblems("[{header: 'bad name', equals: x}]")).toEqual([
      { path: "routes[0].filter[0].header", message: "expected an HTTP header name" },
    ]);
    expect(routeProblems("[{json: /a, equal: x}]")).toEqual([
      { path: "routes[0].filter[0].equal", message: "unknown key" },
      { path: "routes[0].filter[0]", message: "needs one of equals, in, exists or prefix (got none)" },
    ]);
    expect(routeProblems("{not: [{json: /a, exists: maybe}]}")).toEqual([
      { path: "routes[0].filter.not[0].exists", message: "expected true or false" },
    ]);
    expect(routeProblems("{any: [{json: /a, prefix: ''}], all: []}")).toEqual([
      { path: "routes[0].filter", message: "all stands alone: move any inside it" },
    ]);
    expect(routeProblems("[{json: /a, in: [x, {y: 1}]}]")).toEqual([
      { path: "routes[0].filter[0].in", message: "list only strings, numbers, booleans or null" },
    ]);
    expect(routeProblems("[{json: /a, equals: [x]}]")).toEqual([
      { path: "routes[0].filter[0].equals", message: "expected a string, number, boolean or null" },
    ]);
    expect(routeProblems("[]")).toEqual([{ path: "routes[0].filter", message: "must be a non-empty list" }]);
    expect(routeProblems("push")).toEqual([
      { path: "routes[0].filter", message: expect.stringContaining("expected a match") },
    ]);
  });

  test("several problems are reported together", () => {
    const found = routeProblems("{any: [{json: /a, in: []}, {header: x-a, prefix: 1}]}");
    expect(found.map((p) => p.path)).toEqual([
      "routes[0].filter.any[0].in",
      "routes[0].filter.any[1].prefix",
    ]);
  });

  test("a top-level filter with routes: listed is refused (it belongs to each route)", () => {
    expect(
      problems(`upstream: ${UPSTREAM}\nfilter: [{json: /a, exists: true}]\nroutes: [{name: r, path: /r}]\n`),
    ).toEqual([{ path: "filter", message: expect.stringContaining("applies only without routes:") }]);
  });
});
