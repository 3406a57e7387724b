import assert from "node:assert/strict";
import { LatencyWindow } from "../../src/metrics/latency_window.ts";

Deno.test("LatencyWindow.quantiles() gives nearest-rank p50 and p99", () => {
  const w = new LatencyWindow({ size: 200, now: () => 0 });
  for (let i = 100; i >= 1; i--) w.observe(i);
  assert.deepEqual(w.quantiles([0.5, 0.99, 0, 1]), [50, 99, 1, 100]);
  assert.equal(w.count, 100);
});

Deno.test("LatencyWindow keeps only the last size samples", () => {
  const w = new LatencyWindow({ size: 3, now: () => 0 });
  for (const v of [1000, 1, 2, 3]) w.observe(v);
  assert.equal(w.count, 3);
  assert.equal(w.quantile(1), 3);
});

Deno.test("LatencyWindow skips samples older than windowMs", () => {
  let now = 0;
  const w = new LatencyWindow({ windowMs: 1000, now: () => now });
  w.observe(500);
  now = 900;
  w.observe(10);
  assert.equal(w.quantile(1), 500);
  now = 1500;
  assert.equal(w.quantile(1), 10);
  now = 5000;
  assert.equal(w.quantile(0.5), undefined);
  assert.equal(w.count, 0);
});

Deno.test("LatencyWindow ignores NaN and negative samples and validates its options", () => {
  const w = new LatencyWindow({ now: () => 0 });
  w.observe(NaN);
  w.observe(-1);
  assert.equal(w.count, 0);
  assert.throws(() => w.quantile(1.5), RangeError);
  assert.throws(() => new LatencyWindow({ size: 0 }), RangeError);
  assert.throws(() => new LatencyWindow({ windowMs: 0 }), RangeError);
});
