/** ConnectionPool against a real loopback listener: reuse, the connection limit and its queue, idle timeout. */
import assert from "node:assert/strict";
import { ProxyError } from "../../src/errors.ts";
import { ConnectionPool } from "../../src/transport/connection_pool.ts";
import type { ConnectionStats } from "../../src/upstream/upstream.ts";

function listen() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const loop = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted,
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop;
      for (const conn of accepted) conn.close();
    },
  };
}

function pool(port: number, options: Partial<ConstructorParameters<typeof ConnectionPool>[0]> = {}) {
  const stats: ConnectionStats = { idle: 0, active: 0, opened: 0, reused: 0, interim: 0 };
  const p = new ConnectionPool({
    connect: () => Deno.connect({ hostname: "127.0.0.1", port }),
    maxIdleConnections: 8,
    maxConnections: 0,
    queueTimeoutMs: 1_000,
    idleTimeoutMs: 4_000,
    connectTimeoutMs: 5_000,
    stats,
    ...options,
  });
  return { pool: p, stats };
}

Deno.test("a released reusable connection is handed out again; a non-reusable one is closed", async () => {
  await using server = listen();
  const { pool: p, stats } = pool(server.port);
  using _ = p;
  const first = await p.acquire();
  assert.equal(first.reused, false);
  p.release(first, true);
  assert.equal(stats.idle, 1);
  const again = await p.acquire();
  assert.equal(again, first);
  assert.equal(again.reused, true);
  assert.deepEqual(stats, { idle: 0, active: 1, opened: 1, reused: 1, interim: 0 });
  p.release(again, false);
  assert.equal(again.closed, true);
  assert.equal(p.openCount, 0);
  const fresh = await p.acquire();
  assert.notEqual(fresh, first);
  assert.equal(stats.opened, 2);
  p.release(fresh, false);
});

Deno.test("at max_connections a request waits for a released connection, else fails with pool_full", async () => {
  await using server = listen();
  const { pool: p } = pool(server.port, { maxConnections: 1, queueTimeoutMs: 50 });
  using _ = p;
  const held = await p.acquire();
  const waiting = p.acquire();
  p.release(held, true);
  const handed = await waiting;
  assert.equal(handed, held);
  await assert.rejects(p.acquire(), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.equal(error.kind, "pool_full");
    assert.equal(error.status, 503);
    return true;
  });
  // A destroyed connection frees its slot for a waiter, who opens a new one.
  const next = p.acquire();
  p.release(handed, false);
  const opened = await next;
  assert.notEqual(opened, handed);
  assert.equal(p.openCount, 1);
  p.release(opened, false);
});

Deno.test("idle connections are closed after idle_timeout; max_idle_connections caps the idle list", async () => {
  await using server = listen();
  const { pool: p, stats } = pool(server.port, { idleTimeoutMs: 30, maxIdleConnections: 1 });
  using _ = p;
  const a = await p.acquire();
  const b = await p.acquire();
  p.release(a, true);
  p.release(b, true);
  assert.equal(stats.idle, 1);
  assert.equal(b.closed, true, "over max_idle_connections: closed");
  for (let i = 0; i < 200 && stats.idle > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(stats.idle, 0);
  assert.equal(a.closed, true);
  assert.equal(p.openCount, 0);
});
