import assert from "node:assert/strict";
import { sequence, startCluster } from "./_e2e.ts";

Deno.test("round_robin sends requests to the three upstreams in strict rotation", async () => {
  await using cluster = startCluster((backends) =>
    `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: round_robin }\n`
  );
  const names = await sequence(cluster.proxy, 30);
  assert.equal(new Set(names.slice(0, 3)).size, 3, `first three differ: ${names.join(" ")}`);
  names.forEach((name, i) =>
    assert.equal(name, names[i % 3], `request ${i} breaks the rotation: ${names.join(" ")}`)
  );
  assert.deepEqual(cluster.counts(), { a: 10, b: 10, c: 10 });
});

Deno.test("round_robin skips an unavailable upstream and resumes it when it is back", async () => {
  await using cluster = startCluster((backends) =>
    `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: round_robin }\n`
  );
  cluster.upstream("b").setHealthy(false);
  const without = await sequence(cluster.proxy, 20);
  assert.ok(!without.includes("b"), without.join(" "));
  assert.equal(without.filter((n) => n === "a").length, 10);
  cluster.upstream("b").setHealthy(true);
  const back = await sequence(cluster.proxy, 30);
  assert.equal(back.filter((n) => n === "b").length, 10, back.join(" "));
});
