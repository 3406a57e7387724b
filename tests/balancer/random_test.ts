import assert from "node:assert/strict";
import { Random } from "../../src/balancer/random.ts";
import { seededRandom, tally, upstreams } from "./_support.ts";

Deno.test("Random.pick() follows the weights within a few percent", () => {
  const list = upstreams([1, 2, 7]);
  const balancer = new Random(list, { random: seededRandom(1) });
  const picks = 100_000;
  const counts = tally(() => balancer.pick(), picks);
  [0.1, 0.2, 0.7].forEach((share, i) => {
    const actual = counts.get(list[i]!.id)! / picks;
    assert.ok(Math.abs(actual - share) < 0.01, `${list[i]!.id}: ${actual} vs ${share}`);
  });
});

Deno.test("Random.pick() is uniform when weights are equal", () => {
  const list = upstreams([3, 3, 3, 3]);
  const balancer = new Random(list, { random: seededRandom(2) });
  const counts = tally(() => balancer.pick(), 40_000);
  for (const upstream of list) assert.ok(Math.abs(counts.get(upstream.id)! - 10_000) < 400);
});

Deno.test("Random.pick() keeps weight proportions among available upstreams when most are down", () => {
  const list = upstreams([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]);
  list.slice(0, 10).forEach((u) => u.setHealthy(false));
  const balancer = new Random(list, { random: seededRandom(3) });
  const counts = tally(() => balancer.pick(), 40_000);
  assert.deepEqual([...counts.keys()].sort(), [list[10]!.id, list[11]!.id]);
  const share = counts.get(list[11]!.id)! / 40_000;
  assert.ok(Math.abs(share - 0.75) < 0.01, `share ${share}`);
});

Deno.test("Random.pick() stays in range when the injected random returns 1", () => {
  const list = upstreams([1, 2]);
  assert.equal(new Random(list, { random: () => 1 }).pick(), list[1]);
  assert.equal(new Random(upstreams([1, 1]), { random: () => 1 }).pick()?.url.port, "3002");
});
