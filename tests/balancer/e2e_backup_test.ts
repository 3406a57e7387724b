import assert from "node:assert/strict";
import { BALANCER_ALGORITHMS } from "../../src/balancer/create_balancer.ts";
import { hit, NAMES, sequence, startCluster } from "./_e2e.ts";

Deno.test("a backup upstream gets traffic only while every primary is unavailable", async () => {
  await using cluster = startCluster(
    (backends) => `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: round_robin }\n`,
    { backends: { c: { yaml: "backup: true" } } },
  );
  const normal = await sequence(cluster.proxy, 20);
  assert.ok(!normal.includes("c"), normal.join(" "));
  assert.deepEqual(cluster.counts(), { a: 10, b: 10, c: 0 });

  cluster.upstream("a").setHealthy(false);
  assert.deepEqual(await sequence(cluster.proxy, 5), ["b", "b", "b", "b", "b"], "one primary left is enough");

  cluster.upstream("b").setHealthy(false);
  assert.deepEqual(
    await sequence(cluster.proxy, 5),
    ["c", "c", "c", "c", "c"],
    "every primary down: the backup",
  );

  cluster.upstream("a").setHealthy(true);
  assert.deepEqual(
    await sequence(cluster.proxy, 5),
    ["a", "a", "a", "a", "a"],
    "a primary is back: the backup idles",
  );
  assert.equal(cluster.counts().c, 5);
});

Deno.test("every upstream unavailable and panic off → 503 with Retry-After and no upstream attempt, for every algorithm", async () => {
  const pools = BALANCER_ALGORITHMS.map((algorithm) =>
    [
      `  ${algorithm}:`,
      "    backends: BACKENDS",
      `    load_balancer: { algorithm: ${algorithm} }`,
      // With panic mode on, a pool with nothing available routes over all of its upstreams instead.
      "    circuit_breaker: { panic_threshold: 0% }",
    ].join("\n")
  );
  const routes = BALANCER_ALGORITHMS.map((algorithm) =>
    `  - { match: { path_prefix: /${algorithm} }, upstream: ${algorithm} }`
  );
  await using cluster = startCluster(
    (backends) =>
      [
        "server: { port: 0 }",
        "upstreams:",
        ...pools.map((pool) => pool.replace("BACKENDS", `\n${backends}`)),
        "routes:",
        ...routes,
      ].join("\n"),
    { indent: "      ", backends: { c: { yaml: "backup: true" } } },
  );
  for (const algorithm of BALANCER_ALGORITHMS) {
    for (const name of NAMES) cluster.upstream(name, algorithm).setHealthy(false);
    const response = await hit(cluster.proxy, `/${algorithm}/x`, { "x-user": "u1" });
    assert.equal(response.status, 503, algorithm);
    assert.equal(response.headers.get("retry-after"), "1", algorithm);
    assert.ok(response.headers.get("x-request-id"), "the error carries the request id");
  }
  assert.deepEqual(cluster.counts(), { a: 0, b: 0, c: 0 }, "no upstream was attempted");
  // The same pools answer again as soon as one upstream is back.
  cluster.upstream("c", "ewma").setHealthy(true);
  assert.equal((await hit(cluster.proxy, "/ewma/x")).name, "c");
});

Deno.test("503 Retry-After follows the health-check interval when upstreams are down", async () => {
  await using cluster = startCluster((backends) =>
    [
      "server: { port: 0 }",
      "backends:",
      backends,
      // The test marks the upstreams down by hand; with a 1 h interval the checker does not probe meanwhile
      // (and would need two passing probes in a row to bring one back).
      "health_check: { interval: 1h, timeout: 1s, path: /health }",
      "circuit_breaker: { panic_threshold: 0% }",
    ].join("\n")
  );
  for (const name of NAMES) cluster.upstream(name).setHealthy(false);
  const response = await hit(cluster.proxy);
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "3600");
  assert.deepEqual(cluster.counts(), { a: 0, b: 0, c: 0 });
});
