import assert from "node:assert/strict";
import { P2C } from "../../src/balancer/p2c.ts";
import { load, port, seededRandom, tally, upstreams } from "./_support.ts";

/** A random source that replays `values` in order. */
function replay(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

Deno.test("P2C.pick() takes the less loaded of the two drawn upstreams", () => {
  const list = upstreams([1, 1, 1, 1]);
  load(list[0]!, 5);
  load(list[3]!, 2);
  // Draws index 0 (0.0), then index 3 of the remaining three (0.99 → 2, shifted past 0 → 3).
  assert.equal(port(new P2C(list, { random: replay(0, 0.99) }).pick()), "3004");
  load(list[3]!, 10);
  assert.equal(port(new P2C(list, { random: replay(0, 0.99) }).pick()), "3001");
});

Deno.test("P2C.pick() never draws the same upstream twice, so the most loaded one is never chosen", () => {
  const list = upstreams([1, 1, 1]);
  load(list[1]!, 9);
  const balancer = new P2C(list, { random: seededRandom(5) });
  const counts = tally(() => balancer.pick(), 3_000);
  assert.equal(counts.get(list[1]!.id), undefined);
});

Deno.test("P2C.pick() moves traffic towards idle upstreams", () => {
  const list = upstreams([1, 1, 1, 1]);
  load(list[0]!, 3);
  load(list[1]!, 3);
  const balancer = new P2C(list, { random: seededRandom(6) });
  const counts = tally(() => balancer.pick(), 10_000);
  const idle = counts.get(list[2]!.id)! + counts.get(list[3]!.id)!;
  // Only a draw of both busy upstreams (1 in 6) sends traffic to a busy one.
  assert.ok(idle > 8_000, `idle got ${idle}`);
});

Deno.test("P2C.pick() returns the only available upstream", () => {
  const list = upstreams([1, 1, 1]);
  list[0]!.setHealthy(false);
  list[2]!.setHealthy(false);
  load(list[1]!, 100);
  assert.equal(port(new P2C(list, { random: seededRandom(8) }).pick()), "3002");
});
