/**
 * Pick time per algorithm for pools of 3, 100 and 1,000 upstreams (targets: ≤ 0.2 µs per pick,
 * consistent hash ≤ 1 µs). Pools have mixed weights (1–4), uneven in-flight counts and latencies, and
 * every 10th upstream unavailable, so the skip paths are measured too.
 *
 * The `selection` rows time a whole first pick as requests make it (UpstreamSelection.begin(): facts, panic
 * check, balancer pick, gate reservation, then `answered(200)`) next to the bare round-robin pick, same run.
 *
 *   deno bench bench/balancer_bench.ts
 */
import { BALANCER_ALGORITHMS, createBalancer } from "../src/balancer/create_balancer.ts";
import { PoolBalancer } from "../src/balancer/pool_balancer.ts";
import { type RequestFacts, UpstreamSelection } from "../src/pool/upstream_selection.ts";
import { Sticky } from "../src/balancer/sticky.ts";
import { RoundRobin } from "../src/balancer/round_robin.ts";
import { Upstream } from "../src/upstream/upstream.ts";

function pool(size: number): Upstream[] {
  return Array.from({ length: size }, (_, i) => {
    const upstream = new Upstream(`http://127.0.0.1:${3001 + i}`, { weight: 1 + (i % 4) });
    for (let j = 0; j < (i * 7) % 5; j++) upstream.acquire();
    upstream.observeLatency(5 + ((i * 13) % 40), 1_000);
    if (i % 10 === 9) upstream.setHealthy(false);
    return upstream;
  });
}

const KEYS = Array.from({ length: 1_024 }, (_, i) => ({ key: `10.0.${i >> 8}.${i & 255}` }));

for (const size of [3, 100, 1_000]) {
  const upstreams = pool(size);
  for (const algorithm of BALANCER_ALGORITHMS) {
    const balancer = createBalancer(algorithm, upstreams, { now: () => 2_000 });
    let i = 0;
    Deno.bench({
      name: `${algorithm} n=${size}`,
      group: `n=${size}`,
      fn() {
        balancer.pick(KEYS[i++ & 1_023]);
      },
    });
  }

  const sticky = new Sticky(new RoundRobin(upstreams), upstreams);
  const cookie = sticky.setCookieFor(upstreams[0]!)!.split(";")[0]!.split("=")[1]!;
  Deno.bench({
    name: `sticky (valid cookie) n=${size}`,
    group: `n=${size}`,
    fn() {
      sticky.pickWithCookie(cookie);
    },
  });
}

const FACTS: RequestFacts = {
  method: "GET",
  headers: new Headers(),
  peerIp: "192.0.2.1",
  trustedProxies: undefined,
  path: "/",
};
for (const size of [3, 100, 1_000]) {
  const balancer = new PoolBalancer("bench", pool(size), { algorithm: "round_robin" });
  const selection = new UpstreamSelection(balancer, {
    panicThresholdPercent: 50,
    retries: 1,
    backoffMs: 25,
    retryBudget: undefined,
    idleRetryAfterMs: 1_000,
    log: () => {},
  });
  Deno.bench({
    name: `round_robin pick n=${size}`,
    group: `selection n=${size}`,
    baseline: true,
    fn() {
      balancer.pick();
    },
  });
  Deno.bench({
    name: `UpstreamSelection.begin + answered n=${size}`,
    group: `selection n=${size}`,
    fn() {
      selection.begin(FACTS).answered(200);
    },
  });
}
