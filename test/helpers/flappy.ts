import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How the flapping upstream behaves right now. */
export const UpstreamModes = {
  ok: "ok",
  /** The listener is closed: connections are refused. */
  refuse: "refuse",
  /** Answers 500. */
  error: "error",
  /** Reads the request and never answers (past the delivery timeout). */
  hang: "hang",
  /** Reads the request and resets the socket. */
  reset: "reset",
} as const;
export type UpstreamMode = keyof typeof UpstreamModes;

export interface Delivery {
  eventId: string;
  body: Buffer;
}

/** A request that reached the handler, and how it was treated. */
export interface Arrival extends Delivery {
  answered: Exclude<UpstreamMode, "refuse">;
}

export interface FlappyUpstream {
  url: string;
  /** Requests answered 2xx, in arrival order. */
  delivered: Delivery[];
  /** Every request that reached the handler, in arrival order (delivered ones included). */
  arrivals: Arrival[];
  /** Every request that reached the handler, whatever it was answered. */
  seen: number;
  mode(): UpstreamMode;
  setMode(mode: UpstreamMode): Promise<void>;
  close(): Promise<void>;
}

/**
 * An upstream on a fixed loopback port that can refuse, fail, hang, reset or recover on demand, so a
 * chaos test can flap it while hookbuffer keeps delivering. Only 2xx answers count as delivered.
 */
export async function startFlappyUpstream(): Promise<FlappyUpstream> {
  let mode: UpstreamMode = "ok";
  const delivered: Delivery[] = [];
  const arrivals: Arrival[] = [];
  const hung = new Set<ServerResponse>();
  let seen = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen++;
      const id = req.headers["x-hookbuffer-event-id"];
      const eventId = typeof id === "string" ? id : "";
      const body = Buffer.concat(chunks);
      arrivals.push({ eventId, body, answered: mode === "refuse" ? "ok" : mode });
      if (mode === "reset") {
        req.socket.resetAndDestroy();
      } else if (mode === "hang") {
        hung.add(res);
        res.on("close", () => hung.delete(res));
      } else if (mode === "error") {
        res.writeHead(500).end("flapping");
      } else {
        delivered.push({ eventId, body });
        res.writeHead(200).end("ok");
      }
    });
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      if (server.listening) server.close(() => resolve());
      else resolve();
    });
  const port = await listen(0);
  return {
    url: `http://127.0.0.1:${port}`,
    delivered,
    arrivals,
    get seen() {
      return seen;
    },
    mode: () => mode,
    async setMode(next) {
      if (next === mode) return;
      if (mode === "hang") for (const res of hung) res.destroy();
      if (next === "refuse") await stop();
      else if (mode === "refuse") await listen(port);
      mode = next;
    },
    close: stop,
  };
}
