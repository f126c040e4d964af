// The deliverer's claims on a shared store (deliver/shared-claims.ts) against a real PostgreSQL:
// a claim whose answer is lost after it committed (a dropped connection) leaves leases this
// replica does not know it holds; the next claim of the route gives them back first.
import { describe, expect } from "vitest";
import { routeQueue } from "../../src/deliver/claims.js";
import { createSharedClaims, type LeaseStore } from "../../src/deliver/shared-claims.js";
import { createPgClaimQueries } from "../../src/store/postgres/claims.js";
import { createPgEventQueries } from "../../src/store/postgres/events.js";
import { newPgEvent } from "../helpers/events.js";
import { test } from "../helpers/harness.js";
import { findTestPostgres, usePostgresReplicas } from "../helpers/postgres.js";

const server = await findTestPostgres();
const { replica } = usePostgresReplicas(server);

describe.skipIf(server.url === null)(`shared claims (${server.skip ?? "real server"})`, () => {
  test("a claim that committed but whose answer was lost does not strand its leases: the next claim releases them and gets the events", async () => {
    const pool = await replica();
    const queries = createPgClaimQueries(pool);
    const route = `stray-${Date.now()}`;
    await createPgEventQueries(pool).insertBatch(
      [1, 2, 3].map((n) => newPgEvent({ id: `${route}-${n}`, route, body: Buffer.from(String(n)) })),
      0,
    );
    const owner = "replica-a";
    let loseNextAnswer = true;
    const store: LeaseStore = {
      async claim(r, limit) {
        const claimed = await queries.claim(r, owner, 60_000, limit);
        if (loseNextAnswer) {
          loseNextAnswer = false;
          // Committed in the database; the reply never arrives.
          throw Object.assign(new Error("Connection terminated unexpectedly"), { code: "08006" });
        }
        return claimed;
      },
      takeProbe: (r) => queries.takeProbe(r, owner, 60_000),
      release: (seqs) => queries.release(owner, seqs),
      releaseAllBut: (r, keep) => queries.releaseAllBut(r, owner, keep),
    };
    const claims = createSharedClaims(
      store,
      (err) => {
        throw err;
      },
      Date.now,
    );
    const q = routeQueue(route);
    await expect(claims.claim(q, 10, false)).rejects.toThrow("terminated");
    // The three rows are leased for a minute by a replica that does not know it.
    const held = await pool.query(
      "SELECT count(*)::int AS n FROM events WHERE route = $1 AND locked_by = $2",
      [route, owner],
    );
    expect(held.rows[0].n).toBe(3);
    const again = await claims.claim(q, 10, false);
    expect(again.map((e) => e.id).sort()).toEqual([`${route}-1`, `${route}-2`, `${route}-3`]);
    expect(claims.leased(route)).toBe(3);
  });
});
