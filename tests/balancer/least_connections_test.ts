import assert from "node:assert/strict";
import { LeastConnections } from "../../src/balancer/least_connections.ts";
import { load, port, seededRandom, tally, upstreams } from "./_support.ts";

Deno.test("LeastConnections.pick() chooses the upstream with the fewest requests in flight", () => {
  const list = upstreams([1, 1, 1]);
  load(list[0]!, 4);
  load(list[1]!, 1);
  load(list[2]!, 3);
  assert.equal(port(new LeastConnections(list).pick()), "3002");
});

Deno.test("LeastConnections.pick() divides in-flight requests by weight", () => {
  const list = upstreams([1, 4]);
  load(list[0]!, 2); // 2 per unit of weight
  load(list[1]!, 6); // 1.5 per unit of weight
  assert.equal(port(new LeastConnections(list).pick()), "3002");
});

Deno.test("LeastConnections.pick() breaks ties with the injected random source", () => {
  const list = upstreams([1, 1, 1, 1]);
  load(list[0]!, 1);
  // Tied: 3002, 3003, 3004. random() = 0.99 takes the last of them, 0 the first.
  assert.equal(port(new LeastConnections(list, { random: () => 0.99 }).pick()), "3004");
  assert.equal(port(new LeastConnections(list, { random: () => 0 }).pick()), "3002");
});

Deno.test("LeastConnections.pick() spreads an idle pool evenly instead of favouring the first upstream", () => {
  const list = upstreams([1, 1, 1]);
  const balancer = new LeastConnections(list, { random: seededRandom(7) });
  const counts = tally(() => balancer.pick(), 30_000);
  for (const upstream of list) {
    assert.ok(
      Math.abs(counts.get(upstream.id)! - 10_000) < 500,
      `${upstream.id}: ${counts.get(upstream.id)}`,
    );
  }
});

Deno.test("LeastConnections.pick() ignores an idle but unavailable upstream", () => {
  const list = upstreams([1, 1]);
  load(list[1]!, 5);
  list[0]!.setHealthy(false);
  assert.equal(port(new LeastConnections(list).pick()), "3002");
});

Deno.test("LeastConnections rejects a random option that is not a function", () => {
  assert.throws(
    () => new LeastConnections(upstreams([1]), { random: 3 as unknown as () => number }),
    TypeError,
  );
});
