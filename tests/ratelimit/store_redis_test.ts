import assert from "node:assert/strict";
import { createClient } from "@redis/client";
import { RedisRateLimitStore, type RedisStateChange } from "../../src/ratelimit/store_redis.ts";
import { RedisServer } from "../_support/redis_server.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Redis server clock in ms, the same clock the script uses. */
async function serverTimeMs(url: string): Promise<number> {
  const client = createClient({ url, maintNotifications: "disabled" });
  await client.connect();
  try {
    const [s, us] = (await client.sendCommand(["TIME"])) as [string, string];
    return Number(s) * 1000 + Number(us) / 1000;
  } finally {
    client.destroy();
  }
}

/** Retries `take` until Redis answers again (state "up"), bounded by attempts, not time. */
async function untilUp(store: RedisRateLimitStore): Promise<void> {
  const isUp = () => store.state === "up";
  for (let i = 0; i < 300 && !isUp(); i++) {
    await store.take("probe");
    if (!isUp()) await delay(20);
  }
}

Deno.test("RedisRateLimitStore allows a burst then refuses, per key", async () => {
  await using server = await RedisServer.start();
  await using store = new RedisRateLimitStore({ url: server.url, ratePerSecond: 0.001, burst: 3 });
  await store.connect();
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await store.take("a"));
  assert.deepEqual(results.map((d) => d.allowed), [true, true, true, false]);
  assert.deepEqual(results.map((d) => d.remaining), [2, 1, 0, 0]);
  assert.ok(results[3]!.retryAfterMs > 900_000, "one token at 0.001/s takes ~1000 s");
  assert.equal((await store.take("b")).allowed, true, "another key has its own bucket");
  assert.equal(store.state, "up");
  assert.equal(store.errors, 0);
});

Deno.test("RedisRateLimitStore sets a TTL so idle buckets expire once full", async () => {
  await using server = await RedisServer.start();
  await using store = new RedisRateLimitStore({
    url: server.url,
    ratePerSecond: 10,
    burst: 5,
    keyPrefix: "t:",
  });
  await store.connect();
  await store.take("k", 2);
  const client = createClient({ url: server.url, maintNotifications: "disabled" });
  await client.connect();
  try {
    const ttl = Number(await client.sendCommand(["PTTL", "t:k"]));
    assert.ok(ttl > 0 && ttl <= 200, `expected a TTL of at most the 200 ms refill time, got ${ttl}`);
  } finally {
    client.destroy();
  }
});

Deno.test("RedisRateLimitStore reloads its script after the server forgets it (NOSCRIPT)", async () => {
  await using server = await RedisServer.start();
  await using store = new RedisRateLimitStore({ url: server.url, ratePerSecond: 0.001, burst: 2 });
  await store.connect();
  assert.ok((await store.take("a")).allowed);
  const client = createClient({ url: server.url, maintNotifications: "disabled" });
  await client.connect();
  await client.sendCommand(["SCRIPT", "FLUSH"]);
  client.destroy();
  const second = await store.take("a");
  assert.equal(second.allowed, true);
  assert.equal(second.remaining, 0, "state survived: the script ran, not the fallback");
  assert.equal(store.errors, 0);
});

