import { errors } from "undici";
import { describe, expect, test } from "vitest";
import { classifyError, classifyStatus, isShutdownAbort } from "../../src/classify/classify.js";
import { describeError } from "../../src/classify/describe.js";
import { DnsTimeoutError, RequestTimeoutError, ShutdownError } from "../../src/classify/errors.js";
import type { Classification } from "../../src/model.js";

/** A Node system error as net/dns produce it: message "<syscall> <CODE> <address>:<port>". */
function sysError(code: string, syscall: string, address = "127.0.0.1", port = 8080): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code} ${address}:${port}`);
  return Object.assign(err, { code, syscall, address, port, errno: -1 });
}

function dnsError(code: string, hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), {
    code,
    syscall: "getaddrinfo",
    hostname,
  });
}

/** An OpenSSL error as Node's tls module reports it. */
function sslError(code: string, reason: string): Error {
  const msg = `805C486F207F0000:error:0A00010B:SSL routines:ssl3_get_record:${reason}:../deps/openssl/ssl.c:350:\n`;
  return Object.assign(new Error(msg), { code, library: "SSL routines", reason });
}

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Node 20's happy-eyeballs connect to "localhost" when nothing listens on ::1 or 127.0.0.1. */
function happyEyeballsRefused(port: number): Error {
  const aggregate = new AggregateError(
    [
      sysError("ECONNREFUSED", "connect", "::1", port),
      sysError("ECONNREFUSED", "connect", "127.0.0.1", port),
    ],
    "",
  );
  return Object.assign(aggregate, { code: "ECONNREFUSED" });
}

const connect = (detail: string): Classification => ({ reason: "could_not_connect", detail });
const unclassified = (detail: string): Classification => ({ reason: "unclassified", detail });
const timeout: Classification = { reason: "request_timeout", detail: "Request timeout" };

type Row = [label: string, err: unknown, written: boolean, expected: Classification];

const rows: Row[] = [
  ["ECONNREFUSED", sysError("ECONNREFUSED", "connect"), false, connect("Connection failed")],
  [
    "happy-eyeballs AggregateError of ECONNREFUSED",
    happyEyeballsRefused(1234),
    false,
    connect("Connection failed"),
  ],
  ["EHOSTUNREACH", sysError("EHOSTUNREACH", "connect"), false, connect("Connection failed")],
  ["ENETUNREACH", sysError("ENETUNREACH", "connect"), false, connect("Connection failed")],
  ["EHOSTDOWN", sysError("EHOSTDOWN", "connect"), false, connect("Connection failed")],
  ["ENETDOWN", sysError("ENETDOWN", "connect"), false, connect("Connection failed")],
  ["EADDRNOTAVAIL", sysError("EADDRNOTAVAIL", "connect"), false, connect("Connection failed")],
  ["EACCES at connect", sysError("EACCES", "connect"), false, connect("Connection failed")],
  ["EPERM at connect", sysError("EPERM", "connect"), false, connect("Connection failed")],
  [
    "undici GOAWAY",
    new errors.SocketError('HTTP/2: "GOAWAY" frame received with code 0'),
    true,
    connect("Connection failed (received GOAWAY)"),
  ],
  [
    "Node ERR_HTTP2_GOAWAY_SESSION",
    codedError("ERR_HTTP2_GOAWAY_SESSION", "New streams cannot be created after receiving a GOAWAY"),
    true,
    connect("Connection failed (received GOAWAY)"),
  ],
  [
    "ECONNRESET during TLS set-up",
    sysError("ECONNRESET", "read"),
    false,
    connect("Connection failed (session closed)"),
  ],
  [
    "other side closed before the request was written",
    new errors.SocketError("other side closed"),
    false,
    connect("Connection failed (session closed)"),
  ],
  [
    "undici connect timeout",
    new errors.ConnectTimeoutError("Connect Timeout Error (attempted address: 10.0.0.1:80, timeout: 300ms)"),
    false,
    connect("Connection timeout"),
  ],
  ["ETIMEDOUT at connect", sysError("ETIMEDOUT", "connect"), false, connect("Connection timeout")],
  [
    "happy-eyeballs timeout on every address",
    codedError("ERR_SOCKET_CONNECTION_TIMEOUT", "Socket connection timeout"),
    false,
    connect("Connection timeout"),
  ],
  ["EAI_AGAIN", dnsError("EAI_AGAIN", "example.com"), false, connect("DNS Query timeout")],
  ["our lookup deadline", new DnsTimeoutError("example.com", 200), false, connect("DNS Query timeout")],
  [
    "c-ares ETIMEOUT",
    codedError("ETIMEOUT", "queryA ETIMEOUT example.com"),
    false,
    connect("DNS Query timeout"),
  ],
  ["ERR_INVALID_URL", invalidUrlError(), false, connect("Invalid URL syntax")],
  [
    "undici invalid URL protocol",
    new errors.InvalidArgumentError("Invalid URL protocol: the URL must start with `http:` or `https:`."),
    false,
    connect("Invalid URL syntax"),
  ],
  [
    "ALPN no_application_protocol alert",
    sslError("ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL", "tlsv1 alert no application protocol"),
    false,
    connect("Session protocol negotiation failure"),
  ],
  [
    "HTTP parser error on the first bytes (h2c-only server)",
    new errors.HTTPParserError(
      "Response does not match the HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)",
    ),
    true,
    connect("Session protocol negotiation failure"),
  ],
  [
    "wrong version number",
    sslError("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number"),
    false,
    connect("No SSL/TLS record"),
  ],
  [
    "packet length too long",
    sslError("ERR_SSL_PACKET_LENGTH_TOO_LONG", "packet length too long"),
    false,
    connect("No SSL/TLS record"),
  ],
  [
    "handshake failure alert",
    sslError("ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE", "sslv3 alert handshake failure"),
    false,
    connect("TLS handshake failure"),
  ],
  [
    "self-signed certificate",
    codedError("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"),
    false,
    connect("TLS handshake failure"),
  ],
  [
    "expired certificate",
    codedError("CERT_HAS_EXPIRED", "certificate has expired"),
    false,
    connect("TLS handshake failure"),
  ],
  [
    "altname mismatch",
    codedError("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames"),
    false,
    connect("TLS handshake failure"),
  ],
  [
    "unverifiable leaf",
    codedError("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"),
    false,
    connect("TLS handshake failure"),
  ],
  ["ENOTFOUND", dnsError("ENOTFOUND", "nohost.invalid"), false, connect("Unknown host")],
  ["raw EAI_NONAME", dnsError("EAI_NONAME", "nohost.invalid"), false, connect("Unknown host")],
  ["EAI_NODATA", dnsError("EAI_NODATA", "nohost.invalid"), false, connect("Unknown host")],
  ["headers timeout", new errors.HeadersTimeoutError(), true, timeout],
  ["body timeout", new errors.BodyTimeoutError(), true, timeout],
  ["our per-attempt deadline", new RequestTimeoutError(300), true, timeout],
  [
    "other side closed after the request was written",
    new errors.SocketError("other side closed"),
    true,
    unclassified("Session closed unexpectedly"),
  ],
  ["ECONNRESET on read", sysError("ECONNRESET", "read"), true, unclassified("Session closed unexpectedly")],
  ["EPIPE on write", sysError("EPIPE", "write"), true, unclassified("Session closed unexpectedly")],
  [
    "response content-length mismatch",
    new errors.ResponseContentLengthMismatchError(),
    true,
    unclassified("Session closed unexpectedly"),
  ],
  [
    "HTTP/2 stream reset",
    codedError("ERR_HTTP2_STREAM_ERROR", "Stream closed with error code NGHTTP2_INTERNAL_ERROR"),
    true,
    unclassified("Stream closed unexpectedly"),
  ],
  [
    "undici HTTP/2 stream error",
    new errors.InformationalError('HTTP/2: "stream error" received - code 7'),
    true,
    unclassified("Stream closed unexpectedly"),
  ],
  [
    "parser error mid-response",
    new errors.HTTPParserError("Response does not match the HTTP/1.1 protocol (Invalid header value char)"),
    true,
    unclassified("Unclassified webhook dispatch error"),
  ],
  [
    "header overflow",
    new errors.HeadersOverflowError(),
    true,
    unclassified("Unclassified webhook dispatch error"),
  ],
  ["a plain Error", new Error("boom"), true, unclassified("Unclassified webhook dispatch error")],
  ["a thrown string", "boom", false, unclassified("Unclassified webhook dispatch error")],
  ["undefined", undefined, false, unclassified("Unclassified webhook dispatch error")],
  [
    "a fetch-style wrapper whose cause is ECONNREFUSED",
    new TypeError("fetch failed", { cause: sysError("ECONNREFUSED", "connect") }),
    false,
    connect("Connection failed"),
  ],
  [
    "a cause nested two deep",
    new Error("outer", { cause: new Error("middle", { cause: sysError("ENOTFOUND", "getaddrinfo") }) }),
    false,
    connect("Unknown host"),
  ],
];

/** Node's WHATWG URL parser error (TypeError with code ERR_INVALID_URL). */
function invalidUrlError(): Error {
  try {
    new URL("http://exa mple.com/");
  } catch (err) {
    return err as Error;
  }
  throw new Error("URL unexpectedly parsed");
}

describe("classifyError", () => {
  test.each(rows)("classifies %s", (_label, err, written, expected) => {
    expect(classifyError(err, { requestWritten: written })).toEqual(expected);
  });

  test("terminates on a cyclic cause chain", () => {
    const a = new Error("a") as Error & { cause?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(classifyError(a, { requestWritten: true })).toEqual(
      unclassified("Unclassified webhook dispatch error"),
    );
  });

  test("returns a fresh object each time so callers cannot corrupt the table", () => {
    const first = classifyError(sysError("ECONNREFUSED", "connect"), { requestWritten: false });
    first.detail = "changed";
    expect(classifyError(sysError("ECONNREFUSED", "connect"), { requestWritten: false }).detail).toBe(
      "Connection failed",
    );
  });
});

describe("classifyStatus", () => {
  test.each([301, 302, 400, 404, 429, 500, 503])("uses status %i itself as the detail", (status) => {
    expect(classifyStatus(status)).toEqual({ reason: "error_status_code", detail: String(status) });
  });
});

describe("isShutdownAbort", () => {
  test.each<[string, unknown, boolean]>([
    ["a destroyed client", new errors.ClientDestroyedError(), true],
    ["a closed client", new errors.ClientClosedError(), true],
    ["our shutdown reason", new ShutdownError(), true],
    ["a wrapped shutdown reason", new Error("aborted", { cause: new ShutdownError() }), true],
    ["a refused connection", sysError("ECONNREFUSED", "connect"), false],
    ["a request timeout", new RequestTimeoutError(100), false],
  ])("recognises %s", (_label, err, expected) => {
    expect(isShutdownAbort(err)).toBe(expected);
  });
});

describe("describeError", () => {
  test.each<[string, unknown, string]>([
    [
      "a system error",
      sysError("ECONNREFUSED", "connect", "127.0.0.1", 1234),
      "ECONNREFUSED connect 127.0.0.1:1234",
    ],
    ["an AggregateError", happyEyeballsRefused(1234), "ECONNREFUSED connect ::1:1234"],
    [
      "an OpenSSL error",
      sslError("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number"),
      "ERR_SSL_WRONG_VERSION_NUMBER wrong version number",
    ],
    ["a code-less error", new Error("boom\nforged log line"), "Error boom forged log line"],
    ["a thrown string", "boom", "Error boom"],
  ])("describes %s on one short line", (_label, err, expected) => {
    expect(describeError(err)).toBe(expected);
  });

  test("caps the length", () => {
    expect(describeError(new Error("x".repeat(1000))).length).toBeLessThanOrEqual(200);
  });
});
