import assert from "node:assert/strict";
import { EjectionGuard } from "../../src/breaker/ejection_guard.ts";
import { Upstream } from "../../src/upstream/upstream.ts";

function pool(n: number): Upstream[] {
  return Array.from({ length: n }, (_, i) => new Upstream(`http://127.0.0.1:${3001 + i}`));
}

Deno.test("EjectionGuard allows ejecting at most max_ejection_percent of the pool", () => {
  const guard = new EjectionGuard(pool(10), { maxEjectionPercent: 30 });
  assert.equal(guard.maxEjected, 3);
  assert.deepEqual([1, 2, 3, 4].map(() => guard.tryEject()), [true, true, true, false]);
  assert.equal(guard.ejected, 3);
  guard.restore();
  assert.equal(guard.tryEject(), true);
});

Deno.test("EjectionGuard always allows one ejection unless the percent is zero", () => {
  assert.equal(new EjectionGuard(pool(1)).maxEjected, 1);
  assert.equal(new EjectionGuard(pool(3)).maxEjected, 1);
  const off = new EjectionGuard(pool(4), { maxEjectionPercent: 0 });
  assert.equal(off.tryEject(), false);
});

Deno.test("EjectionGuard.restore() never drops below zero", () => {
  const guard = new EjectionGuard(pool(2));
  guard.restore();
  assert.equal(guard.ejected, 0);
});

Deno.test("EjectionGuard reports panic when fewer than the threshold percent are available", () => {
  const upstreams = pool(4);
  const guard = new EjectionGuard(upstreams, { panicThresholdPercent: 50 });
  upstreams[0]!.setHealthy(false);
  upstreams[1]!.setHealthy(false);
  assert.equal(guard.availableCount, 2);
  assert.equal(guard.panic, false, "exactly half is not below half");
  upstreams[2]!.setHealthy(false);
  assert.equal(guard.panic, true);
  upstreams[2]!.setGate({ admits: true });
  upstreams[2]!.setHealthy(true);
  upstreams[3]!.setGate({ admits: false });
  assert.equal(guard.availableCount, 1, "breaker gates count too");
  assert.equal(guard.panic, true);
});

Deno.test("EjectionGuard never panics with a zero threshold or an empty pool", () => {
  const upstreams = pool(2);
  for (const upstream of upstreams) upstream.setHealthy(false);
  assert.equal(new EjectionGuard(upstreams, { panicThresholdPercent: 0 }).panic, false);
  assert.equal(new EjectionGuard([]).panic, false);
});

Deno.test("EjectionGuard.pickPanic() rotates over every upstream, available or not", () => {
  const upstreams = pool(3);
  for (const upstream of upstreams) upstream.setHealthy(false);
  const guard = new EjectionGuard(upstreams);
  const picked = [0, 1, 2, 3].map(() => guard.pickPanic()?.id);
  assert.deepEqual(picked, [upstreams[0]!.id, upstreams[1]!.id, upstreams[2]!.id, upstreams[0]!.id]);
  assert.equal(new EjectionGuard([]).pickPanic(), undefined);
});

Deno.test("EjectionGuard rejects percentages outside 0–100", () => {
  assert.throws(() => new EjectionGuard(pool(1), { maxEjectionPercent: 101 }), RangeError);
  assert.throws(() => new EjectionGuard(pool(1), { panicThresholdPercent: -1 }), RangeError);
});
