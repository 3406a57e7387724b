import assert from "node:assert/strict";
import {
  methodLabel,
  ProxyMetrics,
  statusLabel,
  type UpstreamSnapshot,
} from "../../src/metrics/proxy_metrics.ts";
import { Registry } from "../../src/metrics/registry.ts";
import { Upstream } from "../../src/upstream/upstream.ts";
import { parsePrometheusText, type PromSample } from "../_support/prom_parser.ts";

function sampleValue(
  samples: PromSample[] | undefined,
  name: string,
  labels: Record<string, string>,
): number {
  const hit = samples?.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels));
  assert.ok(hit !== undefined, `no sample ${name} ${JSON.stringify(labels)}`);
  return hit.value;
}

Deno.test("methodLabel() and statusLabel() bound the label values", () => {
  assert.equal(methodLabel("GET"), "GET");
  assert.equal(methodLabel("PATCH"), "PATCH");
  assert.equal(methodLabel("PROPFIND"), "OTHER");
  assert.equal(methodLabel("get"), "OTHER");
  assert.equal(statusLabel(204), "204");
  assert.equal(statusLabel(99), "other");
  assert.equal(statusLabel(600), "other");
});

Deno.test("ProxyMetrics.recordRequest() feeds the counter, the histogram and /stats", () => {
  const now = 1_000_000;
  const registry = new Registry();
  const metrics = new ProxyMetrics(registry, { now: () => now });
  metrics.recordRequest("api", "http://127.0.0.1:3001", "GET", 200, 0.004);
  metrics.recordRequest("api", "http://127.0.0.1:3001", "GET", 200, 0.002);
  metrics.recordRequest("api", "http://127.0.0.1:3001", "BREW", 502, 0.3);
  metrics.recordRequest("api", "", "GET", 503, 0.0001);
  const families = parsePrometheusText(registry.expose());
  const requests = families.get("proxy_requests_total")?.samples;
  const labels = { route: "api", upstream: "http://127.0.0.1:3001", method: "GET", code: "200" };
  assert.equal(sampleValue(requests, "proxy_requests_total", labels), 2);
  assert.equal(sampleValue(requests, "proxy_requests_total", { ...labels, method: "OTHER", code: "502" }), 1);
  assert.equal(
    sampleValue(requests, "proxy_requests_total", { ...labels, upstream: "none", code: "503" }),
    1,
  );
  const duration = families.get("proxy_request_duration_seconds")?.samples;
  assert.equal(sampleValue(duration, "proxy_request_duration_seconds_count", { route: "api" }), 4);
  assert.equal(
    sampleValue(duration, "proxy_request_duration_seconds_bucket", { route: "api", le: "0.0025" }),
    2,
  );

  const stats = metrics.stats();
  assert.deepEqual(stats.totals, { requests: 4, errors5xx: 2, inFlight: 0, retries: 0, rateLimited: 0 });
  assert.equal(stats.routes[0]?.name, "api");
  assert.equal(stats.routes[0]?.p50Ms, 2);
  assert.equal(stats.routes[0]?.p99Ms, 300);
  assert.equal(stats.cache, null);
  assert.equal(stats.rateLimit, null);
});

Deno.test("ProxyMetrics exposes upstream up, in-flight and breaker state from the callback at scrape time", () => {
  const a = new Upstream("http://127.0.0.1:3001");
  const b = new Upstream("http://127.0.0.1:3002");
  let breakerB: "closed" | "open" | "half_open" = "closed";
  const registry = new Registry();
  const metrics = new ProxyMetrics(registry, {
    now: () => 0,
    upstreams: (): UpstreamSnapshot[] => [
      { id: a.id, pool: "web", healthy: a.healthy, inFlight: a.inFlight },
      { id: b.id, pool: "web", healthy: b.healthy, inFlight: b.inFlight, breaker: breakerB },
    ],
  });
  a.acquire();
  a.acquire();
  b.setHealthy(false);
  breakerB = "open";
  metrics.recordRequest("r", b.id, "GET", 500, 0.01);
  const families = parsePrometheusText(registry.expose());
  assert.equal(
    sampleValue(families.get("proxy_upstream_up")?.samples, "proxy_upstream_up", { upstream: a.id }),
    1,
  );
  assert.equal(
    sampleValue(families.get("proxy_upstream_up")?.samples, "proxy_upstream_up", { upstream: b.id }),
    0,
  );
  assert.equal(
    sampleValue(
      families.get("proxy_upstream_requests_in_flight")?.samples,
      "proxy_upstream_requests_in_flight",
      { upstream: a.id },
    ),
    2,
  );
  const circuit = families.get("proxy_circuit_state")?.samples ?? [];
  assert.deepEqual(
    circuit.map((s) => [s.labels["upstream"], s.labels["state"], s.value]),
    [[b.id, "closed", 0], [b.id, "half_open", 0], [b.id, "open", 1]],
  );
  const stats = metrics.stats();
  assert.deepEqual(stats.upstreams, [
    {
      id: a.id,
      pool: "web",
      up: true,
      breaker: null,
      connections: null,
      inFlight: 2,
      requests: 0,
      errors: 0,
      p50Ms: null,
      p99Ms: null,
    },
    {
      id: b.id,
      pool: "web",
      up: false,
      breaker: "open",
      connections: null,
      inFlight: 0,
      requests: 1,
      errors: 1,
      p50Ms: 10,
      p99Ms: 10,
    },
  ]);
});

