import type pg from "pg";
import { eventsChannel } from "./events.js";
import { createPostgresClient, type PostgresTarget } from "./pool.js";

/** A LISTEN connection; `close()` ends it for good. */
export interface EventsListener {
  close(): Promise<void>;
}

export interface ListenOptions {
  /**
   * Called with the route a NOTIFY named, or with null after a reconnect: notifications sent while
   * the connection was down are lost, so anything may be waiting.
   */
  onWake(route: string | null): void;
  /** Called when the connection fails (it is retried after `retryMs`). */
  onError?(err: Error): void;
  /** Wait before reconnecting, ms (default 1000). */
  retryMs?: number;
}

/**
 * Wakes this replica when any replica stores events: a connection of its own, outside the pool,
 * LISTENing on the events channel. Resolves once the first LISTEN is in place.
 */
export async function listenForEvents(
  target: PostgresTarget,
  options: ListenOptions,
): Promise<EventsListener> {
  const channel = eventsChannel(target.schema ?? "public");
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  async function open(): Promise<void> {
    const c = createPostgresClient(target);
    c.on("notification", (msg) => {
      if (msg.channel === channel) options.onWake(msg.payload ?? null);
    });
    c.on("error", (err) => lost(c, err));
    c.on("end", () => lost(c, new Error("LISTEN connection ended")));
    await c.connect();
    await c.query(`LISTEN ${channel}`);
    client = c;
  }

  function lost(c: pg.Client, err: Error): void {
    if (closed || client !== c) return;
    client = null;
    options.onError?.(err);
    c.end().catch(() => {});
    schedule();
  }

  function schedule(): void {
    retry = setTimeout(() => {
      if (closed) return;
      open().then(
        () => options.onWake(null),
        (err: Error) => {
          options.onError?.(err);
          schedule();
        },
      );
    }, options.retryMs ?? 1_000);
  }

  await open();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
