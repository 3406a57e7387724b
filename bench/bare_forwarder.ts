/**
 * The floor of this proxy's own client: Deno.serve + the src/transport HTTP/1.1 client (pooled, keep-alive),
 * no middleware, no header rewriting beyond dropping hop-by-hop fields. Compare with naive_forwarder.ts (fetch).
 *
 *   deno run --allow-net bench/bare_forwarder.ts PORT UPSTREAM_URL
 */
import { HOP_BY_HOP } from "../src/proxy/headers.ts";
import { Http1Transport } from "../src/transport/http1_transport.ts";
import { Upstream } from "../src/upstream/upstream.ts";
import { Cancellation } from "../src/transport/cancellation.ts";

const port = Number(Deno.args[0] ?? 8081);
const upstream = new Upstream(Deno.args[1] ?? "http://127.0.0.1:8080");
const transport = new Http1Transport({ maxResponseHeaderBytes: 64 * 1024 });
const never = new Cancellation(); // never cancelled

Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (request) => {
  const headers: Record<string, string> = Object.create(null);
  request.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) headers[name] = value;
  });
  const url = request.url;
  const pathAndQuery = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  const response = await transport.exchange(upstream, {
    method: request.method,
    pathAndQuery,
    headers,
    body: request.method === "GET" || request.method === "HEAD" ? null : request.body,
    acceptEncoding: request.headers.get("accept-encoding"),
    signal: never,
  });
  return new Response(response.body, { status: response.status, headers: response.headers });
});
