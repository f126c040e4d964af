import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  url: string;
  /** Raw header pairs as they arrived. */
  headers: Array<[string, string]>;
  body: Buffer;
  at: number;
}

/** What the recording upstream answers: a status (and headers), or "destroy" to drop the socket. */
export type Reply =
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  | "destroy";

export interface Recorder {
  url: string;
  port: number;
  requests: Recorded[];
  /** Replaces the reply policy. */
  reply(fn: (req: Recorded, n: number) => Reply): void;
  close(): Promise<void>;
}

/** A real upstream on 127.0.0.1 that records every request byte for byte. */
export async function startRecorder(port = 0): Promise<Recorder> {
  const requests: Recorded[] = [];
  let policy: (req: Recorded, n: number) => Reply = () => ({ status: 200 });
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        pairs.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
      }
      const rec: Recorded = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: pairs,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      requests.push(rec);
      const reply = policy(rec, requests.length);
      if (reply === "destroy") {
        req.socket.destroy();
        return;
      }
      const send = () => {
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body ?? "");
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    reply(fn) {
      policy = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Header value from raw pairs, case-insensitive. */
export function header(rec: Recorded, name: string): string | undefined {
  return rec.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}
