import assert from "node:assert/strict";
import {
  formatRateLimit,
  formatRateLimitPolicy,
  rateLimitFormatter,
  retryAfterSeconds,
} from "../../src/ratelimit/rate_limit_headers.ts";
import { TokenBucket } from "../../src/ratelimit/token_bucket.ts";

Deno.test("formatRateLimitPolicy() states burst as quota and the refill time as window", () => {
  assert.equal(formatRateLimitPolicy("default", { ratePerSecond: 10, burst: 100 }), '"default";q=100;w=10');
  assert.equal(formatRateLimitPolicy("api", { ratePerSecond: 3, burst: 10 }), '"api";q=10;w=4');
  assert.equal(formatRateLimitPolicy('a"b', { ratePerSecond: 100, burst: 1 }), '"a\\"b";q=1;w=1');
  assert.throws(() => formatRateLimitPolicy("ü", { ratePerSecond: 1, burst: 1 }), TypeError);
});

Deno.test("formatRateLimit() and retryAfterSeconds() report remaining, reset and retry in seconds", () => {
  const bucket = new TokenBucket({ ratePerSecond: 2, burst: 4 });
  const allowed = bucket.take(0);
  assert.equal(formatRateLimit("default", allowed), '"default";r=3;t=1');
  for (let i = 0; i < 3; i++) bucket.take(0);
  const refused = bucket.take(0);
  assert.equal(refused.allowed, false);
  assert.equal(formatRateLimit("default", refused), '"default";r=0;t=2');
  assert.equal(retryAfterSeconds(refused), 1);
  assert.equal(retryAfterSeconds({ ...refused, retryAfterMs: 1001 }), 2);
  assert.equal(retryAfterSeconds({ ...refused, retryAfterMs: 0 }), 1);
});

Deno.test("rateLimitFormatter() formats like formatRateLimit() with the name serialised once", () => {
  const decision = { allowed: true, remaining: 7, limit: 10, retryAfterMs: 0, resetMs: 2_500 };
  for (const name of ["default", 'with "quotes" and \\']) {
    assert.equal(rateLimitFormatter(name)(decision), formatRateLimit(name, decision));
  }
  assert.throws(() => rateLimitFormatter("caf\u00e9"), TypeError);
});
