import { statSync } from "node:fs";
import { stat } from "node:fs/promises";

/**
 * Notices the database file being deleted or replaced under a running hookbuffer. SQLite keeps
 * writing to the file it opened, so commits still succeed, but into an inode no later start will
 * see: every ack from then on would be a lie. The file's identity (device and inode) is taken at
 * open and compared on every ingest batch (one stat per event-loop turn) and once a second.
 */
export function createDatabaseIdentity(options: {
  path: string;
  /** The database was removed or replaced (a description), or is back in place (null). */
  onChange(problem: string | null): void;
  pollMs?: number;
}) {
  const { path } = options;
  const original = statSync(path, { bigint: true });
  let problem: string | null = null;
  let checkedThisTurn = false;
  let timer: NodeJS.Timeout | undefined;

  function judge(now: { dev: bigint; ino: bigint } | null): void {
    const next =
      now === null
        ? `the database file ${path} was removed or replaced while running (it no longer exists)`
        : now.dev !== original.dev || now.ino !== original.ino
          ? `the database file ${path} was removed or replaced while running (another file is in its place)`
          : null;
    if (next === problem) return;
    problem = next;
    options.onChange(problem);
  }

  const missing = (err: unknown) => (err as { code?: string }).code === "ENOENT";

  return {
    /**
     * Why the database cannot be trusted with new webhooks, or null. Stats the path at most once
     * per event-loop turn, so a group-commit batch pays for one stat.
     */
    problem(): string | null {
      if (checkedThisTurn) return problem;
      checkedThisTurn = true;
      setImmediate(() => {
        checkedThisTurn = false;
      });
      try {
        judge(statSync(path, { bigint: true }));
      } catch (err) {
        if (missing(err)) judge(null);
      }
      return problem;
    },
    /** Checks once a second without traffic too, for readiness and the alert. */
    start(): void {
      timer = setInterval(() => {
        stat(path, { bigint: true }).then(judge, (err: unknown) => {
          if (missing(err)) judge(null);
        });
      }, options.pollMs ?? 1_000);
      timer.unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
    },
  };
}

export type DatabaseIdentity = ReturnType<typeof createDatabaseIdentity>;
