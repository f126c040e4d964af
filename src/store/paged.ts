/**
 * Reads that must not hold the event loop (admin reads of any size while ingest commits on the
 * same thread): the caller reads one bounded page per turn, and setImmediate between pages lets
 * pending acks and group commits run. Each page is its own statement, so no read transaction
 * stays open across turns and the writer is never blocked by it.
 */

/** Rows per page: about a millisecond of SQLite and JavaScript work on a small machine. */
export const PAGE_ROWS = 250;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Calls `read(after)` until a page comes back short, handing each row to `visit`; `after` is the
 * last row of the previous page (null first), for keyset pagination. Yields between pages.
 */
export async function readInPages<R>(
  read: (after: R | null, limit: number) => R[] | Promise<R[]>,
  visit: (row: R) => void,
  limit = PAGE_ROWS,
): Promise<void> {
  let after: R | null = null;
  for (;;) {
    const rows = await read(after, limit);
    for (const row of rows) visit(row);
    if (rows.length < limit) return;
    after = rows[rows.length - 1] as R;
    await nextTurn();
  }
}
