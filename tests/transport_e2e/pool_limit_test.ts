/**
 * The per-upstream connection pool: max_connections with a bounded queue (then 503 + Retry-After),
 * keep-alive reuse with the opened/reused counters, max_idle_connections and idle_timeout.
 */
import assert from "node:assert/strict";
import { startProxy, type TestProxy } from "../_support/proxy.ts";
import { rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";
import { metricSum, rawGet, sleep, transportConfig } from "./_support.ts";

const decoder = new TextDecoder();

/** Polls `condition` every 25 ms for at most `ms`; returns whether it became true. */
async function eventually(condition: () => boolean, ms = 5_000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 25) {
    if (condition()) return true;
    await sleep(25);
  }
  return condition();
}

function gauge(proxy: TestProxy, state: "idle" | "active"): number {
  return metricSum(proxy, "proxy_upstream_connections", { state });
}

/** A keep-alive upstream that holds each answer until `release` resolves (immediately once released). */
function heldUpstream() {
  const release = Promise.withResolvers<void>();
  const upstream = startRawUpstream(async (connection) => {
    while (true) {
      await connection.readHead();
      await release.promise;
      await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  return { upstream, release };
}

Deno.test("max_connections: 1 — a second concurrent request waits queue_timeout, then 503 with Retry-After", async () => {
  const { upstream, release } = heldUpstream();
  await using _upstream = upstream;
  await using proxy = startProxy(
    transportConfig([upstream.url], {
      server: "first_byte_timeout: 20s",
      pool: ["max_connections: 1", "queue_timeout: 200ms"],
    }),
  );

  const slow = rawRequest(proxy.port, rawGet(proxy.port, "/slow"), 30_000);
  try {
    assert.ok(
      await eventually(() => upstream.heads.length === 1),
      "first request never reached the upstream",
    );
    const queued = await fetch(`${proxy.url}/queued`);
    const body = await queued.text();

    assert.equal(queued.status, 503, body);
    assert.ok(
      Number(queued.headers.get("retry-after")) >= 1,
      `retry-after: ${queued.headers.get("retry-after")}`,
    );
    assert.equal(upstream.heads.length, 1, "the queued request reached the upstream past the limit");
    assert.equal(upstream.accepted(), 1);
  } finally {
    release.resolve();
  }
  const first = await slow;
  assert.equal(first.status, 200);
  assert.equal(decoder.decode(first.body), "ok");
});

Deno.test("max_connections: 1 — a queued request runs once the connection is free, over that connection", async () => {
  const { upstream, release } = heldUpstream();
  await using _upstream = upstream;
  await using proxy = startProxy(
    transportConfig([upstream.url], {
      server: "first_byte_timeout: 20s",
      pool: ["max_connections: 1", "queue_timeout: 10s"],
    }),
  );

  const first = rawRequest(proxy.port, rawGet(proxy.port, "/a"), 30_000);
  assert.ok(await eventually(() => upstream.heads.length === 1));
  const second = rawRequest(proxy.port, rawGet(proxy.port, "/b"), 30_000);
  await sleep(100);
  // Still one upstream request: the second waits for the only connection.
  assert.equal(upstream.heads.length, 1);
  release.resolve();

  const responses = await Promise.all([first, second]);
  assert.deepEqual(responses.map((r) => r.status), [200, 200]);
  assert.equal(upstream.accepted(), 1);
  assert.equal(metricSum(proxy, "proxy_upstream_connections_opened_total"), 1);
  assert.ok(metricSum(proxy, "proxy_upstream_connections_reused_total") >= 1);
});

Deno.test("fast upstream, max_connections: 1 — concurrent requests all succeed over one connection", async () => {
  const { upstream, release } = heldUpstream();
  release.resolve();
  await using _upstream = upstream;
  await using proxy = startProxy(
    transportConfig([upstream.url], { pool: ["max_connections: 1", "queue_timeout: 5s"] }),
  );

  const responses = await Promise.all(
    [1, 2, 3, 4].map((i) => rawRequest(proxy.port, rawGet(proxy.port, `/f${i}`), 30_000)),
  );

  assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 200]);
  assert.equal(upstream.accepted(), 1);
  assert.equal(metricSum(proxy, "proxy_upstream_connections_opened_total"), 1);
  assert.ok(metricSum(proxy, "proxy_upstream_connections_reused_total") >= 3);
  assert.ok(await eventually(() => gauge(proxy, "idle") === 1 && gauge(proxy, "active") === 0));
});

Deno.test("sequential requests reuse one keep-alive connection and the gauges show it idle between them", async () => {
  const { upstream, release } = heldUpstream();
  release.resolve();
  await using _upstream = upstream;
  await using proxy = startProxy(transportConfig([upstream.url]));

  for (let i = 0; i < 3; i++) {
    assert.equal((await rawRequest(proxy.port, rawGet(proxy.port, `/s${i}`))).status, 200);
    assert.ok(await eventually(() => gauge(proxy, "idle") === 1), "connection not back in the pool");
  }
  assert.equal(upstream.accepted(), 1);
  assert.equal(metricSum(proxy, "proxy_upstream_connections_opened_total"), 1);
  assert.equal(metricSum(proxy, "proxy_upstream_connections_reused_total"), 2);
});

Deno.test("the active gauge counts a connection while its request is in flight", async () => {
  const { upstream, release } = heldUpstream();
  await using _upstream = upstream;
  await using proxy = startProxy(transportConfig([upstream.url], { server: "first_byte_timeout: 20s" }));

  const pending = rawRequest(proxy.port, rawGet(proxy.port, "/busy"), 30_000);
  try {
    assert.ok(await eventually(() => upstream.heads.length === 1));
    assert.equal(gauge(proxy, "active"), 1);
    assert.equal(gauge(proxy, "idle"), 0);
  } finally {
    release.resolve();
  }
  assert.equal((await pending).status, 200);
});

Deno.test("max_idle_connections: 1 keeps one of two finished connections and closes the other", async () => {
  const { upstream, release } = heldUpstream();
  await using _upstream = upstream;
  await using proxy = startProxy(
    transportConfig([upstream.url], { server: "first_byte_timeout: 20s", pool: ["max_idle_connections: 1"] }),
  );

  const both = [1, 2].map((i) => rawRequest(proxy.port, rawGet(proxy.port, `/m${i}`), 30_000));
  assert.ok(await eventually(() => upstream.heads.length === 2), "two concurrent requests, two connections");
  release.resolve();
  assert.deepEqual((await Promise.all(both)).map((r) => r.status), [200, 200]);

  assert.equal(upstream.accepted(), 2);
  assert.ok(await eventually(() => gauge(proxy, "idle") === 1 && gauge(proxy, "active") === 0));
});

Deno.test("idle_timeout closes an idle pooled connection; the next request opens a new one", async () => {
  let closed = false;
  await using upstream = startRawUpstream(async (connection) => {
    try {
      while (true) {
        await connection.readHead();
        await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      }
    } finally {
      closed = true;
    }
  });
  await using proxy = startProxy(transportConfig([upstream.url], { pool: ["idle_timeout: 300ms"] }));

  assert.equal((await rawRequest(proxy.port, rawGet(proxy.port, "/one"))).status, 200);
  // The proxy closes the idle connection by itself (the upstream never would).
  assert.ok(await eventually(() => closed, 10_000), "the idle connection was never closed");
  assert.ok(await eventually(() => gauge(proxy, "idle") === 0));
  assert.equal((await rawRequest(proxy.port, rawGet(proxy.port, "/two"))).status, 200);
  assert.equal(upstream.accepted(), 2);
  assert.equal(metricSum(proxy, "proxy_upstream_connections_opened_total"), 2);
});
