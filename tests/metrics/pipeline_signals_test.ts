/**
 * Every documented signal of the request pipeline moves with real traffic: the rate limiter's 429s in
 * `proxy_rate_limited_total{route}` and `/stats`, the response cache's results in
 * `proxy_cache_requests_total{result}`, `/stats` and the access log's `cache` field, and retries in
 * `proxy_retries_total{route}` and the log's `attempts`. Real proxy, real admin listener, real upstreams on
 * loopback; figures are read back by scraping `/metrics` and `/stats` as an operator would.
 */
import assert from "node:assert/strict";
import type { Stats } from "../../src/metrics/stats_types.ts";
import { startAdmin, type TestAdmin } from "../_support/admin.ts";
import { parsePrometheusText, type PromFamily } from "../_support/prom_parser.ts";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

function sink() {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

/** The one sample of `name` whose labels include `labels`. */
function sample(
  families: Map<string, PromFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.get(name);
  assert.ok(family, `no family ${name}`);
  const hits = family.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(hits.length, 1, `${name}${JSON.stringify(labels)}: ${hits.length} samples`);
  return hits[0]!.value;
}

async function scrape(admin: TestAdmin): Promise<Map<string, PromFamily>> {
  const response = await fetch(`${admin.url}/metrics`);
  assert.equal(response.status, 200);
  return parsePrometheusText(await response.text());
}

async function stats(admin: TestAdmin): Promise<Stats> {
  const response = await fetch(`${admin.url}/stats`);
  assert.equal(response.status, 200);
  return await response.json() as Stats;
}

async function status(url: string, init: RequestInit = {}): Promise<number> {
  const response = await fetch(url, init);
  await response.body?.cancel();
  return response.status;
}

Deno.test("every 429 of the rate limiter is counted per route in /metrics and /stats", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`server: { port: 0 }
backends: ["${upstream.url}"]
routes:
  - { name: limited, match: { path_prefix: /limited }, upstream: default,
      rate_limit: { requests_per_second: 0.001, burst: 1 } }
  - { name: open, match: { path_prefix: / }, upstream: default }
`);
  await using admin = startAdmin(proxy);
  const limited = [];
  for (let i = 0; i < 6; i++) limited.push(await status(`${proxy.url}/limited`));
  assert.deepEqual(limited, [200, 429, 429, 429, 429, 429]);
  for (let i = 0; i < 3; i++) assert.equal(await status(`${proxy.url}/other`), 200);

  const m = await scrape(admin);
  assert.equal(sample(m, "proxy_rate_limited_total", { route: "limited" }), 5);
  assert.equal(m.get("proxy_rate_limited_total")!.samples.length, 1, "no 429 on the open route");
  const s = await stats(admin);
  assert.equal(s.totals.rateLimited, 5);
  assert.deepEqual(s.rateLimit, { limited: 5 });
  assert.equal(s.routes.find((r) => r.name === "limited")?.rateLimited, 5);
  assert.equal(s.routes.find((r) => r.name === "open")?.rateLimited, 0);
  assert.equal(upstream.received.length, 4, "refused requests never reach the upstream");
});

Deno.test("cache hit, miss, stale, revalidated and bypass are counted and written to the access log", async () => {
  let version = 0;
  await using upstream = startUpstream((request, received) => {
    if (received.path === "/revalidate") {
      if (request.headers.get("if-none-match") === '"v1"') {
        return new Response(null, { status: 304, headers: { etag: '"v1"', "cache-control": "no-cache" } });
      }
      return new Response("validated", { headers: { etag: '"v1"', "cache-control": "no-cache" } });
    }
    if (received.path === "/stale") {
      return new Response(`stale ${version++}`, {
        headers: { "cache-control": "max-age=0, stale-while-revalidate=600" },
      });
    }
    return new Response("fresh", { headers: { "cache-control": "max-age=600" } });
  });
  const log = sink();
  await using proxy = startProxy(
    `server: { port: 0 }
backends: ["${upstream.url}"]
cache: { max_size: 100 }
access_log: { format: json }`,
    { accessLog: log },
  );
  await using admin = startAdmin(proxy);

  const xCache = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${proxy.url}${path}`, init);
    await response.text();
    return `${response.status} ${response.headers.get("x-cache")}`;
  };
  assert.equal(await xCache("/fresh"), "200 MISS");
  assert.equal(await xCache("/fresh"), "200 HIT");
  assert.equal(await xCache("/fresh"), "200 HIT");
  assert.equal(await xCache("/stale"), "200 MISS");
  assert.equal(await xCache("/stale"), "200 STALE"); // stale-while-revalidate: refreshed in the background
  await proxy.source.current.cache!.settled();
  assert.equal(await xCache("/revalidate"), "200 MISS");
  assert.equal(await xCache("/revalidate"), "200 HIT"); // no-cache: the upstream's 304 validates the entry
  assert.equal(await xCache("/fresh", { method: "POST", body: "x" }), "200 MISS");
  assert.equal(await xCache("/fresh", { method: "DELETE" }), "200 MISS");

  const m = await scrape(admin);
  const counted = (result: string) => sample(m, "proxy_cache_requests_total", { result });
  assert.deepEqual(
    ["hit", "miss", "stale", "revalidated", "bypass"].map((r) => [r, counted(r)]),
    [["hit", 2], ["miss", 3], ["stale", 1], ["revalidated", 1], ["bypass", 2]],
  );
  const s = await stats(admin);
  assert.deepEqual(s.cache, { hits: 2, misses: 3, stale: 1, bypass: 2, revalidated: 1 });

  const fields = log.lines.map((line) =>
    JSON.parse(line) as { path: string; method: string; cache: unknown }
  );
  assert.deepEqual(fields.map((f) => `${f.method} ${f.path} ${f.cache}`), [
    "GET /fresh miss",
    "GET /fresh hit",
    "GET /fresh hit",
    "GET /stale miss",
    "GET /stale stale",
    "GET /revalidate miss",
    "GET /revalidate revalidated",
    "POST /fresh bypass",
    "DELETE /fresh bypass",
  ]);
});

Deno.test("the access log's cache field is null on a route the cache takes no part in (no cache section)", async () => {
  await using upstream = startUpstream();
  const log = sink();
  await using proxy = startProxy(
    `server: { port: 0 }\nbackends: ["${upstream.url}"]\naccess_log: { format: json }`,
    {
      accessLog: log,
    },
  );
  assert.equal(await status(proxy.url), 200);
  assert.equal(JSON.parse(log.lines[0]!).cache, null);
});

Deno.test("a retry on another upstream is counted in proxy_retries_total, /stats and the log's attempts", async () => {
  await using good = startUpstream();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refused = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  listener.close();
  const log = sink();
  await using proxy = startProxy(
    `server: { port: 0 }
backends: ["${refused}", "${good.url}"]
circuit_breaker: off
retries: { backoff: 1ms }
access_log: { format: json }`,
    { accessLog: log },
  );
  await using admin = startAdmin(proxy);
  // Round robin alternates first picks: two of four start on the refused upstream and are retried.
  for (let i = 0; i < 4; i++) assert.equal(await status(proxy.url), 200);
  const retried = log.lines.filter((line) => JSON.parse(line).attempts === 2).length;
  assert.ok(retried >= 1, "at least one request started on the refused upstream");

  const m = await scrape(admin);
  assert.equal(sample(m, "proxy_retries_total", { route: "default" }), retried);
  assert.equal((await stats(admin)).totals.retries, retried);
});
