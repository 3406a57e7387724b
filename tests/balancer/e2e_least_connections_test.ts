import assert from "node:assert/strict";
import { hit, type Name, startCluster } from "./_e2e.ts";

Deno.test("least_connections steers traffic away from an upstream holding slow in-flight requests", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  // Each upstream announces an arrival, so the test knows where a request went without waiting for its response.
  let arrived: (name: Name) => void = () => {};
  const announce = (name: Name) => () => {
    arrived(name);
    return name === "a" ? released : Promise.resolve();
  };
  await using cluster = startCluster(
    (backends) =>
      `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: least_connections }\n`,
    {
      backends: { a: { before: announce("a") }, b: { before: announce("b") }, c: { before: announce("c") } },
    },
  );
  const held: Promise<unknown>[] = [];
  for (let i = 0; i < 300; i++) {
    const where = new Promise<Name>((resolve) => arrived = resolve);
    const response = hit(cluster.proxy, "/");
    if (await where === "a") held.push(response); // a answers only when released: it stays in flight
    else await response;
  }
  const counts = cluster.counts();
  assert.ok(counts.a >= 1 && counts.a <= 15, `a (holding its requests) got ${counts.a} of 300`);
  assert.ok(counts.b >= 100 && counts.c >= 100, `b and c share the rest: ${JSON.stringify(counts)}`);
  assert.equal(cluster.upstream("a").inFlight, held.length);
  release();
  await Promise.all(held);
});

Deno.test("least_connections spreads sequential requests over idle upstreams at random", async () => {
  await using cluster = startCluster((backends) =>
    `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: least_connections }\n`
  );
  for (let i = 0; i < 300; i++) await hit(cluster.proxy, "/");
  const counts = cluster.counts();
  for (const count of Object.values(counts)) assert.ok(count >= 60, JSON.stringify(counts));
});
