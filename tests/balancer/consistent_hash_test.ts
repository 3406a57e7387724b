import assert from "node:assert/strict";
import { ConsistentHash } from "../../src/balancer/consistent_hash.ts";
import type { Upstream } from "../../src/upstream/upstream.ts";
import { seededRandom, tally, upstreams } from "./_support.ts";

const KEYS = Array.from({ length: 10_000 }, (_, i) => `client-${i}`);

function assignments(balancer: ConsistentHash): string[] {
  return KEYS.map((key) => balancer.pick({ key })?.id ?? "none");
}

Deno.test("ConsistentHash.pick() sends the same key to the same upstream", () => {
  const balancer = new ConsistentHash(upstreams([1, 1, 1, 1]));
  const first = balancer.pick({ key: "10.0.0.7" });
  for (let i = 0; i < 10; i++) assert.equal(balancer.pick({ key: "10.0.0.7" }), first);
});

Deno.test("ConsistentHash spreads 10,000 keys evenly over equal upstreams", () => {
  const list = upstreams([1, 1, 1, 1, 1]);
  const counts = new Map<string, number>();
  for (const id of assignments(new ConsistentHash(list))) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const upstream of list) {
    const share = counts.get(upstream.id)! / KEYS.length;
    assert.ok(Math.abs(share - 0.2) < 0.03, `${upstream.id}: ${share}`);
  }
});

Deno.test("ConsistentHash follows weights within a few percent", () => {
  const list = upstreams([1, 3]);
  const counts = new Map<string, number>();
  for (const id of assignments(new ConsistentHash(list))) counts.set(id, (counts.get(id) ?? 0) + 1);
  const share = counts.get(list[1]!.id)! / KEYS.length;
  assert.ok(Math.abs(share - 0.75) < 0.03, `share ${share}`);
});

Deno.test("ConsistentHash: removing one of 10 upstreams remaps only its own keys, about 1/10", () => {
  const list = upstreams(Array(10).fill(1));
  const before = assignments(new ConsistentHash(list));
  const removed = list[3]!;
  const after = assignments(new ConsistentHash(list.filter((u) => u !== removed)));
  let moved = 0;
  KEYS.forEach((_, i) => {
    if (before[i] === after[i]) return;
    moved++;
    assert.equal(before[i], removed.id, "only keys of the removed upstream may move");
  });
  assert.ok(moved > 0 && moved <= 1_250, `moved ${moved} of 10,000`);
});

Deno.test("ConsistentHash: adding an 11th upstream moves only keys onto it, about 1/11", () => {
  const list = upstreams(Array(11).fill(1));
  const before = assignments(new ConsistentHash(list.slice(0, 10)));
  const after = assignments(new ConsistentHash(list));
  let moved = 0;
  KEYS.forEach((_, i) => {
    if (before[i] === after[i]) return;
    moved++;
    assert.equal(after[i], list[10]!.id, "keys may only move to the new upstream");
  });
  assert.ok(moved > 0 && moved <= 1_150, `moved ${moved} of 10,000`);
});

Deno.test("ConsistentHash: an unavailable upstream's keys go where they would if it were removed", () => {
  const list = upstreams(Array(8).fill(1));
  const down = list[5]!;
  const withoutIt = assignments(new ConsistentHash(list.filter((u) => u !== down)));
  down.setHealthy(false);
  const balancer = new ConsistentHash(list);
  assert.deepEqual(assignments(balancer), withoutIt);
  down.setHealthy(true);
  assert.ok(assignments(balancer).includes(down.id), "keys return when it recovers");
});

Deno.test("ConsistentHash builds the same ring whatever the order of the upstream list", () => {
  const list = upstreams([1, 2, 1, 3]);
  const reversed: Upstream[] = [...list].reverse();
  assert.deepEqual(assignments(new ConsistentHash(list)), assignments(new ConsistentHash(reversed)));
});

Deno.test("ConsistentHash.pick() without a key picks at random, weighted", () => {
  const list = upstreams([1, 1]);
  const balancer = new ConsistentHash(list, { random: seededRandom(4) });
  const spread = tally(() => balancer.pick(), 10_000);
  assert.ok(Math.abs(spread.get(list[0]!.id)! - 5_000) < 400, `${spread.get(list[0]!.id)}`);
});

Deno.test("ConsistentHash scales weights down to fit maxRingSize", () => {
  const balancer = new ConsistentHash(upstreams([1, 1, 2]), { virtualNodes: 100, maxRingSize: 40 });
  assert.equal(balancer.ringSize, 40);
  assert.equal(new ConsistentHash(upstreams([1, 1, 2]), { virtualNodes: 100 }).ringSize, 400);
});

Deno.test("ConsistentHash rejects invalid virtualNodes and maxRingSize", () => {
  assert.throws(() => new ConsistentHash(upstreams([1]), { virtualNodes: 0 }), RangeError);
  assert.throws(() => new ConsistentHash(upstreams([1]), { maxRingSize: 2.5 }), RangeError);
});