Deno.test("ProxyMetrics counts retries, rate limits, cache results, reloads, websockets and in-flight", () => {
  let now = 5_000;
  const registry = new Registry();
  const metrics = new ProxyMetrics(registry, { now: () => now });
  metrics.setFeatures({ cache: true, rateLimit: true });
  metrics.requestStarted();
  metrics.requestStarted();
  metrics.requestEnded();
  metrics.retry("api");
  metrics.rateLimited("api");
  metrics.rateLimited("api");
  metrics.cacheResult("hit");
  metrics.cacheResult("hit");
  metrics.cacheResult("stale");
  metrics.websocketOpened();
  metrics.configReloaded("failure");
  now = 12_000;
  metrics.configReloaded("success");
  const families = parsePrometheusText(registry.expose());
  const value = (family: string, labels: Record<string, string> = {}) =>
    sampleValue(families.get(family)?.samples, family, labels);
  assert.equal(value("proxy_requests_in_flight"), 1);
  assert.equal(value("proxy_retries_total", { route: "api" }), 1);
  assert.equal(value("proxy_rate_limited_total", { route: "api" }), 2);
  assert.equal(value("proxy_cache_requests_total", { result: "hit" }), 2);
  assert.equal(value("proxy_cache_requests_total", { result: "miss" }), 0);
  assert.equal(value("proxy_config_reloads_total", { result: "failure" }), 1);
  assert.equal(value("proxy_config_last_reload_success_timestamp_seconds"), 12);
  assert.equal(value("proxy_websockets_open"), 1);
  const stats = metrics.stats();
  assert.equal(stats.uptimeSeconds, 7);
  assert.deepEqual(stats.cache, { hits: 2, misses: 0, stale: 1, bypass: 0, revalidated: 0 });
  assert.deepEqual(stats.rateLimit, { limited: 2 });
  assert.deepEqual(stats.config, { reloadsSucceeded: 1, reloadsFailed: 1, lastReloadSuccessMs: 12_000 });
  assert.equal(stats.totals.inFlight, 1);
  assert.equal(stats.totals.retries, 1);
});

Deno.test("ProxyMetrics folds routes past maxRoutes into other in metrics and /stats", () => {
  const registry = new Registry();
  const metrics = new ProxyMetrics(registry, { now: () => 0, maxRoutes: 2 });
  for (const route of ["a", "b", "c", "d"]) metrics.recordRequest(route, "u", "GET", 200, 0.01);
  assert.deepEqual(metrics.stats().routes.map((r) => [r.name, r.requests]), [["a", 1], ["b", 1], [
    "other",
    2,
  ]]);
  const duration = parsePrometheusText(registry.expose()).get("proxy_request_duration_seconds")?.samples;
  assert.equal(sampleValue(duration, "proxy_request_duration_seconds_count", { route: "other" }), 2);
  assert.throws(() => new ProxyMetrics(new Registry(), { maxRoutes: 0 }), RangeError);
});

Deno.test("ProxyMetrics families all pass the strict exposition parser", () => {
  const registry = new Registry();
  const metrics = new ProxyMetrics(registry, {
    now: () => 0,
    upstreams: () => [{
      id: 'http://h"x\\',
      healthy: true,
      inFlight: 0,
      breaker: "half_open",
      connections: { idle: 1, active: 2, opened: 3, reused: 4, interim: 5 },
    }],
  });
  metrics.recordRequest('route "q"\n', 'http://h"x\\', "DELETE", 404, 12);
  const names = [...parsePrometheusText(registry.expose()).keys()];
  assert.deepEqual(names, [
    "proxy_cache_requests_total",
    "proxy_circuit_state",
    "proxy_config_last_reload_success_timestamp_seconds",
    "proxy_config_reloads_total",
    "proxy_rate_limited_total",
    "proxy_request_duration_seconds",
    "proxy_requests_in_flight",
    "proxy_requests_total",
    "proxy_retries_total",
    "proxy_upstream_connections",
    "proxy_upstream_connections_opened_total",
    "proxy_upstream_connections_reused_total",
    "proxy_upstream_interim_responses_total",
    "proxy_upstream_requests_in_flight",
    "proxy_upstream_up",
    "proxy_websockets_open",
  ]);
});
