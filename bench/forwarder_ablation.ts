/**
 * Where the default pipeline's cost over the bare forwarder sits, by adding the proxy's parts one at a time
 * (issue 13). Run several variants side by side in one wrk run and compare CPU µs per request:
 *
 *   deno run --allow-net bench/forwarder_ablation.ts PORT UPSTREAM_URL MODE
 *
 * MODE: `plain` (= bare_forwarder.ts) · `fwd` (src/proxy/forward.ts Forwarder: deadlines, client-gone
 * tracking, response header scan and Response building, with the request header rewrite of headers.ts) ·
 * `honoN` (N no-op Hono middleware levels in front, e.g. `fwd,hono6`: the proxy's level count without their
 * work) · `completed` (touch Deno.serve's `completed`) · `ac` (a Cancellation per request).
 */
import { Hono } from "hono";
import { Forwarder } from "../src/proxy/forward.ts";
import { HOP_BY_HOP, upstreamRequestHeaderRecord } from "../src/proxy/headers.ts";
import { Http1Transport } from "../src/transport/http1_transport.ts";
import { Upstream } from "../src/upstream/upstream.ts";
import { Cancellation } from "../src/transport/cancellation.ts";

const port = Number(Deno.args[0] ?? 8083);
const upstream = new Upstream(Deno.args[1] ?? "http://127.0.0.1:8080");
const mode = Deno.args[2] ?? "plain";
const transport = new Http1Transport({ maxResponseHeaderBytes: 64 * 1024 });
const forwarder = new Forwarder({
  firstByteTimeoutMs: 30_000,
  maxResponseHeaderBytes: 64 * 1024,
  via: "1.1 proxy",
  compression: true,
});
const never = new Cancellation(); // never cancelled

async function handle(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
  const url = request.url;
  const pathAndQuery = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  if (mode.includes("fwd")) {
    const headers = upstreamRequestHeaderRecord(request.headers, {
      clientIp: info.remoteAddr.hostname,
      trusted: false,
      proto: "http",
      host: request.headers.get("host") ?? "",
      requestId: "ablation",
      via: "1.1 proxy",
    });
    return await forwarder.forward(upstream, { request, pathAndQuery, headers, delivery: info });
  }
  if (mode.includes("completed")) info.completed.then(() => {}, () => {});
  const headers: Record<string, string> = Object.create(null);
  request.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) headers[name] = value;
  });
  const response = await transport.exchange(upstream, {
    method: request.method,
    pathAndQuery,
    headers,
    body: null,
    acceptEncoding: request.headers.get("accept-encoding"),
    signal: mode.includes("ac") ? new Cancellation() : never,
  });
  return new Response(response.body, { status: response.status, headers: response.headers });
}

const levels = Number(/hono(\d+)/.exec(mode)?.[1] ?? -1);
const app = new Hono<{ Bindings: Deno.ServeHandlerInfo<Deno.NetAddr> }>();
for (let i = 0; i < levels; i++) {
  app.use(async (_c, next) => {
    await next();
  });
}
app.all("*", (c) => handle(c.req.raw, c.env));
Deno.serve(
  { hostname: "127.0.0.1", port, onListen() {} },
  levels >= 0 ? (request, info) => app.fetch(request, info) : handle,
);
