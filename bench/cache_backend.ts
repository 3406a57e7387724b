/** Upstream for the cache load test: every response is cacheable for an hour. Args: port, body bytes. */
const port = Number(Deno.args[0] ?? 3001);
const body = new TextEncoder().encode("x".repeat(Number(Deno.args[1] ?? 1024)));
Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, () =>
  new Response(body, {
    headers: { "content-type": "text/plain", "cache-control": "public, max-age=3600", etag: '"v1"' },
  }));
