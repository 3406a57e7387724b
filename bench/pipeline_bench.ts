/**
 * Where a cache hit's microseconds go (issue 13): the parts of src/app.ts's first level (request_entry.ts) built
 * as separate middlewares one by one, in its order, each chain ending in the same pre-built answer; then the
 * entry level itself; plus the whole `createApp` app answering a real cache hit, and the single operations
 * the hit path performs. In-process (`app.fetch`, no sockets), so the differences between consecutive rows
 * are the cost of one part plus one Hono level.
 *
 *   deno bench --allow-net bench/pipeline_bench.ts
 */
import { Hono, type MiddlewareHandler } from "hono";
import { upstreamSnapshots } from "../src/admin/upstream_snapshots.ts";
import type { AppEnv } from "../src/app_env.ts";
import { createApp } from "../src/app.ts";
import { parseConfig } from "../src/config/load_config.ts";
import { ProxyMetrics } from "../src/metrics/proxy_metrics.ts";
import { Registry } from "../src/metrics/registry.ts";
import { http2Authority } from "../src/middleware/http2_authority.ts";
import { observe } from "../src/middleware/observe.ts";
import { requestContext } from "../src/middleware/request_context.ts";
import { requestEntry } from "../src/middleware/request_entry.ts";
import { chain as chainLevels } from "../src/middleware/chain.ts";
import { requestGuard } from "../src/middleware/request_guard.ts";
import { bodyLimit, requestLimits } from "../src/middleware/request_limits.ts";
import { responseCache } from "../src/middleware/response_cache.ts";
import { routeMatch } from "../src/middleware/route_match.ts";
import { webSocketProxy } from "../src/middleware/websocket.ts";
import { Runtime } from "../src/runtime.ts";

const upstream = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  () =>
    new Response("x".repeat(1024), {
      headers: { "content-type": "text/plain", "cache-control": "public, max-age=3600", etag: '"v1"' },
    }),
);
const yaml = `backends: ["http://127.0.0.1:${upstream.addr.port}"]\ncache: { max_size: 1000, ttl: 300s }\n`;
const info: Deno.ServeHandlerInfo<Deno.NetAddr> = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 40000 },
  completed: Promise.resolve(),
};
const URL_ = "http://example.com/x";
const request = () => new Request(URL_, { headers: { host: "example.com", "user-agent": "wrk" } });

const source = { current: new Runtime(parseConfig(yaml, "bench.yaml")) };
const metrics = new ProxyMetrics(new Registry(), { upstreams: () => upstreamSnapshots(source.current) });
const noLog = { write: () => {} };

/** The first `levels` middlewares of src/app.ts in order, then an immediate 200. */
function chain(levels: number): Hono<AppEnv> {
  const all: MiddlewareHandler<AppEnv>[] = [
    requestContext(source),
    observe({ metrics, log: noLog }),
    http2Authority(),
    requestGuard(),
    requestLimits(),
    routeMatch(),
    bodyLimit(),
    webSocketProxy({ observer: metrics }),
  ];
  const app = new Hono<AppEnv>();
  for (const middleware of all.slice(0, levels)) app.use(middleware);
  app.all("*", () => new Response("ok"));
  return app;
}

const names = [
  "Hono, no middleware",
  "+ requestContext",
  "+ observe (metrics)",
  "+ http2Authority",
  "+ requestGuard",
  "+ requestLimits",
  "+ routeMatch",
  "+ bodyLimit",
  "+ webSocketProxy",
];
const entry = new Hono<AppEnv>();
const benchError = () => new Response("error", { status: 500 });
entry.all(
  "*",
  requestEntry({
    runtime: source.current,
    https: false,
    onError: benchError,
    downstream: chainLevels([
      webSocketProxy({ observer: metrics }),
      () => Promise.resolve(new Response("ok")),
    ], benchError),
    metrics,
    log: noLog,
  }),
);
Deno.bench("requestEntry (the parts above, one handler) + webSocketProxy", { group: "levels" }, async () => {
  await (await entry.fetch(request(), info)).arrayBuffer();
});

names.forEach((name, levels) => {
  const app = chain(levels);
  Deno.bench(name, { group: "levels", baseline: levels === 0 }, async () => {
    await (await app.fetch(request(), info)).arrayBuffer();
  });
});

const cacheOnly = new Hono<AppEnv>();
cacheOnly.use(requestContext(source), routeMatch(), responseCache({ metrics }));
cacheOnly.all("*", () => new Response("forwarded"));
const full = createApp(source, { metrics, accessLog: noLog });
await (await full.fetch(request(), info)).arrayBuffer(); // the miss that stores the entry

Deno.bench("whole app: cache hit", { group: "levels" }, async () => {
  const response = await full.fetch(request(), info);
  if (response.headers.get("x-cache") !== "HIT") throw new Error("not a hit");
  await response.arrayBuffer();
});
Deno.bench("requestContext + routeMatch + responseCache: hit", { group: "levels" }, async () => {
  await (await cacheOnly.fetch(request(), info)).arrayBuffer();
});

Deno.bench("crypto.randomUUID()", { group: "ops" }, () => {
  crypto.randomUUID();
});
Deno.bench("new Request(url, headers)", { group: "ops" }, () => {
  request();
});
Deno.bench("new Response(bytes, 8 headers)", { group: "ops" }, () => {
  new Response(new Uint8Array(1024), {
    headers: [["a", "1"], ["b", "2"], ["c", "3"], ["d", "4"], ["e", "5"], ["f", "6"], ["g", "7"], ["h", "8"]],
  });
});
Deno.bench("metrics.recordRequest (warm series)", { group: "ops" }, () => {
  metrics.recordRequest("default", "none", "GET", 200, 0.0001);
});
const cache = source.current.cache!;
Deno.bench("HttpCache.lookup (hit)", { group: "ops" }, () => {
  cache.http.lookup({ method: "GET", url: URL_, headers: new Headers({ host: "example.com" }) }, Date.now());
});

addEventListener("unload", () => void upstream.shutdown());
