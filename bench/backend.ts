/**
 * A minimal upstream for load tests and the demo: answers every request with a short text body. `no-store`, so
 * the demo's embedded config (which enables the cache with a 300 s heuristic lifetime) visibly alternates.
 * `/cached` is cacheable for 5 s (bench/soak.ts). `/1m` answers 1 MiB with Content-Length, `/chunked` 16 × 16 KiB chunks without a length (for `--path`).
 */
const port = Number(Deno.args[0] ?? 3001);
const name = Deno.args[1] ?? `backend ${port}`;
const body = new TextEncoder().encode(`hello from ${name}\n`);
const mebibyte = new Uint8Array(1024 * 1024).fill(120);
const chunk = new Uint8Array(16 * 1024).fill(121);
Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: () => console.error(`${name} listening on 127.0.0.1:${port}`),
}, (request) => {
  const headers = { "content-type": "text/plain", "cache-control": "no-store" };
  const path = request.url.slice(request.url.indexOf("/", 8));
  if (path === "/1m") return new Response(mebibyte, { headers });
  if (path === "/cached") {
    return new Response(body, { headers: { "content-type": "text/plain", "cache-control": "max-age=5" } });
  }
  if (path === "/chunked") {
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ === 16) controller.close();
        else controller.enqueue(chunk);
      },
    });
    return new Response(stream, { headers });
  }
  return new Response(body, { headers });
});
