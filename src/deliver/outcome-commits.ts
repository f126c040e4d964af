/**
 * Commits attempt outcomes, and holds them when the database cannot take writes (a full disk,
 * an I/O error): the upstream has already answered, so the outcome is kept in memory and its
 * commit retried with backoff, instead of dropping the lease and sending the event again. While
 * anything is held, delivery as a whole is stalled (docs/architecture.md#held-outcome-stall,
 * docs/reliability.md#storage-faults).
 */
import type { Logger } from "pino";
import type { CommandRunner, RecordOutcome } from "../store/index.js";

/**
 * Codes meaning "the database cannot take writes now", not "this write is wrong": SQLite's, and
 * PostgreSQL's connection (08), resource (53: disk full, too many connections) and shutdown (57P)
 * classes, and a connection the network refused or dropped.
 */
const STORAGE_CODES =
  /^(SQLITE_(FULL|IOERR|CANTOPEN|READONLY|BUSY|LOCKED|NOMEM|PROTOCOL)|08...$|53...$|57P0.$|ECONNREFUSED$|ECONNRESET$|ETIMEDOUT$|EPIPE$)/;

export function isStorageError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && STORAGE_CODES.test(code);
}

/** Why the commit of a held outcome was given up (shutdown): the event is simply due again. */
export class OutcomeNotRecordedError extends Error {
  override readonly name = "OutcomeNotRecordedError";
}

export interface OutcomeStall {
  /** Outcomes held in memory, waiting for a commit. */
  held: number;
  /** The SQLite code of the first failure of the episode. */
  code: string | null;
  /** When the episode started (epoch ms). */
  since: number;
}

export interface OutcomeCommitsDeps {
  commands: CommandRunner;
  log: Logger;
  now: () => number;
  /** The stall starts (`stall` set) or ends (null): at most once each per episode. */
  onStall(stall: OutcomeStall | null): void;
  /** First retry delay and the cap of its doubling (ms). */
  retryMs?: { first: number; max: number };
}

interface Held {
  command: RecordOutcome;
  resolve(): void;
  reject(err: unknown): void;
}

export function createOutcomeCommits(deps: OutcomeCommitsDeps) {
  const { commands, log } = deps;
  const first = deps.retryMs?.first ?? 250;
  const max = deps.retryMs?.max ?? 10_000;
  let held: Held[] = [];
  // Held outcomes plus those being retried right now: what the gauge shows.
  let unrecorded = 0;
  let episode: OutcomeStall | null = null;
  let delay = first;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function hold(entry: Held, err: unknown): void {
    held.push(entry);
    unrecorded++;
    if (episode) return;
    const code = (err as { code?: string }).code ?? null;
    episode = { held: 1, code, since: deps.now() };
    log.error(
      { err, code },
      "could not record delivery outcomes; delivery paused, outcomes kept in memory and retried until the database takes writes",
    );
    deps.onStall(episode);
    schedule();
  }

  function schedule(): void {
    if (timer || stopped) return;
    timer = setTimeout(retry, delay);
    delay = Math.min(max, delay * 2);
  }

  /** Tries every held outcome again in one batch; the episode ends when none is left. */
  function retry(): void {
    timer = undefined;
    if (stopped) return;
    const batch = held;
    held = [];
    let settled = 0;
    const done = () => {
      if (++settled < batch.length) return;
      if (held.length > 0) return schedule();
      if (!episode) return;
      log.info(
        { recorded: batch.length, pausedMs: deps.now() - episode.since },
        "delivery outcomes recorded again; delivery resumed",
      );
      episode = null;
      delay = first;
      deps.onStall(null);
    };
    for (const entry of batch) {
      commands.execute(entry.command).then(
        () => {
          unrecorded--;
          entry.resolve();
          done();
        },
        (err: unknown) => {
          if (isStorageError(err) && !stopped) held.push(entry);
          else {
            unrecorded--;
            entry.reject(err);
          }
          done();
        },
      );
    }
    if (batch.length === 0) done();
  }

  return {
    /**
     * Commits the outcome; resolves once it has committed, however long the database refuses writes.
     * Rejects only for an error that is not about storage, or when stopped.
     */
    commit(command: RecordOutcome, options?: { lazy?: boolean }): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const entry: Held = { command, resolve, reject };
        if (episode) {
          held.push(entry);
          unrecorded++;
          return;
        }
        commands.execute(command, options).then(resolve, (err: unknown) => {
          if (isStorageError(err) && !stopped) hold(entry, err);
          else reject(err);
        });
      });
    },
    /** True while outcomes wait for the database: nothing new should be claimed or sent. */
    get stalled(): boolean {
      return episode !== null;
    },
    /** Outcomes waiting in memory for a commit. */
    get held(): number {
      return unrecorded;
    },
    /**
     * Gives up on held outcomes (shutdown): their events are still pending in the database and
     * are delivered again after the restart, at least once.
     */
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const dropped = held.splice(0);
      unrecorded -= dropped.length;
      if (dropped.length > 0)
        log.warn(
          { count: dropped.length },
          "stopping with unrecorded delivery outcomes; those events will be delivered again",
        );
      for (const entry of dropped)
        entry.reject(new OutcomeNotRecordedError("stopped before the outcome was recorded"));
    },
  };
}

export type OutcomeCommits = ReturnType<typeof createOutcomeCommits>;
