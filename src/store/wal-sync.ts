import { close, fdatasync, open } from "node:fs";

/** Makes everything committed so far durable by syncing the WAL file, off the event loop. */
export interface WalSync {
  sync(): Promise<void>;
  close(): void;
}

/**
 * `synchronous=FULL` without blocking the event loop. SQLite runs at NORMAL, so a commit only
 * write()s its WAL frames; this then fdatasync()s the WAL on libuv's thread pool, and the writer
 * acknowledges a batch only once a sync that started after its commit has finished. Syncing the
 * WAL after each commit is what FULL does inside the commit, so what is acknowledged survives
 * power loss the same way; meanwhile the next batches keep committing.
 */
export function createWalSync(walPath: string): WalSync {
  let fd: number | undefined;
  let opening: Promise<number> | undefined;
  const fileDescriptor = (): Promise<number> => {
    if (fd !== undefined) return Promise.resolve(fd);
    // The WAL exists once the first transaction has committed, which precedes every sync.
    opening ??= new Promise<number>((resolve, reject) =>
      open(walPath, "r", (err, opened) => {
        opening = undefined;
        if (err) {
          reject(err);
          return;
        }
        fd = opened;
        resolve(opened);
      }),
    );
    return opening;
  };
  return {
    async sync() {
      const handle = await fileDescriptor();
      await new Promise<void>((resolve, reject) =>
        fdatasync(handle, (err) => (err ? reject(err) : resolve())),
      );
    },
    close() {
      if (fd !== undefined) close(fd, () => undefined);
      fd = undefined;
    },
  };
}
