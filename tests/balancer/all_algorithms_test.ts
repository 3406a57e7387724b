import assert from "node:assert/strict";
import { CircuitBreaker } from "../../src/breaker/circuit_breaker.ts";
import { BALANCER_ALGORITHMS, createBalancer } from "../../src/balancer/create_balancer.ts";
import type { BalancerAlgorithm } from "../../src/balancer/balancer.ts";
import { load, seededRandom, tally, upstreams } from "./_support.ts";

/** Which upstreams are down, as indices into a pool of six. */
const CASES: readonly { name: string; down: readonly number[] }[] = [
  { name: "none down", down: [] },
  { name: "the first down", down: [0] },
  { name: "the last down", down: [5] },
  { name: "alternate ones down", down: [0, 2, 4] },
  { name: "all but one down", down: [0, 1, 2, 3, 5] },
];

for (const algorithm of BALANCER_ALGORITHMS) {
  for (const { name, down } of CASES) {
    Deno.test(`${algorithm}: unavailable upstreams are never picked (${name})`, () => {
      const list = upstreams([1, 2, 3, 1, 2, 3]);
      list.forEach((u, i) => load(u, i % 3)); // uneven load, so load-aware algorithms have a favourite
      list[1]!.observeLatency(10, 1_000);
      down.forEach((i) => list[i]!.setHealthy(false));
      const balancer = createBalancer(algorithm, list, { random: seededRandom(9), now: () => 1_000 });
      for (let i = 0; i < 2_000; i++) {
        const picked = balancer.pick({ key: `k${i}` });
        assert.ok(picked !== undefined && picked.available, `pick ${i} returned ${picked?.id}`);
      }
    });
  }

  Deno.test(`${algorithm}: pick() returns undefined when no upstream is available, or there are none`, () => {
    const list = upstreams([1, 1, 1]);
    list.forEach((u) => u.setHealthy(false));
    assert.equal(createBalancer(algorithm, list, { random: seededRandom(1) }).pick({ key: "k" }), undefined);
    assert.equal(createBalancer(algorithm, [], { random: seededRandom(1) }).pick({ key: "k" }), undefined);
  });

  Deno.test(`${algorithm}: an upstream gated shut by its breaker is not picked`, () => {
    const list = upstreams([1, 1]);
    const breaker = new CircuitBreaker({ consecutiveFailures: 1 });
    breaker.recordFailure();
    list[0]!.setGate(breaker);
    const balancer = createBalancer(algorithm, list, { random: seededRandom(2) });
    for (let i = 0; i < 100; i++) assert.equal(balancer.pick({ key: `k${i}` }), list[1]);
  });
}

const WEIGHTED: readonly BalancerAlgorithm[] = ["weighted_round_robin", "random", "consistent_hash"];
for (const algorithm of WEIGHTED) {
  Deno.test(`${algorithm}: traffic follows weights 1,2,5 within a few percent over many picks`, () => {
    const list = upstreams([1, 2, 5]);
    const balancer = createBalancer(algorithm, list, { random: seededRandom(3) });
    const picks = 40_000;
    let i = 0;
    const counts = tally(() => balancer.pick({ key: `user-${i++}` }), picks);
    [1 / 8, 2 / 8, 5 / 8].forEach((share, j) => {
      const actual = counts.get(list[j]!.id)! / picks;
      assert.ok(Math.abs(actual - share) < 0.03, `${list[j]!.id}: ${actual.toFixed(4)} vs ${share}`);
    });
  });
}
