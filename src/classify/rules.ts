/**
 * The README's error taxonomy as data. Rules are tried in order and the first one that matches any error in the
 * chain wins, so more specific rows come first (ALPN before other ERR_SSL_*, GOAWAY before other
 * socket errors, request timeouts before everything).
 */
import { type Classification, Details } from "../model.js";
import { OwnErrorCodes } from "./errors.js";

/** One way an error can look. Every field given must hold on the same error. */
export interface Matcher {
  /** Exact `err.code`. */
  code?: string;
  /** Prefix of `err.code` (OpenSSL reasons all start with ERR_SSL_). */
  codePrefix?: string;
  /** Exact `err.name` (undici's HTTPParserError has no code for some parser failures). */
  name?: string;
  /** Pattern on `err.message`, for signals undici only puts in text. */
  message?: RegExp;
}

/** One row of the taxonomy. */
export interface Rule {
  /** The rule applies when any matcher matches any error in the chain. */
  match: readonly Matcher[];
  /** Only when the request had (true) or had not (false) been written; absent for either. */
  written?: boolean;
  /** What a match is classified as. */
  result: Classification;
}

const codes = (...list: string[]): Matcher[] => list.map((code) => ({ code }));

const connect = (detail: string): Classification => ({ reason: "could_not_connect", detail });
const unclassified = (detail: string): Classification => ({ reason: "unclassified", detail });

/** OpenSSL X509 verification results as Node reports them in `err.code` (tls.TLSSocket#authorizationError). */
const CERTIFICATE_CODES = [
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "ERROR_IN_CRL_LAST_UPDATE_FIELD",
  "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
];

/** Errors meaning the transport went away under us; whether the request was written decides the row. */
const SESSION_CLOSED_CODES = [
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "ERR_SOCKET_CLOSED",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_INVALID_SESSION",
];

export const RULES: readonly Rule[] = [
  {
    match: codes("UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", OwnErrorCodes.requestTimeout),
    result: { reason: "request_timeout", detail: Details.requestTimeout },
  },
  {
    // ERR_SOCKET_CONNECTION_TIMEOUT: Node's happy-eyeballs gave up on every address.
    match: codes("UND_ERR_CONNECT_TIMEOUT", "ERR_SOCKET_CONNECTION_TIMEOUT"),
    result: connect(Details.connectionTimeout),
  },
  { match: codes("ETIMEDOUT"), written: false, result: connect(Details.connectionTimeout) },
  {
    // EAI_AGAIN is getaddrinfo's "temporary failure"; ETIMEOUT is c-ares' (dns.Resolver) timeout.
    match: codes("EAI_AGAIN", "ETIMEOUT", OwnErrorCodes.dnsTimeout),
    result: connect(Details.dnsTimeout),
  },
  {
    // dns.lookup reports EAI_NONAME/EAI_NODATA as ENOTFOUND; custom lookups may pass them raw.
    match: codes("ENOTFOUND", "EAI_NONAME", "EAI_NODATA", "EAI_FAIL"),
    result: connect(Details.unknownHost),
  },
  {
    match: [
      ...codes("ERR_INVALID_URL", "ERR_INVALID_URL_SCHEME"),
      // undici: "Invalid URL protocol: ...", "invalid url", "invalid request path".
      { code: "UND_ERR_INVALID_ARG", message: /\burl\b|request path/i },
    ],
    result: connect(Details.invalidUrl),
  },
  {
    match: [
      { code: "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL" },
      // llhttp's reason when the very first bytes are not "HTTP/": an h2c-only (or non-HTTP) server.
      { name: "HTTPParserError", message: /Expected HTTP\// },
    ],
    result: connect(Details.protocolNegotiation),
  },
  {
    match: [
      ...codes("ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG"),
      // Older OpenSSL builds report these as EPROTO with the reason only in the text.
      { message: /wrong version number|packet length too long/ },
    ],
    result: connect(Details.noTlsRecord),
  },
  {
    match: [{ codePrefix: "ERR_SSL_" }, { codePrefix: "ERR_TLS_" }, ...codes("EPROTO", ...CERTIFICATE_CODES)],
    result: connect(Details.tlsHandshake),
  },
  {
    // undici: SocketError 'HTTP/2: "GOAWAY" frame received with code N'. The server refused to
    // process the stream, so it counts as not connected even though our HEADERS frame was sent.
    match: [{ code: "ERR_HTTP2_GOAWAY_SESSION" }, { message: /GOAWAY/ }],
    result: connect(Details.goaway),
  },
  {
    match: [
      ...codes("ERR_HTTP2_STREAM_ERROR", "ERR_HTTP2_STREAM_CANCEL"),
      { codePrefix: "NGHTTP2_" },
      { message: /HTTP\/2: "stream error"/ },
    ],
    result: unclassified(Details.streamClosed),
  },
  {
    match: codes("ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN", "EADDRNOTAVAIL"),
    result: connect(Details.connectionFailed),
  },
  { match: codes("EACCES", "EPERM"), written: false, result: connect(Details.connectionFailed) },
  {
    match: codes(...SESSION_CLOSED_CODES),
    written: false,
    result: connect(Details.sessionClosedBeforeRequest),
  },
  {
    match: codes(...SESSION_CLOSED_CODES, "ETIMEDOUT", "UND_ERR_RES_CONTENT_LENGTH_MISMATCH"),
    written: true,
    result: unclassified(Details.sessionClosed),
  },
];

/** Anything no rule recognises. */
export const FALLBACK: Classification = unclassified(Details.unclassified);
