/**
 * The `storage` section: the SQLite file by default, or PostgreSQL when `storage.url` is set. Keys
 * that only mean something for one of the two are refused beside the other, so a setting never
 * silently does nothing (README, Several replicas).
 */
import { z } from "zod";
import { databaseUrl, pgSchemaName } from "./database-url.js";
import { DEFAULT_STORAGE } from "./defaults.js";
import { duration, integer, looseEnum, size } from "./schema-fields.js";
import type { Config } from "./types.js";

export const storageSchema = z
  .strictObject({
    path: z.string().min(1, { message: "must not be empty" }).optional(),
    synchronous: looseEnum(["full", "normal"]).optional(),
    url: databaseUrl.nullable().optional(),
    schema: pgSchemaName.optional(),
    pool_size: integer(1, 100).optional(),
    max_pending: integer(1).nullable().optional(),
    max_bytes: size.nullable().optional(),
    max_db_size: size.nullable().optional(),
    // nullish: `retention:` with every key commented out parses as null.
    retention: z
      .strictObject({ delivered: duration.optional(), dead: duration.optional(), stats: duration.optional() })
      .nullish(),
  })
  .transform((storage, ctx): Config["storage"] => {
    const postgres = storage.url != null;
    // max_db_size: null is "no cap", which is true of PostgreSQL too; only a cap is refused.
    const sqliteOnly = {
      path: storage.path !== undefined,
      synchronous: storage.synchronous !== undefined,
      max_db_size: storage.max_db_size != null,
    };
    const postgresOnly = { schema: storage.schema !== undefined, pool_size: storage.pool_size !== undefined };
    for (const [key, isSet] of Object.entries(postgres ? sqliteOnly : postgresOnly)) {
      if (!isSet) continue;
      const message = postgres
        ? "applies to the SQLite file only; not with storage.url"
        : "only with storage.url (PostgreSQL)";
      ctx.addIssue({ code: "custom", path: [key], message });
    }
    return {
      path: storage.path ?? DEFAULT_STORAGE.path,
      synchronous: storage.synchronous ?? DEFAULT_STORAGE.synchronous,
      url: storage.url ?? DEFAULT_STORAGE.url,
      schema: storage.schema ?? DEFAULT_STORAGE.schema,
      poolSize: storage.pool_size ?? DEFAULT_STORAGE.poolSize,
      maxPending: storage.max_pending ?? DEFAULT_STORAGE.maxPending,
      maxBytes: storage.max_bytes ?? DEFAULT_STORAGE.maxBytes,
      maxDbSize: storage.max_db_size ?? DEFAULT_STORAGE.maxDbSize,
      retention: {
        deliveredMs: storage.retention?.delivered ?? DEFAULT_STORAGE.retention.deliveredMs,
        deadMs: storage.retention?.dead ?? DEFAULT_STORAGE.retention.deadMs,
        statsMs: storage.retention?.stats ?? DEFAULT_STORAGE.retention.statsMs,
      },
    };
  });
