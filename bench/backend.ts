/**
 * A minimal upstream for load tests and the demo: answers every request with a short text body. `no-store`, so
 * the demo's embedded config (which enables the cache with a 300 s heuristic lifetime) visibly alternates.
 */
const port = Number(Deno.args[0] ?? 3001);
const name = Deno.args[1] ?? `backend ${port}`;
const body = new TextEncoder().encode(`hello from ${name}\n`);
Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: () => console.error(`${name} listening on 127.0.0.1:${port}`),
}, () => new Response(body, { headers: { "content-type": "text/plain", "cache-control": "no-store" } }));
