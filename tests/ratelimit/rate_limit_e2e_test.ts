/**
 * Rate limiting through the real proxy on loopback. Rates are tiny (0.001 tokens/s: one token per
 * ~17 minutes), so no refill happens during a test and every count is exact without timing.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load_config.ts";
import { Runtime } from "../../src/runtime.ts";
import { poolConfig, startProxy, type TestProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

async function get(proxy: TestProxy, path = "/", headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(`${proxy.url}${path}`, { headers });
  await response.body?.cancel();
  return response;
}

async function statuses(
  proxy: TestProxy,
  count: number,
  path = "/",
  headers: Record<string, string> = {},
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await get(proxy, path, headers)).status);
  return out;
}

function config(upstream: string, rateLimit: string, server = ""): string {
  return `${poolConfig([upstream], server)}\nrate_limit: ${rateLimit}\n`;
}

Deno.test("a burst gets exactly `burst` 200s, then 429s that never reach the upstream", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(config(upstream.url, "{ requests_per_second: 0.001, burst: 5 }"));

  assert.deepEqual(await statuses(proxy, 8), [200, 200, 200, 200, 200, 429, 429, 429]);
  assert.equal(upstream.received.length, 5);
  const stats = proxy.source.current.rateLimiter?.stats();
  assert.deepEqual(stats?.map((s) => [s.policy, s.store, s.allowed, s.limited, s.keys]), [
    ["default", "memory", 5, 3, 1],
  ]);
});

/** Parses `"name";r=R;t=T`; the seconds may lose one per elapsed second, so tests allow a margin. */
function parseRateLimit(value: string | null): { name: string; r: number; t: number } {
  const match = /^"([^"]*)";r=(\d+);t=(\d+)$/.exec(value ?? "");
  assert.ok(match, `RateLimit field ${value}`);
  return { name: match[1]!, r: Number(match[2]), t: Number(match[3]) };
}

function assertAbout(actual: number, expected: number, label: string): void {
  // Refill at 0.001/s moves a ceil()-ed seconds figure by one per elapsed second; allow ten.
  assert.ok(actual <= expected && actual >= expected - 10, `${label}: ${actual}, expected about ${expected}`);
}

Deno.test("allowed responses carry RateLimit-Policy and a RateLimit that counts down", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(
    config(upstream.url, '{ requests_per_second: 0.001, burst: 3, policy: "per-ip" }'),
  );

  for (let i = 0; i < 3; i++) {
    const response = await get(proxy);
    assert.equal(response.status, 200);
    // q = burst; w = seconds to refill an empty bucket = 3 / 0.001 (draft-ietf-httpapi-ratelimit-headers §3).
    assert.equal(response.headers.get("ratelimit-policy"), '"per-ip";q=3;w=3000');
    // r = whole tokens left; t = seconds until the bucket is full again (1000 s per token).
    const { name, r, t } = parseRateLimit(response.headers.get("ratelimit"));
    assert.equal(name, "per-ip");
    assert.equal(r, 2 - i);
    assertAbout(t, 1000 * (i + 1), `t after take ${i + 1}`);
  }
});

Deno.test("a 429 carries Retry-After in seconds, the RateLimit fields and a one-line body with the request id", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(config(upstream.url, "{ requests_per_second: 0.001, burst: 1 }"));

  assert.equal((await get(proxy)).status, 200);
  const response = await fetch(proxy.url);
  const body = await response.text();

  assert.equal(response.status, 429);
  assertAbout(Number(response.headers.get("retry-after")), 1000, "Retry-After");
  assert.equal(response.headers.get("ratelimit-policy"), '"default";q=1;w=1000');
  const { r, t } = parseRateLimit(response.headers.get("ratelimit"));
  assert.equal(r, 0);
  assertAbout(t, 1000, "t");
  const requestId = response.headers.get("x-request-id");
  assert.ok(requestId);
  assert.equal(body, `429 too many requests (request id ${requestId})\n`);
  assert.equal(response.headers.get("cache-control"), "no-store");
});

Deno.test("rate_limit.headers: limited keeps the fields off allowed responses, none keeps only Retry-After", async () => {
  await using upstream = startUpstream();
  for (const [mode, onAllowed, onLimited] of [["limited", false, true], ["none", false, false]] as const) {
    await using proxy = startProxy(
      config(upstream.url, `{ requests_per_second: 0.001, burst: 1, headers: ${mode} }`),
    );
    const allowed = await get(proxy);
    const limited = await get(proxy);
    assert.equal(allowed.status, 200);
    assert.equal(limited.status, 429);
    assert.equal(allowed.headers.has("ratelimit"), onAllowed, `${mode}: RateLimit on 200`);
    assert.equal(allowed.headers.has("ratelimit-policy"), onAllowed, `${mode}: RateLimit-Policy on 200`);
    assert.equal(limited.headers.has("ratelimit"), onLimited, `${mode}: RateLimit on 429`);
    assert.equal(limited.headers.has("ratelimit-policy"), onLimited, `${mode}: RateLimit-Policy on 429`);
    assert.ok(limited.headers.has("retry-after"));
  }
});

Deno.test("without a rate_limit section nothing is limited and no RateLimit fields are sent", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));

  assert.equal(proxy.source.current.rateLimiter, undefined);
  const response = await get(proxy);
  assert.equal(response.status, 200);
  assert.equal(response.headers.has("ratelimit"), false);
  assert.equal(response.headers.has("ratelimit-policy"), false);
});

Deno.test("X-Forwarded-For from an untrusted peer is ignored: spoofed addresses share the peer's bucket", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(config(upstream.url, "{ requests_per_second: 0.001, burst: 1 }"));

  assert.equal((await get(proxy, "/", { "x-forwarded-for": "198.51.100.1" })).status, 200);
  assert.equal((await get(proxy, "/", { "x-forwarded-for": "198.51.100.2" })).status, 429);
});

