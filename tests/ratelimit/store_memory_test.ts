import assert from "node:assert/strict";
import { MemoryRateLimitStore } from "../../src/ratelimit/store_memory.ts";

function clock(start = 0) {
  const c = { ms: start, now: () => c.ms };
  return c;
}

Deno.test("MemoryRateLimitStore.take() answers synchronously with burst then refusal", () => {
  const c = clock();
  const store = new MemoryRateLimitStore({ ratePerSecond: 1, burst: 2, now: c.now });
  const first = store.take("a");
  assert.equal(first instanceof Promise, false);
  assert.equal(first.allowed, true);
  assert.equal(store.take("a").allowed, true);
  const refused = store.take("a");
  assert.equal(refused.allowed, false);
  assert.equal(refused.retryAfterMs, 1000);
  c.ms = 1000;
  assert.equal(store.take("a").allowed, true);
});

Deno.test("MemoryRateLimitStore keeps keys isolated", () => {
  const c = clock();
  const store = new MemoryRateLimitStore({ ratePerSecond: 1, burst: 1, now: c.now });
  assert.ok(store.take("a").allowed);
  assert.equal(store.take("a").allowed, false);
  assert.ok(store.take("b").allowed, "b has its own bucket");
  assert.equal(store.take("a").allowed, false, "b's take did not refill a");
});

Deno.test("MemoryRateLimitStore never holds more than maxKeys and evicts the least recently used", () => {
  const c = clock();
  const store = new MemoryRateLimitStore({ ratePerSecond: 1, burst: 1, maxKeys: 3, now: c.now });
  for (const key of ["a", "b", "c"]) assert.ok(store.take(key).allowed);
  assert.equal(store.take("a").allowed, false); // a is now most recent; b is least recent
  assert.ok(store.take("d").allowed);
  assert.equal(store.size, 3);
  assert.equal(store.evictions, 1);
  assert.equal(store.take("a").allowed, false, "a survived: its empty bucket is still tracked");
  assert.equal(store.take("c").allowed, false, "c survived");
  assert.ok(store.take("b").allowed, "b was evicted and starts fresh");
  assert.equal(store.size, 3);
  for (let i = 0; i < 1000; i++) store.take(`k${i}`);
  assert.equal(store.size, 3);
});

Deno.test("MemoryRateLimitStore drops idle buckets once they would be full again", () => {
  const c = clock();
  const store = new MemoryRateLimitStore({ ratePerSecond: 10, burst: 5, now: c.now });
  for (let i = 0; i < 50; i++) store.take(`idle${i}`);
  assert.equal(store.size, 50);
  c.ms = 499; // 4.99 tokens refilled: not yet full, so nothing may be dropped
  assert.equal(store.prune(), 0);
  c.ms = 500;
  store.take("active");
  assert.equal(store.size, 49, "each take sweeps at most two idle buckets");
  assert.equal(store.prune(), 48);
  assert.equal(store.size, 1);
  assert.equal(store.evictions, 0, "dropping full buckets is not eviction");
  // A dropped key behaves exactly like the full bucket it replaced.
  assert.equal(store.take("idle0").remaining, 4);
});

Deno.test("MemoryRateLimitStore validates its options", () => {
  assert.throws(() => new MemoryRateLimitStore({ ratePerSecond: 1, burst: 1, maxKeys: 0 }), RangeError);
  assert.throws(() => new MemoryRateLimitStore({ ratePerSecond: -1, burst: 1 }), RangeError);
  const store = new MemoryRateLimitStore({ ratePerSecond: 1, burst: 1 });
  assert.throws(() => store.take("a", 2), RangeError);
});
