import assert from "node:assert/strict";
import type { Readiness } from "../../src/admin/readiness.ts";
import type { Explanation } from "../../src/admin/explain.ts";
import type { Stats } from "../../src/metrics/stats_types.ts";
import { startAdmin } from "../_support/admin.ts";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json() as T };
}

Deno.test("/stats reports per-route and per-upstream counts, errors and latency from real traffic", async () => {
  await using a = startUpstream();
  await using b = startUpstream((_request, received) =>
    new Response("x", { status: received.path.endsWith("/fail") ? 500 : 200 })
  );
  await using proxy = startProxy(`
backends: ["${a.url}"]
upstreams:
  pair: { backends: ["${a.url}", "${b.url}"] }
routes:
  - { name: pair, match: { path_prefix: /pair }, upstream: pair }
`);
  await using admin = startAdmin(proxy);
  for (let i = 0; i < 6; i++) await (await fetch(`${proxy.url}/pair/ok`)).text();
  for (let i = 0; i < 3; i++) await (await fetch(`${proxy.url}/other`)).text();

  const { status, body: stats } = await getJson<Stats>(`${admin.url}/stats`);
  assert.equal(status, 200);
  assert.equal(stats.totals.requests, 9);
  assert.equal(stats.totals.errors5xx, 0);
  assert.equal(stats.totals.inFlight, 0);
  assert.deepEqual(stats.routes.map((r) => [r.name, r.requests]), [["default", 3], ["pair", 6]]);
  const pair = stats.routes.find((r) => r.name === "pair")!;
  assert.ok(pair.p50Ms !== null && pair.p50Ms > 0 && pair.p99Ms !== null && pair.p99Ms >= pair.p50Ms);
  // Round robin over two: three each; `a` also serves the default pool's three. One entry per upstream.
  const byId = new Map(stats.upstreams.map((u) => [u.id, u]));
  assert.equal(stats.upstreams.length, 2);
  assert.equal(byId.get(a.url)?.requests, 3 + 3);
  assert.equal(byId.get(b.url)?.requests, 3);
  assert.equal(byId.get(b.url)?.up, true);
  assert.equal(byId.get(b.url)?.breaker, "closed");
  assert.equal(stats.cache, null);
  assert.equal(stats.rateLimit, null);

  // Two more to the pair: one lands on `b` and fails.
  for (let i = 0; i < 2; i++) await (await fetch(`${proxy.url}/pair/fail`)).text();
  const after = (await getJson<Stats>(`${admin.url}/stats`)).body;
  assert.equal(after.totals.requests, 11);
  assert.equal(after.totals.errors5xx, 1);
  assert.equal(after.routes.find((r) => r.name === "pair")?.errors5xx, 1);
  assert.equal(after.upstreams.find((u) => u.id === b.url)?.errors, 1);
});

