/**
 * Metrics hot path and scrape cost. Run: deno bench bench/metrics_bench.ts
 */
import { Counter } from "../src/metrics/counter.ts";
import { LatencyWindow } from "../src/metrics/latency_window.ts";
import { ProxyMetrics } from "../src/metrics/proxy_metrics.ts";
import { Registry } from "../src/metrics/registry.ts";

const ROUTES = Array.from({ length: 50 }, (_, i) => `route_${i}`);
const UPSTREAMS = Array.from({ length: 20 }, (_, i) => `http://127.0.0.1:${3000 + i}`);

const hot = new ProxyMetrics(new Registry(), { upstreams: () => [] });
let i = 0;
Deno.bench("ProxyMetrics.recordRequest() on a warm series", { group: "record" }, () => {
  hot.recordRequest("route_1", "http://127.0.0.1:3001", "GET", 200, 0.0042);
});
Deno.bench("ProxyMetrics.recordRequest() over 50 routes × 20 upstreams", { group: "record" }, () => {
  i++;
  hot.recordRequest(
    ROUTES[i % 50] as string,
    UPSTREAMS[i % 20] as string,
    "GET",
    i % 7 === 0 ? 503 : 200,
    0.01,
  );
});

const counter = new Counter("c_total", { help: "c", labelNames: ["route", "upstream", "method", "code"] });
const child = counter.labels("r1", "u1", "GET", "200");
Deno.bench("Counter.labels(4 values).inc()", { group: "counter" }, () => {
  counter.labels("r1", "u1", "GET", "200").inc();
});
Deno.bench("CounterChild.inc() on a kept child", { group: "counter" }, () => {
  child.inc();
});

const window = new LatencyWindow();
Deno.bench("LatencyWindow.observe()", () => {
  window.observe(4.2);
});

const registry = new Registry();
const full = new ProxyMetrics(registry, {
  upstreams: () => UPSTREAMS.map((id) => ({ id, healthy: true, inFlight: 1, breaker: "closed" as const })),
});
for (const route of ROUTES) {
  for (const upstream of UPSTREAMS) {
    for (const status of [200, 404, 502]) full.recordRequest(route, upstream, "GET", status, 0.02);
  }
}
Deno.bench(
  "Registry.expose() with 50 routes × 20 upstreams (3000 request series)",
  { group: "scrape" },
  () => {
    registry.expose();
  },
);
Deno.bench("ProxyMetrics.stats() with 50 routes × 20 upstreams", { group: "scrape" }, () => {
  full.stats();
});
