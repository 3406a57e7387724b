import assert from "node:assert/strict";
import { PoolBalancer } from "../../src/balancer/pool_balancer.ts";
import { readCookie } from "../../src/balancer/read_cookie.ts";
import { port, seededRandom, tally, upstreams } from "../balancer/_support.ts";
import type { BalancerAlgorithm } from "../../src/balancer/balancer.ts";
import { BALANCER_ALGORITHMS } from "../../src/balancer/create_balancer.ts";

/** Two primaries on 3001-3002 and two backups on 3003-3004. */
function primariesAndBackups() {
  const primaries = upstreams([1, 1]);
  const backups = upstreams([1, 1, 1, 1], true).slice(2);
  return { primaries, backups, all: [...primaries, ...backups] };
}

for (const algorithm of BALANCER_ALGORITHMS) {
  Deno.test(`PoolBalancer.pick() uses backups only when every primary is unavailable (${algorithm})`, () => {
    const { primaries, backups, all } = primariesAndBackups();
    const pool = new PoolBalancer("api", all, { algorithm, random: seededRandom(1), now: () => 1_000 });
    const key = { key: "user-1" };
    for (let i = 0; i < 200; i++) assert.ok(!pool.pick(key)!.backup);
    primaries[0]!.setHealthy(false);
    for (let i = 0; i < 200; i++) assert.equal(pool.pick(key), primaries[1]);
    primaries[1]!.setHealthy(false);
    for (let i = 0; i < 200; i++) assert.ok(backups.includes(pool.pick(key)!));
    backups.forEach((u) => u.setHealthy(false));
    assert.equal(pool.pick(key), undefined);
    primaries[0]!.setHealthy(true);
    assert.equal(pool.pick(key), primaries[0]);
  });
}

Deno.test("PoolBalancer balances backups among themselves with the pool's algorithm", () => {
  const { primaries, backups, all } = primariesAndBackups();
  primaries.forEach((u) => u.setHealthy(false));
  const pool = new PoolBalancer("api", all, { algorithm: "round_robin" });
  assert.deepEqual([1, 2, 3, 4].map(() => port(pool.pick())), ["3003", "3004", "3003", "3004"]);
  assert.equal(backups.length, 2);
});

Deno.test("PoolBalancer.pinned() drops a pin to a backup as soon as a primary recovers", () => {
  const { primaries, all } = primariesAndBackups();
  const pool = new PoolBalancer("api", all, {
    algorithm: "round_robin",
    sticky: { secret: "pool-secret-0123456789" },
  });
  primaries.forEach((u) => u.setHealthy(false));
  const onBackup = pool.pick();
  assert.equal(onBackup?.backup, true);
  const cookie = readCookie(pool.setCookieFor(onBackup!)!.split(";")[0], pool.stickyCookieName!);
  assert.equal(pool.pinned(cookie), onBackup, "stays on the backup during the outage");
  primaries[1]!.setHealthy(true);
  assert.equal(pool.pinned(cookie), undefined, "a primary is back: the pin is not honoured");
  assert.equal(pool.pick(), primaries[1]);
  assert.equal(pool.pinned("forged"), undefined);
});

Deno.test("PoolBalancer without sticky options pins nothing and sets no cookie", () => {
  const list = upstreams([1, 1]);
  const pool = new PoolBalancer("api", list, { algorithm: "round_robin" });
  assert.equal(pool.stickyCookieName, undefined);
  assert.equal(pool.pinned("anything"), undefined);
  assert.equal(pool.setCookieFor(list[0]!), undefined);
});

Deno.test("PoolBalancer.keyFor() computes the consistent-hash key from its hashKey spec", () => {
  const pool = new PoolBalancer("api", upstreams([1, 1, 1]), {
    algorithm: "consistent_hash",
    hashKey: "header:x-user",
  });
  const key = pool.keyFor({ clientIp: "127.0.0.1", path: "/", headers: new Headers({ "x-user": "bob" }) });
  assert.equal(key, "bob");
  const counts = tally(() => pool.pick({ key: key! }), 50);
  assert.equal(counts.size, 1);
});

Deno.test("PoolBalancer rejects an empty name, no upstreams, duplicates, an unknown algorithm or hash key", () => {
  const list = upstreams([1, 1]);
  assert.throws(() => new PoolBalancer("", list, { algorithm: "p2c" }), TypeError);
  assert.throws(() => new PoolBalancer("api", [], { algorithm: "p2c" }), RangeError);
  assert.throws(() => new PoolBalancer("api", [list[0]!, list[0]!], { algorithm: "p2c" }), TypeError);
  assert.throws(
    () => new PoolBalancer("api", list, { algorithm: "fastest" as BalancerAlgorithm }),
    TypeError,
  );
  assert.throws(
    () => new PoolBalancer("api", list, { algorithm: "consistent_hash", hashKey: "ip" as "client_ip" }),
    TypeError,
  );
});
