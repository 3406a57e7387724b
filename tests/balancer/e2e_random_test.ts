import assert from "node:assert/strict";
import { hit, type Name, NAMES, shares, startCluster } from "./_e2e.ts";

const REQUESTS = 600;

/** Asserts each upstream's share is within `tolerance` (absolute) of `expected`. */
function assertShares(counts: Record<Name, number>, expected: Record<Name, number>, tolerance: number): void {
  const actual = shares(counts);
  for (const name of NAMES) {
    assert.ok(
      Math.abs(actual[name] - expected[name]) <= tolerance,
      `${name}: share ${actual[name].toFixed(3)}, expected ${expected[name].toFixed(3)} ± ${tolerance} (${
        JSON.stringify(counts)
      })`,
    );
  }
}

// Bounds: with 600 draws a share's standard deviation is at most 0.02, so ±0.08 is a four-sigma band.
Deno.test("random sends each upstream a share of traffic proportional to its weight", async () => {
  await using cluster = startCluster(
    (backends) => `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: random }\n`,
    { backends: { a: { yaml: "weight: 3" }, b: { yaml: "weight: 2" }, c: { yaml: "weight: 1" } } },
  );
  const names: string[] = [];
  for (let i = 0; i < REQUESTS; i++) names.push((await hit(cluster.proxy)).name);
  assertShares(cluster.counts(), { a: 3 / 6, b: 2 / 6, c: 1 / 6 }, 0.08);
  // Random, not a rotation: some upstream answers twice in a row somewhere.
  assert.ok(names.some((name, i) => name === names[i + 1]));
});

Deno.test("p2c spreads sequential requests evenly and never picks an unavailable upstream", async () => {
  await using cluster = startCluster((backends) =>
    `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: p2c }\n`
  );
  for (let i = 0; i < REQUESTS; i++) await hit(cluster.proxy, "/all");
  assertShares(cluster.counts("/all"), { a: 1 / 3, b: 1 / 3, c: 1 / 3 }, 0.08);
  cluster.upstream("c").setHealthy(false);
  for (let i = 0; i < 200; i++) await hit(cluster.proxy, "/two");
  const two = cluster.counts("/two");
  assert.equal(two.c, 0);
  assert.ok(two.a >= 60 && two.b >= 60, JSON.stringify(two));
});

Deno.test("p2c favours the upstream with fewer requests in flight", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  let arrived: (name: Name) => void = () => {};
  const announce = (name: Name) => () => {
    arrived(name);
    return name === "a" ? released : Promise.resolve();
  };
  await using cluster = startCluster(
    (backends) => `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: p2c }\n`,
    {
      backends: { a: { before: announce("a") }, b: { before: announce("b") }, c: { before: announce("c") } },
    },
  );
  const held: Promise<unknown>[] = [];
  for (let i = 0; i < 300; i++) {
    const where = new Promise<Name>((resolve) => arrived = resolve);
    const response = hit(cluster.proxy);
    if (await where === "a") held.push(response);
    else await response;
  }
  // Once a holds a request it loses every comparison: it is drawn in 2 of 3 pairs, but picked only when its
  // rival is also busy.
  const counts = cluster.counts();
  assert.ok(counts.a <= 15, `a (holding its requests) got ${counts.a} of 300: ${JSON.stringify(counts)}`);
  release();
  await Promise.all(held);
});
