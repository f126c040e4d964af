/**
 * Field names a request's `Connection` header nominates as hop-by-hop (RFC 9110 §7.6.1). Replay
 * removes them, so a nominated signature header would be checked here and then never reach the
 * upstream. `close` and `keep-alive` are connection options, not fields we would lose.
 * Returns null, allocating nothing, for the usual request without such a nomination.
 */
export function nominatedFields(headers: ReadonlyArray<[string, string]>): Set<string> | null {
  let named: Set<string> | null = null;
  for (const [name, value] of headers) {
    if (name.length !== 10 || name.toLowerCase() !== "connection") continue;
    for (const token of value.split(",")) {
      const option = token.trim().toLowerCase();
      if (option === "" || option === "close" || option === "keep-alive") continue;
      named ??= new Set();
      named.add(option);
    }
  }
  return named;
}
