import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load_config.ts";
import type { Config } from "../../src/config/types.ts";
import { TrustedProxies } from "../../src/net/client_address.ts";
import { RateLimiter } from "../../src/ratelimit/rate_limiter.ts";
import { RedisRateLimitStore } from "../../src/ratelimit/store_redis.ts";
import { RedisServer } from "../_support/redis_server.ts";

const trustedProxies = new TrustedProxies([]);

function limiterFor(config: Config, previous?: RateLimiter): RateLimiter | undefined {
  return RateLimiter.build({
    config: config.rateLimit,
    routes: config.routes,
    trustedProxies,
    previous,
    log: () => {},
  });
}

Deno.test("RateLimiter.build() returns undefined when no route is limited", () => {
  const config = parseConfig(
    'backends: ["http://127.0.0.1:1"]\nroutes: [{ match: { path: /a }, upstream: default, rate_limit: off }]\n',
    "c.yaml",
  );
  assert.equal(limiterFor(config), undefined);
});

Deno.test("routes naming the same policy with the same limits share one store", () => {
  const config = parseConfig(
    `backends: ["http://127.0.0.1:1"]
routes:
  - { match: { path: /a }, upstream: default, rate_limit: { requests_per_second: 1, policy: shared } }
  - { match: { path: /b }, upstream: default, rate_limit: { requests_per_second: 1, policy: shared } }
  - { match: { path: /c }, upstream: default, rate_limit: { requests_per_second: 2, policy: other } }
`,
    "c.yaml",
  );
  const limiter = limiterFor(config)!;
  const [a, b, c] = config.routes.map((route) => limiter.ruleFor(route)!);
  assert.equal(a!.policy, b!.policy);
  assert.notEqual(a!.policy, c!.policy);
  assert.equal(limiter.ruleFor(undefined), undefined, "no top-level section: the catch-all is unlimited");
  assert.deepEqual(limiter.stats().map((s) => s.policy), ["shared", "other"]);
});

Deno.test("a reload hands an unchanged Redis policy to the new limiter, which keeps using it after the old one closes", async () => {
  await using server = await RedisServer.start();
  const config = parseConfig(
    `backends: ["http://127.0.0.1:1"]\nrate_limit: { requests_per_second: 0.001, burst: 2, store: { redis: "${server.url}" } }\n`,
    "c.yaml",
  );
  const old = limiterFor(config)!;
  await old.ready();
  const store = old.ruleFor(undefined)!.policy.store;
  assert.ok(store instanceof RedisRateLimitStore);
  assert.equal((await store.take("k")).allowed, true);

  const next = limiterFor(config, old)!;
  await old.close();
  const rule = next.ruleFor(undefined)!;
  assert.equal(rule.policy.store, store, "the same store object, connection included");
  const decisions = [await store.take("k"), await store.take("k")];
  assert.deepEqual(decisions.map((d) => d.allowed), [true, false], "the bucket state lives on in Redis");
  assert.equal(store.state, "up");
  assert.equal(store.errors, 0);
  await next.close();
});

Deno.test("Redis up and down are reported as rate_limit_store events with the real reason", async () => {
  await using server = await RedisServer.start();
  const config = parseConfig(
    `backends: ["http://127.0.0.1:1"]\nrate_limit: { requests_per_second: 10, burst: 2, store: { redis: "${server.url}", timeout: 200ms } }\n`,
    "c.yaml",
  );
  const events: { event: string; fields: Readonly<Record<string, unknown>> }[] = [];
  const limiter = RateLimiter.build({
    config: config.rateLimit,
    routes: config.routes,
    trustedProxies,
    log: (event, fields) => events.push({ event, fields }),
  })!;
  try {
    await limiter.ready();
    const store = limiter.ruleFor(undefined)!.policy.store as RedisRateLimitStore;
    assert.deepEqual(events, [{
      event: "rate_limit_store",
      fields: { store: "redis", url: server.url, policy: "default", state: "up" },
    }]);
    await server.stop();
    for (let i = 0; i < 50 && store.state === "up"; i++) await store.take("k");
    const last = events.at(-1)!;
    const down: Readonly<Record<string, unknown>> = last.fields;
    assert.equal(last.event, "rate_limit_store");
    assert.equal(down.state, "down");
    assert.equal(down.failing, "open");
    assert.equal(typeof down.reason, "string");
    assert.ok(String(down.reason).length > 0, "a reason is given");
  } finally {
    await limiter.close();
  }
});
