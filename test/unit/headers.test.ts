import { describe, expect, test } from "vitest";
import { forwardHeaders, targetUrl } from "../../src/transport/headers.js";

describe("forwardHeaders", () => {
  test("keeps end-to-end headers in order, with their case and duplicates", () => {
    const original: Array<[string, string]> = [
      ["Content-Type", "application/json"],
      ["X-Line-Signature", "abc="],
      ["Set-Thing", "1"],
      ["set-thing", "2"],
      ["User-Agent", "LineBotWebhook/2.0"],
    ];
    expect(forwardHeaders(original, [])).toEqual(original);
  });

  test("drops the hop-by-hop headers of RFC 9110 and the framing undici recomputes", () => {
    const original: Array<[string, string]> = [
      ["Host", "ingest.example"],
      ["Connection", "keep-alive"],
      ["Keep-Alive", "timeout=5"],
      ["Proxy-Connection", "keep-alive"],
      ["TE", "trailers"],
      ["Trailer", "X-Checksum"],
      ["Transfer-Encoding", "chunked"],
      ["Upgrade", "h2c"],
      ["Proxy-Authorization", "Basic abc"],
      ["Proxy-Authenticate", "Basic"],
      ["Content-Length", "42"],
      ["Expect", "100-continue"],
      ["X-Kept", "yes"],
    ];
    expect(forwardHeaders(original, [])).toEqual([["X-Kept", "yes"]]);
  });

  test("drops every header named in any Connection header, whatever its case", () => {
    const original: Array<[string, string]> = [
      ["Connection", "X-Hop, close"],
      ["connection", " x-other "],
      ["x-hop", "1"],
      ["X-Other", "2"],
      ["X-Kept", "3"],
    ];
    expect(forwardHeaders(original, [])).toEqual([["X-Kept", "3"]]);
  });

  test("appends the extra headers and lets them replace forged originals", () => {
    const original: Array<[string, string]> = [
      ["x-hookbuffer-verified", "true"],
      ["X-Kept", "1"],
    ];
    const extra: Array<[string, string]> = [
      ["X-Hookbuffer-Event-Id", "01J"],
      ["X-Hookbuffer-Verified", "line"],
    ];
    expect(forwardHeaders(original, extra)).toEqual([["X-Kept", "1"], ...extra]);
  });
});

describe("targetUrl", () => {
  test.each<[string, string, string, string, string, string]>([
    [
      "keeps the original path for a bare upstream",
      "http://app:3000",
      "/",
      "/callback",
      "",
      "http://app:3000/callback",
    ],
    [
      "keeps the original path for an upstream ending in /",
      "http://app:3000/",
      "/line",
      "/line/cb",
      "a=1",
      "http://app:3000/line/cb?a=1",
    ],
    [
      "appends the path minus the route prefix",
      "http://app/hooks",
      "/line",
      "/line/cb",
      "",
      "http://app/hooks/cb",
    ],
    [
      "maps the route prefix itself to the upstream path",
      "http://app/hooks",
      "/line",
      "/line",
      "",
      "http://app/hooks",
    ],
    [
      "handles a prefix with a trailing slash",
      "http://app/hooks/",
      "/line/",
      "/line/cb",
      "",
      "http://app/hooks/cb",
    ],
    [
      "appends the whole path under the default route",
      "http://app/hooks",
      "/",
      "/cb",
      "x=1",
      "http://app/hooks/cb?x=1",
    ],
    [
      "does not strip a prefix that only matches part of a segment",
      "http://app/hooks",
      "/line",
      "/lines/cb",
      "",
      "http://app/hooks/lines/cb",
    ],
    [
      "joins the upstream's own query and the request's",
      "https://app/hooks?token=t",
      "/line",
      "/line/cb",
      "a=1",
      "https://app/hooks/cb?token=t&a=1",
    ],
    [
      "keeps dot segments and encodings as received",
      "http://app",
      "/",
      "/a/../b%2F c",
      "q=%20",
      "http://app/a/../b%2F c?q=%20",
    ],
  ])("%s", (_label, upstream, prefix, path, query, expected) => {
    expect(targetUrl(upstream, prefix, path, query)).toBe(expected);
  });

  test.each([
    "//evil.com/x",
    "http://evil/",
    "https://evil.com:443/x",
    "@evil.com/x",
    "\\\\evil.com\\x",
    "/\\evil.com/x",
    "\t//evil.com",
    "evil.com",
  ])("never lets the request path %j change the host", (path) => {
    for (const upstream of ["http://app:3000", "http://app:3000/hooks"]) {
      for (const prefix of ["/", "/line"]) {
        const url = new URL(targetUrl(upstream, prefix, path, "next=//evil.com"));
        expect(url.origin).toBe("http://app:3000");
      }
    }
  });
});
