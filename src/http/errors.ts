import { RequestError } from "@hono/node-server";
import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every refusal on both listeners answers `{error: {code, message}}` with its status
 * (docs/architecture.md#errors). This module is the one place that body is written: handlers
 * throw `apiError(...)`, the apps' shared `onError` renders it, and code that must hand back a
 * Response itself (the passthrough, a middleware's own error hook, the adapter's parse failures)
 * calls `errorResponse`.
 */
export function errorResponse(
  status: ContentfulStatusCode,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Response {
  return Response.json({ error: { code, message } }, headers ? { status, headers } : { status });
}

/** A refusal thrown from a handler or middleware; `headers` travel with it (Retry-After, ...). */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> | undefined = undefined,
  ) {
    super(status, { message });
  }

  override getResponse(): Response {
    return errorResponse(this.status as ContentfulStatusCode, this.code, this.message, this.headers);
  }
}

/** The error to throw for a refusal: status, a stable machine code, and a message for people. */
export const apiError = (
  status: ContentfulStatusCode,
  code: string,
  message: string,
  headers?: Record<string, string>,
) => new ApiError(status, code, message, headers);

/** Where an unexpected error goes (the log): it is the operator's to read, not the caller's. */
export type UnexpectedErrorReport = (err: Error, request: { method: string; path: string }) => void;

/**
 * The `onError` of both apps. A refusal renders as thrown; an `HTTPException` not built here still
 * gets the JSON shape. An unexpected error is a 500 `internal` that names nothing of it: its text
 * can carry file paths, SQL or upstream addresses, and the ingest listener faces the internet. It
 * goes to `report` instead.
 */
export function createErrorRenderer(report?: UnexpectedErrorReport): ErrorHandler {
  return (err, c) => {
    if (err instanceof ApiError) return err.getResponse();
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      return errorResponse(status, status >= 500 ? "internal" : "bad_request", err.message || "refused");
    }
    report?.(err, { method: c.req.method, path: c.req.path });
    return errorResponse(500, "internal", "internal error; the server's log has the details");
  };
}

/** The renderer for an app with nowhere to report to. */
export const renderError: ErrorHandler = createErrorRenderer();

/** The admin app's answer for a path nothing serves. */
export const renderNotFound: NotFoundHandler = (c) =>
  errorResponse(404, "not_found", `no such endpoint: ${c.req.path}`);

/**
 * The answer to a request the HTTP adapter could not turn into a Request (no `Host`, an invalid
 * one, a malformed target): a JSON 400 like every other refusal.
 */
export function requestErrorResponse(err: unknown): Response {
  if (!(err instanceof RequestError)) return errorResponse(500, "internal", "internal error");
  return errorResponse(400, "bad_request", err.message);
}
