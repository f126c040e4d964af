import { connect, type Socket } from "node:net";

/** A raw client socket that records what it received and when the server closed it. */
export interface RawClient {
  socket: Socket;
  /** Everything the server sent, latin1. */
  received: () => string;
  /** Resolves with ms since connect once the socket is closed (by either side). */
  closed: Promise<number>;
}

/** Connects to 127.0.0.1:port and writes `first` (if any) as soon as connected. */
export function rawClient(port: number, first = ""): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    let openedAt = 0;
    socket.on("data", (c: Buffer) => {
      text += c.toString("latin1");
    });
    // A reset from the server is one way of being closed; the test looks at `closed`, not errors.
    socket.on("error", () => undefined);
    const closed = new Promise<number>((res) => socket.on("close", () => res(Date.now() - openedAt)));
    socket.once("connect", () => {
      openedAt = Date.now();
      if (first !== "") socket.write(first);
      resolve({ socket, received: () => text, closed });
    });
    socket.once("error", reject);
  });
}

/** Sends one complete request over a fresh socket and resolves with the whole response text. */
export async function rawRequest(port: number, head: string[], body: Buffer | string = ""): Promise<string> {
  const client = await rawClient(port);
  const bytes = Buffer.from(body);
  client.socket.write(`${[...head, "Connection: close"].join("\r\n")}\r\n\r\n`);
  // No half-close: Node's server drops a half-closed client's pending response (httpAllowHalfOpen).
  // "Connection: close" makes the server close once it has answered.
  client.socket.write(bytes);
  await client.closed;
  return client.received();
}

/** The status code of the first response in a raw response text, or null. */
export function statusOf(response: string): number | null {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(response);
  return match ? Number(match[1]) : null;
}
