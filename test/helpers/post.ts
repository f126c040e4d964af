import { request } from "undici";

/** What ingest answers: `{status, id}` when it stored the webhook, `{error}` when it refused it. */
export interface IngestReply {
  status?: string;
  id?: string;
  error?: { code: string; message: string };
}

export interface Posted<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  retryAfter: string | undefined;
  /** The whole response body. */
  text: string;
  /** The body parsed as JSON; reading it throws when the body is not JSON. */
  readonly json: T;
}

/** POSTs `body` (default `{}`) and reads the whole response, so no socket is left half-read. */
export async function post<T = IngestReply>(
  url: string,
  body: Buffer | string = "{}",
  headers: Record<string, string> | string[] = {},
): Promise<Posted<T>> {
  const res = await request(url, { method: "POST", body, headers });
  const text = await res.body.text();
  const retryAfter = res.headers["retry-after"];
  return {
    status: res.statusCode,
    headers: res.headers,
    retryAfter: typeof retryAfter === "string" ? retryAfter : undefined,
    text,
    get json() {
      return JSON.parse(text) as T;
    },
  };
}

/** post() with `content-type: application/json`, as providers send their webhooks. */
export function postJson<T = IngestReply>(
  url: string,
  body: Buffer | string = "{}",
  headers: Record<string, string> = {},
): Promise<Posted<T>> {
  return post<T>(url, body, { "content-type": "application/json", ...headers });
}
