// Calls hookbuffer's admin API from the harness. A change must say it is JSON (the admin listener
// refuses anything else with 415), and a refused call throws: a pause that silently failed would
// leave delivery running during an ingest measurement.
export async function adminCall(base, method, path) {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(method === "GET" ? {} : { headers: { "content-type": "application/json" }, body: "{}" }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}
