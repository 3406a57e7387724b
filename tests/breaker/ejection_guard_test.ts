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

Deno.test("EjectionGuard rejects percentages outside 0–100", () => {
  assert.throws(() => new EjectionGuard(pool(1), { maxEjectionPercent: 101 }), RangeError);
  assert.throws(() => new EjectionGuard(pool(1), { maxEjectionPercent: -1 }), RangeError);
});
