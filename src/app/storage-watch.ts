import type { Logger } from "pino";
import type { Alerter } from "../alerts/alerter.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config/index.js";
import { createFilesystemSpace } from "../store/fs-space.js";
import { createDatabaseIdentity } from "../store/identity.js";
import { createPruner } from "../store/pruner.js";
import type { Storage } from "./storage.js";

/**
 * What keeps the database usable while running: retention (the pruner), the free space on its
 * filesystem after a write failed for lack of it, and its file's identity (removed or replaced).
 */
export function watchStorage(deps: {
  config: Config;
  log: Logger;
  clock: Clock;
  storage: Storage;
  alerter: Pick<Alerter, "storage">;
}) {
  const { config, log, storage } = deps;
  const pruner = createPruner({
    space: storage.sqlite?.store.space ?? null,
    commands: storage.commands,
    retention: config.storage.retention,
    now: deps.clock.now,
    log,
  });
  const fsSpace = createFilesystemSpace({ dbPath: config.storage.path });
  // The file's identity matters only for a file: a shared store has none.
  const identity =
    storage.sqlite === null
      ? noIdentity
      : createDatabaseIdentity({
          path: config.storage.path,
          onChange(problem) {
            // The checkpointer's own connection opens the path anew: it would create a fresh, empty file there.
            if (problem !== null) storage.sqlite?.checkpointer.stop();
            if (problem !== null)
              log.error({ problem }, "database file removed or replaced: refusing new webhooks");
            else log.info("database file back in place: accepting webhooks");
            deps.alerter.storage("database_missing", problem);
          },
        });
  return {
    pruner,
    fsSpace,
    identity,
    start(): void {
      pruner.start();
      identity.start();
    },
    async stop(): Promise<void> {
      await pruner.stop();
      fsSpace.stop();
      identity.stop();
    },
  };
}

const noIdentity = { problem: (): string | null => null, start: () => undefined, stop: () => undefined };

export type StorageWatch = ReturnType<typeof watchStorage>;
