/**
 * Retries through the real proxy: only when safe (idempotent method, Idempotency-Key, or nothing reached the
 * upstream), always on another upstream, only with a replayable (small, buffered) body, and within the retry
 * budget. Upstreams count request heads, so "not retried" means "the second upstream never saw it".
 */
import assert from "node:assert/strict";
import { startProxy } from "../_support/proxy.ts";
import { type RawConnection, startRawUpstream } from "../_support/raw_upstream.ts";
import { startUpstream } from "../_support/upstream.ts";
import { refusedUrl } from "./_support.ts";
import { bothTransports } from "../_support/transports.ts";

/** Reads the request body announced by Content-Length (the raw helper reads only the head). */
async function readBody(connection: RawConnection, head: string): Promise<number> {
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
  let read = 0;
  while (read < length) {
    const chunk = await connection.read();
    if (chunk === undefined) break;
    read += chunk.length;
  }
  return read;
}

/** Two raw upstreams sharing one script state: the first `failures` requests (over both) are read and then the
 * connection is closed without an answer; later ones get 200. */
function flakyPair(failures: number) {
  let seen = 0;
  const script = async (connection: RawConnection) => {
    const head = await connection.readHead();
    if (!/transfer-encoding: *chunked/i.test(head)) await readBody(connection, head);
    if (seen++ < failures) return; // closed by the helper: no response head at all
    await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
  };
  const a = startRawUpstream(script);
  const b = startRawUpstream(script);
  return {
    a,
    b,
    heads: () => a.heads.length + b.heads.length,
    async [Symbol.asyncDispose]() {
      await a.close();
      await b.close();
    },
  };
}

function config(urls: readonly string[], retries = "{}"): string {
  return [
    "server: { port: 0 }",
    `backends: [${urls.map((u) => `"${u}"`).join(", ")}]`,
    "circuit_breaker: off",
    `retries: ${retries}`,
  ].join("\n");
}

bothTransports("a GET refused by one upstream is retried on another and the client sees 200", async () => {
  await using good = startUpstream();
  const refused = refusedUrl();
  await using proxy = startProxy(config([refused, good.url], "{ backoff: 1ms }"));
  // Round robin alternates first picks, so at least one of these starts on the refused upstream.
  for (let i = 0; i < 4; i++) {
    const response = await fetch(proxy.url);
    assert.equal(response.status, 200, await response.text());
  }
  assert.equal(good.received.length, 4);

  await using noRetries = startProxy(config([refused, good.url], "off"));
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const response = await fetch(noRetries.url);
    await response.body?.cancel();
    statuses.push(response.status);
  }
  assert.ok(statuses.includes(502), `without retries the refused picks surface: ${statuses}`);
});

bothTransports(
  "a POST without Idempotency-Key whose connection closed after it was sent is not retried (502)",
  async () => {
    await using pair = flakyPair(1);
    await using proxy = startProxy(config([pair.a.url, pair.b.url], "{ backoff: 1ms }"));
    const response = await fetch(proxy.url, { method: "POST", body: "charge the card" });
    assert.equal(response.status, 502, await response.text());
    assert.equal(pair.heads(), 1, "the request must reach an upstream only once");
  },
);

bothTransports(
  "a POST with Idempotency-Key is retried on the other upstream after the connection closed",
  async () => {
    await using pair = flakyPair(1);
    await using proxy = startProxy(config([pair.a.url, pair.b.url], "{ backoff: 1ms }"));
    const response = await fetch(proxy.url, {
      method: "POST",
      body: "charge the card",
      headers: { "idempotency-key": "8e03978e-40d5-43e8-bc93-6894a57f9324" },
    });
    assert.equal(response.status, 200, await response.text());
    assert.equal(pair.a.heads.length, 1, "one attempt on each upstream: a retry goes elsewhere");
    assert.equal(pair.b.heads.length, 1);
    assert.match(pair.b.heads[0]!, /\r\ncontent-length: 15\r\n/i, "the replayed body is complete");
  },
);

bothTransports(
  "a PUT body within max_buffered_body is replayed; a larger or chunked one is not retried",
  async () => {
    const small = "x".repeat(1024);
    const large = "x".repeat(1025);
    const retries = "{ max_buffered_body: 1024, backoff: 1ms }";
    {
      await using pair = flakyPair(1);
      await using proxy = startProxy(config([pair.a.url, pair.b.url], retries));
      const response = await fetch(proxy.url, { method: "PUT", body: small });
      assert.equal(response.status, 200, await response.text());
      assert.equal(pair.heads(), 2);
    }
    {
      await using pair = flakyPair(1);
      await using proxy = startProxy(config([pair.a.url, pair.b.url], retries));
      const response = await fetch(proxy.url, { method: "PUT", body: large });
      assert.equal(response.status, 502, await response.text());
      assert.equal(pair.heads(), 1, "a body over the cap streams through once and is not retried");
    }
    {
      await using pair = flakyPair(1);
      await using proxy = startProxy(config([pair.a.url, pair.b.url], retries));
      const body = ReadableStream.from([new TextEncoder().encode("tiny but chunked")]);
      const response = await fetch(proxy.url, { method: "PUT", body });
      assert.equal(response.status, 502, await response.text());
      assert.equal(pair.heads(), 1, "a body of unknown length is not buffered, so not retried");
    }
  },
);

bothTransports("once the retry budget is spent, failing requests are no longer retried", async () => {
  await using pair = flakyPair(Infinity);
  await using proxy = startProxy(
    config([pair.a.url, pair.b.url], "{ budget: 0%, budget_min: 2, backoff: 1ms }"),
  );
  const heads: number[] = [];
  for (let i = 0; i < 4; i++) {
    const response = await fetch(proxy.url);
    assert.equal(response.status, 502, await response.text());
    heads.push(pair.heads());
  }
  assert.deepEqual(heads, [2, 4, 5, 6], "two retries allowed, then single attempts");
});

bothTransports("retries.attempts: 2 tries a third upstream, never one already tried", async () => {
  await using pair = flakyPair(2);
  await using good = startUpstream();
  await using proxy = startProxy(config([pair.a.url, pair.b.url, good.url], "{ attempts: 2, backoff: 1ms }"));
  // Round robin starts at the first backend, so the first request fails on a, then on b, then reaches good.
  const response = await fetch(proxy.url);
  assert.equal(response.status, 200, await response.text());
  assert.deepEqual([pair.a.heads.length, pair.b.heads.length, good.received.length], [1, 1, 1]);
});
