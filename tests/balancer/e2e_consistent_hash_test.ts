import assert from "node:assert/strict";
import { hit, type Name, NAMES, startCluster } from "./_e2e.ts";

const KEYS = Array.from({ length: 300 }, (_, i) => `user-${i}`);

async function placement(cluster: ReturnType<typeof startCluster>): Promise<Map<string, string>> {
  const where = new Map<string, string>();
  for (const key of KEYS) where.set(key, (await hit(cluster.proxy, "/", { "x-user": key })).name);
  return where;
}

Deno.test("consistent_hash keeps each key on one upstream and moves only a removed upstream's keys", async () => {
  await using cluster = startCluster((backends) =>
    `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: consistent_hash, hash_key: "header:x-user" }\n`
  );
  const first = await placement(cluster);
  const again = await placement(cluster);
  assert.deepEqual(again, first, "the same key reaches the same upstream");

  const perUpstream = { a: 0, b: 0, c: 0 };
  for (const name of first.values()) perUpstream[name as Name]++;
  for (const name of NAMES) {
    assert.ok(
      perUpstream[name] >= 50,
      `different keys spread over all three: ${JSON.stringify(perUpstream)}`,
    );
  }

  cluster.upstream("b").setHealthy(false);
  const without = await placement(cluster);
  for (const key of KEYS) {
    if (first.get(key) === "b") {
      assert.notEqual(without.get(key), "b", `${key} left the unavailable upstream`);
    } else assert.equal(without.get(key), first.get(key), `${key} was not on b and must not move`);
  }

  cluster.upstream("b").setHealthy(true);
  assert.deepEqual(await placement(cluster), first, "b's keys come back to it");
});

Deno.test("consistent_hash by path sends repeated paths to the same upstream", async () => {
  await using cluster = startCluster((backends) =>
    `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: consistent_hash, hash_key: path }\n`
  );
  const where = new Map<string, string>();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 30; i++) {
      // The query string is not part of the key.
      const { name } = await hit(cluster.proxy, `/item/${i}?round=${round}`);
      assert.equal(where.get(`/item/${i}`) ?? name, name, `/item/${i} moved in round ${round}`);
      where.set(`/item/${i}`, name);
    }
  }
  assert.ok(new Set(where.values()).size >= 2, "thirty paths use more than one upstream");
});

Deno.test("consistent_hash by client_ip hashes the forwarded client behind a trusted proxy, not the proxy", async () => {
  const config = (trusted: string) => (backends: string) =>
    `server: { port: 0, trusted_proxies: ["${trusted}"] }\nbackends:\n${backends}\n` +
    "load_balancer: { algorithm: consistent_hash, hash_key: client_ip }\n";
  {
    // The test client (127.0.0.1) is the trusted proxy: each forwarded client has its own place on the ring.
    await using cluster = startCluster(config("127.0.0.1"));
    const where = new Map<string, string>();
    for (let i = 0; i < 60; i++) {
      const client = `198.51.100.${i}`;
      const { name } = await hit(cluster.proxy, "/", { "x-forwarded-for": client });
      where.set(client, name);
      assert.equal((await hit(cluster.proxy, "/", { "x-forwarded-for": `6.6.6.6, ${client}` })).name, name);
    }
    assert.equal(new Set(where.values()).size, 3, "sixty clients spread over all three upstreams");
  }
  {
    // An untrusted peer's X-Forwarded-For is ignored: every request hashes 127.0.0.1.
    await using cluster = startCluster(config("10.0.0.0/8"));
    const names = new Set<string>();
    for (let i = 0; i < 30; i++) {
      names.add((await hit(cluster.proxy, "/", { "x-forwarded-for": `198.51.100.${i}` })).name);
    }
    assert.equal(names.size, 1);
  }
});

Deno.test("consistent_hash by cookie follows the session cookie and still serves requests without it", async () => {
  await using cluster = startCluster((backends) =>
    `server: { port: 0 }\nbackends:\n${backends}\nload_balancer: { algorithm: consistent_hash, hash_key: "cookie:session" }\n`
  );
  const where = new Map<string, string>();
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 40; i++) {
      const { name } = await hit(cluster.proxy, "/", { cookie: `theme=dark; session=s${i}` });
      assert.equal(where.get(`s${i}`) ?? name, name, `session s${i} moved`);
      where.set(`s${i}`, name);
    }
  }
  assert.ok(new Set(where.values()).size >= 2, "forty sessions use more than one upstream");
  const keyless = await hit(cluster.proxy, "/", { cookie: "theme=dark" });
  assert.equal(keyless.status, 200);
});