Deno.test("RedisRateLimitStore instances share one limit atomically under concurrency", async () => {
  await using server = await RedisServer.start();
  const ratePerSecond = 200, burst = 50, instances = 4, workersPerInstance = 8;
  const stores = Array.from(
    { length: instances },
    () => new RedisRateLimitStore({ url: server.url, ratePerSecond, burst, timeoutMs: 1000 }),
  );
  try {
    await Promise.all(stores.map((s) => s.connect()));
    const start = await serverTimeMs(server.url);
    let allowed = 0, refused = 0;
    const worker = async (store: RedisRateLimitStore) => {
      for (let i = 0; i < 250; i++) {
        const d = await store.take("shared");
        if (d.allowed) allowed++;
        else refused++;
      }
    };
    await Promise.all(stores.flatMap((s) => Array.from({ length: workersPerInstance }, () => worker(s))));
    const elapsedS = ((await serverTimeMs(server.url)) - start) / 1000;
    const expected = burst + ratePerSecond * elapsedS;
    assert.ok(refused > 0, "the load exceeded the limit");
    assert.ok(
      Math.abs(allowed - expected) <= expected * 0.05,
      `allowed ${allowed}, expected ${expected.toFixed(1)} ± 5 % over ${elapsedS.toFixed(3)} s`,
    );
    assert.ok(stores.every((s) => s.errors === 0));
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

Deno.test("RedisRateLimitStore fails open while Redis is down and recovers when it returns", async () => {
  await using server = await RedisServer.start();
  const changes: RedisStateChange[] = [];
  await using store = new RedisRateLimitStore({
    url: server.url,
    ratePerSecond: 0.001,
    burst: 1,
    maxReconnectDelayMs: 50,
    onStateChange: (change) => changes.push(change),
  });
  await store.connect();
  assert.ok((await store.take("a")).allowed);
  assert.equal((await store.take("a")).allowed, false);

  await server.stop();
  for (let i = 0; i < 5; i++) {
    const d = await store.take("a");
    assert.equal(d.allowed, true, "fail open lets requests through");
  }
  assert.equal(store.state, "down");
  assert.ok(store.fallbacks >= 5);
  assert.deepEqual(changes.map((c) => c.state), ["up", "down"], "logged once per transition");
  assert.ok(changes[1]!.error);

  await server.start(); // same port, empty data set
  await untilUp(store);
  assert.equal(store.state, "up");
  assert.deepEqual(changes.map((c) => c.state), ["up", "down", "up"]);
  assert.ok((await store.take("a")).allowed, "fresh bucket after the restart");
  assert.equal((await store.take("a")).allowed, false, "limiting works again");
});

Deno.test("RedisRateLimitStore fails closed when configured to", async () => {
  await using server = await RedisServer.start();
  await using store = new RedisRateLimitStore({
    url: server.url,
    ratePerSecond: 100,
    burst: 100,
    failureMode: "closed",
    closedRetryAfterMs: 2000,
  });
  await store.connect();
  assert.ok((await store.take("a")).allowed);
  await server.stop();
  const refused = await store.take("a");
  assert.equal(refused.allowed, false);
  assert.equal(refused.retryAfterMs, 2000);
  assert.equal(store.state, "down");
});

Deno.test("RedisRateLimitStore answers within its timeout when Redis hangs", async () => {
  await using server = await RedisServer.start();
  await using store = new RedisRateLimitStore({ url: server.url, ratePerSecond: 1, burst: 1, timeoutMs: 50 });
  await store.connect();
  const admin = createClient({ url: server.url, maintNotifications: "disabled" });
  await admin.connect();
  try {
    // CLIENT PAUSE stalls every other client's commands server-side, like a hung Redis.
    await admin.sendCommand(["CLIENT", "PAUSE", "400", "ALL"]);
    const d = await store.take("a");
    assert.equal(d.allowed, true, "failed open instead of waiting");
    assert.equal(store.timeouts, 1);
    assert.equal(store.state, "down");
    await admin.sendCommand(["CLIENT", "UNPAUSE"]);
    await untilUp(store);
    assert.equal(store.state, "up");
  } finally {
    admin.destroy();
  }
});

Deno.test("RedisRateLimitStore validates its options", () => {
  const base = { ratePerSecond: 1, burst: 1 };
  assert.throws(() => new RedisRateLimitStore({ ...base, timeoutMs: 0 }), RangeError);
  assert.throws(() => new RedisRateLimitStore({ ...base, url: "http://x" }), TypeError);
  assert.throws(
    () => new RedisRateLimitStore({ ...base, failureMode: "maybe" as unknown as "open" }),
    TypeError,
  );
  assert.throws(() => new RedisRateLimitStore({ ratePerSecond: 0, burst: 1 }), RangeError);
});
