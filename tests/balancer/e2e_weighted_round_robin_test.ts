import assert from "node:assert/strict";
import { sequence, startCluster } from "./_e2e.ts";

Deno.test("weighted_round_robin interleaves weights 5, 1, 1 smoothly as nginx does (a a b a c a a)", async () => {
  await using cluster = startCluster(
    (backends) =>
      `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: weighted_round_robin }\n`,
    { backends: { a: { yaml: "weight: 5" } } },
  );
  assert.deepEqual(await sequence(cluster.proxy, 14), [..."aabacaa", ..."aabacaa"]);
});

Deno.test("weighted_round_robin gives each upstream its weight's share of the traffic", async () => {
  await using cluster = startCluster(
    (backends) =>
      `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: weighted_round_robin }\n`,
    { backends: { a: { yaml: "weight: 3" }, b: { yaml: "weight: 2" }, c: { yaml: "weight: 1" } } },
  );
  await sequence(cluster.proxy, 300);
  const counts = cluster.counts();
  // Smooth WRR is exact over every full cycle of 6 picks.
  assert.deepEqual(counts, { a: 150, b: 100, c: 50 });
});
