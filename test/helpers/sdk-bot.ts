/**
 * A bot on 127.0.0.1 port 0 that checks each request with a provider's own SDK, as a real bot
 * behind hookbuffer would: 200 when the SDK accepts, 400 with the SDK's message when it throws.
 * It can be "down" (503) for its first requests, which is why hookbuffer holds the event.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** What the bot saw and what its SDK said about one request. */
export interface Verdict {
  headers: Array<[string, string]>;
  body: Buffer;
  /** 503 while down, else 200 (accepted) or 400 (refused by the SDK). */
  status: number;
  /** The SDK's error message when it refused. */
  error: string | null;
}

export interface SdkBot {
  url: string;
  verdicts: Verdict[];
  close(): Promise<void>;
}

export interface SdkBotOptions {
  /** Answer 503 to this many requests before checking any (default 0). */
  downFor?: number;
  /** Called as each of those requests arrives, before it is answered. */
  whileDown?: () => void;
}

/**
 * `check` throws when the SDK refuses the request. The body has been read already and is also set
 * as `req.rawBody`, where Slack Bolt's HTTP helpers look for a buffered body.
 */
export async function startSdkBot(
  check: (req: IncomingMessage, body: Buffer) => unknown,
  options: SdkBotOptions = {},
): Promise<SdkBot> {
  const verdicts: Verdict[] = [];
  let down = options.downFor ?? 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
    }
    let status = 200;
    let error: string | null = null;
    if (down > 0) {
      down--;
      options.whileDown?.();
      status = 503;
    } else {
      try {
        await check(req, body);
      } catch (err) {
        status = 400;
        error = (err as Error).message;
      }
    }
    verdicts.push({ headers, body, status, error });
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(error === null ? { ok: status === 200 } : { error }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    verdicts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A request header from node's parsed headers, as one string. */
export function headerOf(req: IncomingMessage, name: string): string {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(", ") : (value ?? "");
}
