import assert from "node:assert/strict";
import { RoundRobin } from "../../src/balancer/round_robin.ts";
import { port, upstreams } from "./_support.ts";

Deno.test("RoundRobin.pick() rotates through upstreams in order", () => {
  const balancer = new RoundRobin(upstreams([1, 1, 1]));
  const sequence = Array.from({ length: 7 }, () => port(balancer.pick()));
  assert.deepEqual(sequence, ["3001", "3002", "3003", "3001", "3002", "3003", "3001"]);
});

Deno.test("RoundRobin.pick() skips unavailable upstreams and shares their turns evenly", () => {
  const list = upstreams([1, 1, 1, 1]);
  list[1]!.setHealthy(false);
  const balancer = new RoundRobin(list);
  const sequence = Array.from({ length: 6 }, () => port(balancer.pick()));
  assert.deepEqual(sequence, ["3001", "3003", "3004", "3001", "3003", "3004"]);
});

Deno.test("RoundRobin.pick() resumes an upstream once it is available again", () => {
  const list = upstreams([1, 1, 1]);
  const balancer = new RoundRobin(list);
  list[1]!.setHealthy(false);
  assert.deepEqual([port(balancer.pick()), port(balancer.pick())], ["3001", "3003"]);
  list[1]!.setHealthy(true);
  assert.deepEqual([port(balancer.pick()), port(balancer.pick())], ["3001", "3002"]);
});

Deno.test("RoundRobin.pick() returns undefined when nothing is available or the list is empty", () => {
  const list = upstreams([1, 1]);
  list.forEach((u) => u.setHealthy(false));
  assert.equal(new RoundRobin(list).pick(), undefined);
  assert.equal(new RoundRobin([]).pick(), undefined);
});
