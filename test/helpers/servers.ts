/**
 * Real, misbehaving servers on 127.0.0.1 port 0 for integration tests. Everything started through
 * a scope is torn down by `closeAll()` (call it in afterEach), open sockets and sessions included,
 * so a test that fails half-way leaves nothing listening.
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { Worker } from "node:worker_threads";
import {
  createUpstream,
  type Upstream,
  type UpstreamOptions,
  type UpstreamRoute,
} from "../../src/transport/upstream.js";

export interface RunningServer {
  port: number;
  /** http://127.0.0.1:PORT (the scheme is only a convenience; TLS servers want https). */
  origin: string;
  close(): Promise<void>;
}

/** Route settings short enough that every failing test ends within a couple of seconds. */
export function testRoute(upstream: string, overrides: Partial<UpstreamRoute> = {}): UpstreamRoute {
  return {
    upstream,
    concurrency: 2,
    connectTimeoutMs: 1000,
    dnsTimeoutMs: 500,
    timeoutMs: 2000,
    http2: false,
    ...overrides,
  };
}

const noop = (): void => {};

/** Listens on an ephemeral loopback port and tracks sockets so close() never waits on keep-alive. */
async function listen(server: net.Server, backlog?: number): Promise<RunningServer> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket: net.Socket) => {
    // A client reset must not crash the test process with an unhandled 'error'.
    socket.on("error", noop);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("error", noop);
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog }, resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Holds a listener whose thread never accepts, and sockets filling its accept queue. */
const BLACKHOLE_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const net = require("node:net");
const server = net.createServer();
server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  // Block this thread's event loop: libuv never calls accept(), so the kernel queue stays full.
  Atomics.wait(new Int32Array(workerData), 0, 0);
  server.close();
});
`;

export interface ServerScope {
  /** A node:http server. */
  http(handler: http.RequestListener): Promise<RunningServer>;
  /** A raw TCP server: the test scripts the bytes. */
  raw(onSocket: (socket: net.Socket) => void): Promise<RunningServer>;
  /** A raw TLS server. */
  tls(options: tls.TlsOptions, onSocket: (socket: tls.TLSSocket) => void): Promise<RunningServer>;
  /** A node:http2 secure server; `setup` attaches its 'session'/'stream' handlers. */
  h2(
    options: http2.SecureServerOptions,
    setup: (server: http2.Http2SecureServer) => void,
  ): Promise<RunningServer>;
  /**
   * A port whose accept queue is full (backlog 1, filled by raw sockets, listener never
   * accepting), so the kernel drops new SYNs and a connect hangs until its timeout.
   */
  blackhole(): Promise<RunningServer>;
  /** A loopback port nothing listens on (connects are refused). */
  closedPort(): Promise<number>;
  /** An upstream pool closed with the servers. */
  upstream(route: UpstreamRoute, options?: UpstreamOptions): Upstream;
  closeAll(): Promise<void>;
}

export function serverScope(): ServerScope {
  const closers: Array<() => Promise<void>> = [];
  const track = (running: RunningServer): RunningServer => {
    closers.push(running.close);
    return running;
  };

  async function blackhole(): Promise<RunningServer> {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(BLACKHOLE_WORKER, { eval: true, workerData: flag.buffer });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    const fillers: net.Socket[] = [];
    const close = async (): Promise<void> => {
      for (const socket of fillers) socket.destroy();
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await worker.terminate();
    };
    closers.push(close);
    // Linux queues backlog + 1 completed handshakes; two connected fillers mean the queue is full.
    const connected = Array.from({ length: 2 }, () => {
      const socket = net.connect(port, "127.0.0.1");
      socket.on("error", noop);
      fillers.push(socket);
      return new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    });
    await Promise.all(connected);
    return { port, origin: `http://127.0.0.1:${port}`, close };
  }

  return {
    http: async (handler) => track(await listen(http.createServer(handler))),
    raw: async (onSocket) => track(await listen(net.createServer(onSocket))),
    tls: async (options, onSocket) => {
      const server = tls.createServer(options, (socket) => {
        socket.on("error", noop);
        onSocket(socket);
      });
      server.on("tlsClientError", noop);
      return track(await listen(server));
    },
    h2: async (options, setup) => {
      const server = http2.createSecureServer(options);
      const sessions = new Set<http2.ServerHttp2Session>();
      server.on("session", (session) => {
        session.on("error", noop);
        sessions.add(session);
        session.once("close", () => sessions.delete(session));
      });
      server.on("stream", (stream) => stream.on("error", noop));
      setup(server);
      const running = await listen(server);
      const close = async (): Promise<void> => {
        for (const session of sessions) session.destroy();
        await running.close();
      };
      closers.push(close);
      return { ...running, close };
    },
    blackhole,
    // Port 1: nothing listens there and no test binds below 1024. A released ephemeral port was
    // not safe: a listener of a test running in parallel could take it, turning refusals into replies.
    closedPort: async () => 1,
    upstream: (route, options) => {
      const upstream = createUpstream(route, options);
      closers.push(() => upstream.destroy());
      return upstream;
    },
    closeAll: async () => {
      const pending = closers.splice(0).reverse();
      await Promise.all(pending.map((close) => close().catch(noop)));
    },
  };
}
