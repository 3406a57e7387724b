import assert from "node:assert/strict";
import { WeightedRoundRobin } from "../../src/balancer/weighted_round_robin.ts";
import { port, tally, upstreams } from "./_support.ts";

const LABEL: Record<string, string> = { "3001": "a", "3002": "b", "3003": "c", "3004": "d" };

for (const maxScheduleLength of [65_536, 0]) {
  const mode = maxScheduleLength === 0 ? "per-pick loop" : "precomputed schedule";

  Deno.test(`WeightedRoundRobin.pick() follows nginx's smooth sequence for 5,1,1 (${mode})`, () => {
    const balancer = new WeightedRoundRobin(upstreams([5, 1, 1]), { maxScheduleLength });
    assert.equal(balancer.scheduled, maxScheduleLength !== 0);
    const sequence = Array.from({ length: 14 }, () => LABEL[port(balancer.pick())]).join(" ");
    assert.equal(sequence, "a a b a c a a a a b a c a a");
  });

  Deno.test(`WeightedRoundRobin.pick() never picks an unavailable upstream (${mode})`, () => {
    const list = upstreams([5, 1, 1]);
    list[0]!.setHealthy(false);
    const balancer = new WeightedRoundRobin(list, { maxScheduleLength });
    const sequence = Array.from({ length: 6 }, () => LABEL[port(balancer.pick())]).join(" ");
    assert.equal(sequence, "b c b c b c");
  });

  Deno.test(`WeightedRoundRobin.pick() keeps the weight ratio among the available upstreams (${mode})`, () => {
    const list = upstreams([3, 5, 1, 2]);
    list[1]!.setHealthy(false);
    const balancer = new WeightedRoundRobin(list, { maxScheduleLength });
    const counts = tally(() => balancer.pick(), 6_000);
    assert.equal(counts.get(list[0]!.id), 3_000);
    assert.equal(counts.get(list[1]!.id), undefined);
    assert.equal(counts.get(list[2]!.id), 1_000);
    assert.equal(counts.get(list[3]!.id), 2_000);
  });

  Deno.test(`WeightedRoundRobin.pick() returns undefined when nothing is available (${mode})`, () => {
    const list = upstreams([2, 1]);
    list.forEach((u) => u.setHealthy(false));
    const balancer = new WeightedRoundRobin(list, { maxScheduleLength });
    assert.equal(balancer.pick(), undefined);
    list[1]!.setHealthy(true);
    assert.equal(port(balancer.pick()), "3002");
  });
}

Deno.test("WeightedRoundRobin reduces weights by their gcd, so 10,2,2 behaves like 5,1,1", () => {
  const balancer = new WeightedRoundRobin(upstreams([10, 2, 2]));
  const sequence = Array.from({ length: 7 }, () => LABEL[port(balancer.pick())]).join(" ");
  assert.equal(sequence, "a a b a c a a");
});

Deno.test("WeightedRoundRobin falls back to the per-pick loop when the schedule would be too long", () => {
  assert.equal(new WeightedRoundRobin(upstreams([5, 1, 1]), { maxScheduleLength: 6 }).scheduled, false);
  assert.equal(new WeightedRoundRobin(upstreams([5, 1, 1]), { maxScheduleLength: 7 }).scheduled, true);
});

Deno.test("WeightedRoundRobin rejects a negative or fractional maxScheduleLength", () => {
  assert.throws(() => new WeightedRoundRobin(upstreams([1]), { maxScheduleLength: -1 }), RangeError);
  assert.throws(() => new WeightedRoundRobin(upstreams([1]), { maxScheduleLength: 1.5 }), RangeError);
});
