import assert from "node:assert/strict";
import { Ewma } from "../../src/balancer/ewma.ts";
import { load, port, seededRandom, tally, upstreams } from "./_support.ts";

Deno.test("Ewma.pick() prefers the upstream with the lower latency", () => {
  const list = upstreams([1, 1]);
  list[0]!.observeLatency(200, 1_000);
  list[1]!.observeLatency(20, 1_000);
  const balancer = new Ewma(list, { random: seededRandom(1), now: () => 1_000 });
  assert.equal(port(balancer.pick()), "3002");
});

Deno.test("Ewma.pick() shifts picks away from an upstream whose latency rises", () => {
  const list = upstreams([1, 1, 1]);
  let now = 1_000;
  for (const upstream of list) upstream.observeLatency(50, now);
  const balancer = new Ewma(list, { random: seededRandom(2), now: () => now });
  // Equal latencies, nothing in flight: each upstream wins about a third of the picks.
  const before = tally(() => balancer.pick(), 3_000).get(list[0]!.id)!;
  assert.ok(before > 800, `before: ${before}`);
  now += 100;
  list[0]!.observeLatency(500, now); // peak-sensitive: the spike counts at once
  const after = tally(() => balancer.pick(), 3_000).get(list[0]!.id) ?? 0;
  assert.equal(after, 0);
});

Deno.test("Ewma.pick() weighs latency by in-flight requests", () => {
  const list = upstreams([1, 1]);
  list[0]!.observeLatency(10, 1_000); // 10 ms × (9 + 1) = 100
  list[1]!.observeLatency(40, 1_000); // 40 ms × (0 + 1) = 40
  load(list[0]!, 9);
  assert.equal(port(new Ewma(list, { random: seededRandom(3), now: () => 1_000 }).pick()), "3002");
});

Deno.test("Ewma.pick() compares in-flight counts while neither upstream has been measured", () => {
  const list = upstreams([1, 1]);
  load(list[0]!, 2);
  assert.equal(port(new Ewma(list, { random: () => 0, now: () => 1_000 }).pick()), "3002");
});

Deno.test("Ewma rejects a now option that is not a function", () => {
  assert.throws(() => new Ewma(upstreams([1]), { now: 5 as unknown as () => number }), TypeError);
});
