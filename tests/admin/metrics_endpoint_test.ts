import assert from "node:assert/strict";
import { parsePrometheusText, type PromFamily } from "../_support/prom_parser.ts";
import { startAdmin } from "../_support/admin.ts";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

/** The value of the one sample of `family` whose labels include `labels`. */
function value(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name.replace(/_(bucket|sum|count)$/, "")) ?? families.get(name);
  assert.ok(family, `no family for ${name}`);
  const hits = family.samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  assert.equal(hits.length, 1, `${name}${JSON.stringify(labels)}: ${hits.length} samples`);
  return hits[0]!.value;
}

async function scrape(adminUrl: string): Promise<Map<string, PromFamily>> {
  const response = await fetch(`${adminUrl}/metrics`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheusText(await response.text());
}

Deno.test("/metrics counts real traffic by route, upstream, method and code, and parses strictly", async () => {
  await using api = startUpstream();
  await using web = startUpstream((_request, received) =>
    new Response("gone", { status: received.path.endsWith("/old") ? 410 : 200 })
  );
  // A port nobody listens on: requests to that pool fail with 502.
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadUrl = `http://127.0.0.1:${(dead.addr as Deno.NetAddr).port}`;
  dead.close();
  await using proxy = startProxy(`
upstreams:
  api: { backends: ["${api.url}"] }
  web: { backends: ["${web.url}"] }
  broken: { backends: ["${deadUrl}"] }
routes:
  - { name: api, match: { path_prefix: /api }, upstream: api }
  - { name: web, match: { path_prefix: /web }, upstream: web }
  - { name: broken, match: { path_prefix: /broken }, upstream: broken }
`);
  await using admin = startAdmin(proxy);

  for (let i = 0; i < 5; i++) await (await fetch(`${proxy.url}/api/items?page=${i}`)).text();
  for (let i = 0; i < 2; i++) {
    await (await fetch(`${proxy.url}/api/items`, { method: "POST", body: "x" })).text();
  }
  for (let i = 0; i < 3; i++) await (await fetch(`${proxy.url}/web/old`)).text();
  await (await fetch(`${proxy.url}/broken`)).text();
  await (await fetch(`${proxy.url}/nowhere`)).text(); // no route, no default pool → 404

  const m = await scrape(admin.url);
  const requests = (labels: Record<string, string>) => value(m, "proxy_requests_total", labels);
  assert.equal(requests({ route: "api", upstream: api.url, method: "GET", code: "200" }), 5);
  assert.equal(requests({ route: "api", upstream: api.url, method: "POST", code: "200" }), 2);
  assert.equal(requests({ route: "web", upstream: web.url, method: "GET", code: "410" }), 3);
  assert.equal(requests({ route: "broken", upstream: deadUrl, method: "GET", code: "502" }), 1);
  assert.equal(requests({ route: "none", upstream: "none", method: "GET", code: "404" }), 1);
  // Raw paths and queries never become labels.
  const labelValues = [...m.values()].flatMap((f) => f.samples.flatMap((s) => Object.values(s.labels)));
  assert.ok(!labelValues.some((v) => v.includes("/api") || v.includes("page")), "no paths in labels");

  assert.equal(m.get("proxy_request_duration_seconds")?.type, "histogram");
  assert.equal(value(m, "proxy_request_duration_seconds_count", { route: "api" }), 7);
  assert.equal(value(m, "proxy_request_duration_seconds_bucket", { route: "api", le: "+Inf" }), 7);
  assert.ok(value(m, "proxy_request_duration_seconds_sum", { route: "api" }) > 0);
  assert.equal(value(m, "proxy_requests_in_flight"), 0);
  assert.equal(value(m, "proxy_upstream_up", { upstream: api.url }), 1);
  assert.equal(value(m, "proxy_upstream_requests_in_flight", { upstream: api.url }), 0);
  assert.equal(value(m, "proxy_circuit_state", { upstream: api.url, state: "closed" }), 1);
  assert.equal(value(m, "proxy_circuit_state", { upstream: api.url, state: "open" }), 0);
  for (const family of ["proxy_retries_total", "proxy_rate_limited_total", "proxy_cache_requests_total"]) {
    assert.equal(m.get(family)?.type, "counter");
  }
  assert.equal(value(m, "proxy_cache_requests_total", { result: "hit" }), 0);
  assert.equal(m.get("proxy_config_reloads_total")?.type, "counter");
  assert.equal(m.get("proxy_config_last_reload_success_timestamp_seconds")?.type, "gauge");
});

Deno.test("/metrics shows an upstream marked unhealthy as down", async () => {
  await using a = startUpstream();
  await using b = startUpstream();
  await using proxy = startProxy(`backends: ["${a.url}", "${b.url}"]`);
  await using admin = startAdmin(proxy);
  proxy.source.current.pools.get("default")!.upstreams[1]!.setHealthy(false);
  for (let i = 0; i < 4; i++) await (await fetch(proxy.url)).text();

  const m = await scrape(admin.url);
  assert.equal(value(m, "proxy_upstream_up", { upstream: a.url }), 1);
  assert.equal(value(m, "proxy_upstream_up", { upstream: b.url }), 0);
  // The unhealthy one was skipped by the balancer: all four went to the other.
  assert.equal(value(m, "proxy_requests_total", { upstream: a.url, code: "200" }), 4);
  assert.equal(b.received.length, 0);
});

Deno.test("proxy_requests_in_flight counts a request while its upstream is still answering", async () => {
  const { promise: release, resolve } = Promise.withResolvers<void>();
  const { promise: arrived, resolve: arrive } = Promise.withResolvers<void>();
  await using slow = startUpstream(async () => {
    arrive();
    await release;
    return new Response("late");
  });
  await using proxy = startProxy(`backends: ["${slow.url}"]`);
  await using admin = startAdmin(proxy);
  const pending = fetch(proxy.url);
  await arrived;
  const during = await scrape(admin.url);
  assert.equal(value(during, "proxy_requests_in_flight"), 1);
  assert.equal(value(during, "proxy_upstream_requests_in_flight", { upstream: slow.url }), 1);
  resolve();
  await (await pending).text();
  const after = await scrape(admin.url);
  assert.equal(value(after, "proxy_requests_in_flight"), 0);
  assert.equal(value(after, "proxy_requests_total", { upstream: slow.url, code: "200" }), 1);
});
