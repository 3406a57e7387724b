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