Deno.test("behind a trusted proxy each X-Forwarded-For client has its own bucket, IPv6 grouped by /64", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(
    config(upstream.url, "{ requests_per_second: 0.001, burst: 1 }", 'trusted_proxies: ["127.0.0.1/32"]'),
  );
  const from = (chain: string) => get(proxy, "/", { "x-forwarded-for": chain });

  assert.equal((await from("198.51.100.1")).status, 200);
  assert.equal((await from("198.51.100.2")).status, 200, "another client");
  assert.equal((await from("198.51.100.1")).status, 429, "the first client again");
  // Rightmost untrusted entry wins: what the client wrote on the left cannot pick a fresh bucket.
  assert.equal((await from("203.0.113.50, 198.51.100.1")).status, 429);
  assert.equal((await from("2001:db8:1:2::a")).status, 200);
  assert.equal((await from("2001:db8:1:2:ffff::b")).status, 429, "same /64");
  assert.equal((await from("2001:db8:1:3::a")).status, 200, "next /64");
});

Deno.test("rate_limit.forwarded_header: forwarded reads the client from a trusted peer's Forwarded field", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(config(
    upstream.url,
    "{ requests_per_second: 0.001, burst: 1, forwarded_header: forwarded }",
    'trusted_proxies: ["127.0.0.1/32"]',
  ));
  const from = (value: string) => get(proxy, "/", { forwarded: value });

  assert.equal((await from("for=198.51.100.1")).status, 200);
  assert.equal((await from('for="[2001:db8::1]:443"')).status, 200);
  assert.equal((await from("for=198.51.100.1;proto=https")).status, 429);
  assert.equal(
    (await get(proxy, "/", { "x-forwarded-for": "198.51.100.9" })).status,
    200,
    "without Forwarded the key is the peer, whose bucket is still full",
  );
});

Deno.test("key: header:X-Api-Key gives each key its own bucket and falls back to the address without one", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(
    config(upstream.url, '{ requests_per_second: 0.001, burst: 2, key: "header:X-Api-Key" }'),
  );

  assert.deepEqual(await statuses(proxy, 3, "/", { "x-api-key": "alpha" }), [200, 200, 429]);
  assert.deepEqual(await statuses(proxy, 3, "/", { "x-api-key": "beta" }), [200, 200, 429]);
  assert.deepEqual(await statuses(proxy, 3), [200, 200, 429]);
});

Deno.test("key: global puts every client in one bucket", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(config(
    upstream.url,
    "{ requests_per_second: 0.001, burst: 2, key: global }",
    'trusted_proxies: ["127.0.0.1/32"]',
  ));

  assert.equal((await get(proxy, "/", { "x-forwarded-for": "198.51.100.1" })).status, 200);
  assert.equal((await get(proxy, "/", { "x-forwarded-for": "198.51.100.2" })).status, 200);
  assert.equal((await get(proxy, "/", { "x-forwarded-for": "198.51.100.3" })).status, 429);
});

Deno.test("routes[].rate_limit sets a route's own limits or turns limiting off for it", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`
server: { port: 0 }
backends: ["${upstream.url}"]
rate_limit: { requests_per_second: 0.001, burst: 3 }
routes:
  - name: login
    match: { path_prefix: /login }
    upstream: default
    rate_limit: { requests_per_second: 0.001, burst: 1 }
  - name: static
    match: { path_prefix: /static }
    upstream: default
    rate_limit: off
`);

  const login = await get(proxy, "/login");
  assert.equal(login.headers.get("ratelimit-policy"), '"login";q=1;w=1000');
  assert.equal((await get(proxy, "/login")).status, 429);
  const free = await statuses(proxy, 5, "/static/app.js");
  assert.deepEqual(free, [200, 200, 200, 200, 200]);
  assert.equal((await get(proxy, "/static/app.js")).headers.has("ratelimit"), false);
  // Everything else follows the top-level section, in its own buckets.
  assert.deepEqual(await statuses(proxy, 4, "/other"), [200, 200, 200, 429]);
});

Deno.test("a route may be limited when there is no top-level rate_limit section", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`
server: { port: 0 }
backends: ["${upstream.url}"]
routes:
  - match: { path: /expensive }
    upstream: default
    rate_limit: { requests_per_second: 0.001, burst: 1, policy: expensive }
`);

  assert.deepEqual(await statuses(proxy, 2, "/expensive"), [200, 429]);
  assert.deepEqual(await statuses(proxy, 3, "/cheap"), [200, 200, 200]);
});

Deno.test("buckets survive a reload when the rate_limit section is unchanged, and start fresh when it changes", async () => {
  await using upstream = startUpstream();
  const yaml = config(upstream.url, "{ requests_per_second: 0.001, burst: 1 }");
  await using proxy = startProxy(yaml);
  const reload = async (text: string) => {
    const old = proxy.source.current;
    proxy.source.current = new Runtime(parseConfig(text, "test.yaml"), { previous: old }).start();
    await old[Symbol.asyncDispose]();
  };

  assert.equal((await get(proxy)).status, 200);
  await reload(yaml);
  assert.equal((await get(proxy)).status, 429, "the emptied bucket was carried over");
  assert.deepEqual(proxy.source.current.rateLimiter?.stats().map((s) => [s.allowed, s.limited]), [[1, 1]]);
  await reload(config(upstream.url, "{ requests_per_second: 0.001, burst: 2 }"));
  assert.deepEqual(await statuses(proxy, 3), [200, 200, 429]);
});
