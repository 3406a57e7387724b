/**
 * Killing an upstream under load. Three upstreams on loopback count every request by its unique id; 16 clients
 * send requests through the proxy for about 3 s (bounded in count too), and one upstream is shut down halfway.
 *
 * - GET (idempotent, retried on another upstream): no client request fails.
 * - POST without Idempotency-Key: failures are allowed (a request in flight on the dying upstream may have
 *   been processed), duplicates are not: no id may reach the upstreams twice.
 */
import assert from "node:assert/strict";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream, type TestUpstream } from "../_support/upstream.ts";
import { sleep } from "./_support.ts";

const CLIENTS = 16;
const DURATION_MS = 3_000;
const MAX_REQUESTS = 20_000;

interface LoadResult {
  sent: number;
  ok: number;
  failed: { id: string; status: number | string }[];
  seen: Map<string, number>;
  byUpstream: number[];
  beforeKill: number;
}

async function loadWithKill(method: "GET" | "POST"): Promise<LoadResult> {
  const seen = new Map<string, number>();
  const count = (id: string | null) => id !== null && seen.set(id, (seen.get(id) ?? 0) + 1);
  const upstreams: TestUpstream[] = [];
  for (let i = 0; i < 3; i++) {
    upstreams.push(startUpstream(async (request) => {
      count(method === "GET" ? request.headers.get("x-test-id") : await request.text());
      await sleep(1); // keep requests in flight when the upstream goes away
      return new Response("ok");
    }));
  }
  const byUpstream = () => upstreams.map((u) => u.received.length);
  try {
    await using proxy = startProxy(
      [
        "server: { port: 0 }",
        "backends:",
        ...upstreams.map((u) => `  - "${u.url}"`),
      ].join("\n"),
      { log: () => {} },
    );
    const result: LoadResult = { sent: 0, ok: 0, failed: [], seen, byUpstream: [], beforeKill: 0 };
    const start = performance.now();
    const client = async (n: number) => {
      for (let i = 0; performance.now() - start < DURATION_MS && result.sent < MAX_REQUESTS; i++) {
        const id = `${method}-${n}-${i}`;
        result.sent++;
        try {
          const response = method === "GET"
            ? await fetch(`${proxy.url}/item`, { headers: { "x-test-id": id } })
            : await fetch(`${proxy.url}/item`, { method: "POST", body: id });
          const body = await response.text();
          if (response.status === 200 && body === "ok") result.ok++;
          else result.failed.push({ id, status: response.status });
        } catch (error) {
          result.failed.push({ id, status: String(error) });
        }
      }
    };
    const kill = (async () => {
      await sleep(DURATION_MS / 2);
      result.beforeKill = upstreams[1]!.received.length;
      await upstreams[1]!.close();
    })();
    await Promise.all([...Array.from({ length: CLIENTS }, (_, n) => client(n)), kill]);
    result.byUpstream = byUpstream();
    return result;
  } finally {
    await Promise.all(upstreams.map((u) => u.close()));
  }
}

function duplicates(seen: ReadonlyMap<string, number>): string[] {
  return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
}

Deno.test("GETs under load lose no request when one of three upstreams is shut down midway", async () => {
  const result = await loadWithKill("GET");
  const [first, killed, third] = result.byUpstream as [number, number, number];
  console.log(`GET: ${result.sent} sent, ${result.failed.length} failed, per upstream ${result.byUpstream}`);
  assert.deepEqual(result.failed, []);
  assert.equal(result.ok, result.sent);
  assert.ok(result.beforeKill > 0, "the killed upstream took traffic before it went away");
  assert.ok(first > killed && third > killed, `the survivors took the rest: ${result.byUpstream}`);
  assert.equal(result.seen.size, result.sent, "every request reached an upstream");
});

Deno.test("POSTs without Idempotency-Key under the same kill are never sent twice", async () => {
  const result = await loadWithKill("POST");
  console.log(
    `POST: ${result.sent} sent, ${result.failed.length} failed (${[
      ...new Set(result.failed.map((f) => f.status)),
    ]}), per upstream ${result.byUpstream}`,
  );
  assert.deepEqual(duplicates(result.seen), [], "no request id reached the upstreams twice");
  assert.ok(result.beforeKill > 0);
  // Every request answered 200 was processed exactly once.
  assert.equal(result.ok + result.failed.length, result.sent);
  assert.ok(result.seen.size >= result.ok);
});
