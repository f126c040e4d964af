import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Config } from "../config/index.js";
import type { Storage } from "./storage.js";

export async function openPostgresStorage(
  _config: Config,
  _log: Logger,
  _clock: Clock,
  _url: string,
): Promise<Storage> {
  throw new Error("not yet");
}