Deno.test("/healthz is 200; /readyz is 200 while every pool can serve and 503 when one cannot", async () => {
  await using a = startUpstream();
  await using b = startUpstream();
  await using proxy = startProxy(`
backends: ["${a.url}"]
upstreams:
  solo: { backends: ["${b.url}"] }
`);
  await using admin = startAdmin(proxy);
  const health = await fetch(`${admin.url}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), "ok\n");

  const ready = await getJson<Readiness>(`${admin.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal(ready.body.ready, true);

  proxy.source.current.pools.get("solo")!.upstreams[0]!.setHealthy(false);
  const notReady = await getJson<Readiness>(`${admin.url}/readyz`);
  assert.equal(notReady.status, 503);
  assert.deepEqual(notReady.body.pools, [
    { name: "default", available: 1, total: 1 },
    { name: "solo", available: 0, total: 1 },
  ]);

  proxy.source.current.pools.get("solo")!.upstreams[0]!.setHealthy(true);
  assert.equal((await getJson<Readiness>(`${admin.url}/readyz`)).status, 200);
});

Deno.test("/explain names the matched route, the candidates tried, the pool and each upstream's state", async () => {
  await using a = startUpstream();
  await using b = startUpstream();
  await using proxy = startProxy(`
upstreams:
  api: { backends: ["${a.url}", "${b.url}"] }
  writes: { backends: ["${b.url}"] }
routes:
  - { name: api-write, match: { host: api.example.com, path_prefix: /v1, methods: [POST] }, upstream: writes }
  - { name: api, match: { path_prefix: /v1 }, upstream: api }
rate_limit: { requests_per_second: 10, burst: 20 }
`);
  await using admin = startAdmin(proxy, {
    rateLimitTokens: (_runtime, route, key) => route.name === "api" && key === "10.0.0.1" ? 17 : null,
  });
  proxy.source.current.pools.get("api")!.upstreams[1]!.setHealthy(false);
  await (await fetch(`${proxy.url}/v1/x`)).text();

  const { status, body } = await getJson<Explanation>(
    `${admin.url}/explain?method=get&host=API.example.com:8080&path=/v1/users?id=3&key=10.0.0.1`,
  );
  assert.equal(status, 200);
  assert.equal(body.route, "api");
  assert.equal(body.fallback, false);
  assert.deepEqual(body.candidates, [
    { host: "api.example.com", path: "/v1*", outcome: "method_mismatch" },
    { host: "*", path: "/v1*", outcome: "matched" },
  ]);
  assert.equal(body.pool?.name, "api");
  assert.equal(body.pool?.algorithm, "round_robin");
  assert.equal(body.pool?.available, 1);
  assert.deepEqual(body.pool?.upstreams.map((u) => [u.id, u.healthy, u.available, u.breaker, u.inFlight]), [
    [a.url, true, true, "closed", 0],
    [b.url, false, false, "closed", 0],
  ]);
  // The balancer inputs are reported (the forwarder does not feed the latency average yet, so it may be 0).
  assert.equal(typeof body.pool!.upstreams[0]!.latencyEwmaMs, "number");
  assert.deepEqual(body.pool?.upstreams.map((u) => [u.weight, u.backup]), [[1, false], [1, false]]);
  assert.deepEqual(body.pool?.selection, {
    upstream: null,
    rule: "balancer",
    hashKey: null,
    availablePercent: 50,
    panic: false,
  });
  assert.deepEqual(body.rateLimit, { requestsPerSecond: 10, burst: 20, key: "10.0.0.1", tokensLeft: 17 });

  const post = await getJson<Explanation>(`${admin.url}/explain?method=POST&host=api.example.com&path=/v1/x`);
  assert.equal(post.body.route, "api-write");
  assert.equal(post.body.pool?.name, "writes");

  const none = await getJson<Explanation>(`${admin.url}/explain?host=other.example&path=/elsewhere`);
  assert.equal(none.body.route, null);
  assert.equal(none.body.pool, null);
  assert.deepEqual(none.body.candidates, [{ host: "*", path: "(fallback)", outcome: "no_route" }]);

  assert.equal((await getJson(`${admin.url}/explain?path=relative`)).status, 400);
});

Deno.test("With admin.token set, admin requests without the bearer token get 401 and with it 200", async () => {
  const token = "tok-0123456789abcdef";
  await using a = startUpstream();
  await using proxy = startProxy(`backends: ["${a.url}"]\nadmin: { token: "${token}" }`);
  await using admin = startAdmin(proxy);
  for (const path of ["/metrics", "/stats", "/healthz", "/readyz", "/explain?path=/", "/"]) {
    const missing = await fetch(`${admin.url}${path}`);
    await missing.body?.cancel();
    assert.equal(missing.status, 401, path);
    const wrong = await fetch(`${admin.url}${path}`, { headers: { authorization: `Bearer ${token}x` } });
    await wrong.body?.cancel();
    assert.equal(wrong.status, 401, path);
    const right = await fetch(`${admin.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    await right.body?.cancel();
    assert.equal(right.status, 200, path);
  }
  const api = await fetch(`${admin.url}/stats`);
  await api.body?.cancel();
  assert.equal(api.headers.get("www-authenticate"), 'Bearer realm="proxy admin"');
  // The dashboard page asks browsers for Basic credentials; the token is the password.
  const page = await fetch(`${admin.url}/`);
  await page.body?.cancel();
  assert.match(page.headers.get("www-authenticate") ?? "", /^Basic realm="proxy admin"/);
  const basic = await fetch(`${admin.url}/stats`, {
    headers: { authorization: `Basic ${btoa(`any:${token}`)}` },
  });
  await basic.body?.cancel();
  assert.equal(basic.status, 200);
});

Deno.test("The admin app serves the dashboard page without reading files and 404s unknown paths", async () => {
  await using a = startUpstream();
  await using proxy = startProxy(`backends: ["${a.url}"]`);
  await using admin = startAdmin(proxy);
  const page = await fetch(`${admin.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(await page.text(), /<title>proxy · dashboard<\/title>/);
  const missing = await fetch(`${admin.url}/nope`);
  await missing.body?.cancel();
  assert.equal(missing.status, 404);
});
