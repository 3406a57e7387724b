import assert from "node:assert/strict";
import { TokenBucket } from "../../src/ratelimit/token_bucket.ts";

Deno.test("TokenBucket.take() allows a full burst then refuses", () => {
  const bucket = new TokenBucket({ ratePerSecond: 1, burst: 3 });
  const results = [1, 2, 3, 4].map(() => bucket.take(0));
  assert.deepEqual(results.map((d) => d.allowed), [true, true, true, false]);
  assert.deepEqual(results.map((d) => d.remaining), [2, 1, 0, 0]);
  const refused = results[3]!;
  assert.equal(refused.retryAfterMs, 1000);
  assert.equal(refused.resetMs, 3000);
  assert.equal(refused.limit, 3);
});

Deno.test("TokenBucket.take() refills continuously with injected time and caps at burst", () => {
  const bucket = new TokenBucket({ ratePerSecond: 10, burst: 5 });
  for (let i = 0; i < 5; i++) assert.ok(bucket.take(0).allowed);
  assert.equal(bucket.take(0).allowed, false);
  assert.equal(bucket.take(99).allowed, false, "0.99 tokens is not enough");
  const refilled = bucket.take(100);
  assert.equal(refilled.allowed, true);
  assert.equal(refilled.remaining, 0);
  // A long idle period refills to burst, never beyond.
  const later = bucket.take(60_000);
  assert.equal(later.remaining, 4);
  assert.equal(later.resetMs, 100);
});

Deno.test("TokenBucket.take() refuses a cost larger than the tokens held and keeps them", () => {
  const bucket = new TokenBucket({ ratePerSecond: 1, burst: 10 });
  assert.ok(bucket.take(0, 8).allowed);
  const refused = bucket.take(0, 5);
  assert.equal(refused.allowed, false);
  assert.equal(refused.remaining, 2);
  assert.equal(refused.retryAfterMs, 3000);
  assert.ok(bucket.take(0, 2).allowed);
});

Deno.test("TokenBucket.take() ignores a clock that steps backwards", () => {
  const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1, startMs: 5000 });
  assert.ok(bucket.take(5000).allowed);
  assert.equal(bucket.take(1000).allowed, false);
  assert.equal(bucket.take(5999).allowed, false);
  assert.ok(bucket.take(6000).allowed);
});

Deno.test("TokenBucket rejects invalid policies and impossible costs with RangeError", () => {
  assert.throws(() => new TokenBucket({ ratePerSecond: 0, burst: 1 }), RangeError);
  assert.throws(() => new TokenBucket({ ratePerSecond: 1, burst: 0.5 }), RangeError);
  assert.throws(() => new TokenBucket({ ratePerSecond: Number.NaN, burst: 1 }), RangeError);
  const bucket = new TokenBucket({ ratePerSecond: 1, burst: 2 });
  assert.throws(() => bucket.take(0, 3), RangeError);
  assert.throws(() => bucket.take(0, -1), RangeError);
});
