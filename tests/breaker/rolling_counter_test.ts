import assert from "node:assert/strict";
import { RollingCounter } from "../../src/breaker/rolling_counter.ts";

Deno.test("RollingCounter sums events inside the window and drops whole buckets as it slides", () => {
  const counter = new RollingCounter(1_000, { buckets: 10 });
  counter.add(0, 1, 1);
  counter.add(450, 2, 0);
  counter.add(999, 3, 1);
  assert.deepEqual([counter.total(999), counter.marked(999)], [6, 2]);
  assert.deepEqual([counter.total(1_050), counter.marked(1_050)], [5, 1], "the 0–100 ms bucket left");
  assert.deepEqual([counter.total(1_850), counter.marked(1_850)], [3, 1]);
  assert.equal(counter.total(1_900), 0, "an event leaves with its bucket, 0.9–1 window after it");
  assert.equal(counter.total(2_000), 0);
});

Deno.test("RollingCounter reuses a slot for a new period instead of adding to stale counts", () => {
  const counter = new RollingCounter(1_000, { buckets: 10 });
  counter.add(50, 5, 5);
  counter.add(1_050, 1, 0); // same slot, one window later
  assert.deepEqual([counter.total(1_050), counter.marked(1_050)], [1, 0]);
  counter.clear();
  assert.equal(counter.total(1_050), 0);
});

Deno.test("RollingCounter rejects a non-positive window or bucket count", () => {
  assert.throws(() => new RollingCounter(0), RangeError);
  assert.throws(() => new RollingCounter(1_000, { buckets: 0 }), RangeError);
});
