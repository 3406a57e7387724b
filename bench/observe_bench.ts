/**
 * Per-request cost of the observe middleware (metrics + access log) on the real middleware chain, with the
 * forwarder replaced by a handler that answers at once, so only the proxy's own work is timed.
 * Run: deno bench bench/observe_bench.ts — compare the three in the "chain" group.
 */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import { upstreamSnapshots } from "../src/admin/upstream_snapshots.ts";
import { parseConfig } from "../src/config/load_config.ts";
import { BufferedLineWriter } from "../src/log/line_writer.ts";
import { ProxyMetrics } from "../src/metrics/proxy_metrics.ts";
import { Registry } from "../src/metrics/registry.ts";
import { observe } from "../src/middleware/observe.ts";
import { requestContext } from "../src/middleware/request_context.ts";
import { requestGuard } from "../src/middleware/request_guard.ts";
import { routeMatch } from "../src/middleware/route_match.ts";
import { Runtime } from "../src/runtime.ts";

const BASE = 'backends: ["http://127.0.0.1:3001"]\n';
const info = { remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 40000 } };

function chain(format: "none" | "off" | "json"): Hono<AppEnv> {
  const yaml = format === "none" ? BASE : `${BASE}access_log: { format: ${format} }`;
  const source = { current: new Runtime(parseConfig(yaml, "bench.yaml")) };
  const upstream = source.current.pools.get("default")!.upstreams[0]!;
  const app = new Hono<AppEnv>();
  app.use(requestContext(source));
  if (format !== "none") {
    const metrics = new ProxyMetrics(new Registry(), { upstreams: () => upstreamSnapshots(source.current) });
    // Lines are encoded and handed to a writer that drops them: the cost of formatting and batching.
    const log = new BufferedLineWriter({ write: () => Promise.resolve(), flushDelayMs: 0 });
    app.use(observe({ metrics, log }));
  }
  app.use(requestGuard());
  app.use(routeMatch());
  app.all("*", (c) => {
    c.env.upstream = upstream;
    return new Response("ok", { headers: { "content-length": "2" } });
  });
  return app;
}

const plain = chain("none");
const metricsOnly = chain("off");
const withLog = chain("json");
const request = () =>
  new Request("http://example.com/api/items?page=2", { headers: { host: "example.com" } });

Deno.bench("middleware chain without observe", { group: "chain", baseline: true }, async () => {
  await plain.fetch(request(), info);
});
Deno.bench("middleware chain + metrics (access_log off)", { group: "chain" }, async () => {
  await metricsOnly.fetch(request(), info);
});
Deno.bench("middleware chain + metrics + JSON access log", { group: "chain" }, async () => {
  await withLog.fetch(request(), info);
});
