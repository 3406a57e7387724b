/**
 * Stale pooled connections: an upstream that closes idle keep-alive connections after 1 s, behind a proxy
 * whose idle_timeout is longer. A reused connection that fails before the first response byte is retried once
 * on a fresh connection when the request is idempotent or carries Idempotency-Key (retries are off here, so
 * this retry is not the retry budget's); a POST whose bytes went out on it gets 502 and is never sent twice.
 */
import assert from "node:assert/strict";
import { startProxy } from "../_support/proxy.ts";
import { type RawConnection, rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";
import { metricSum, rawGet, sleep, transportConfig } from "./_support.ts";

const decoder = new TextDecoder();
const UPSTREAM_IDLE_MS = 1_000;

/** Resolves with the next head, or undefined when `ms` pass first (the connection then counts as idle). */
async function headWithin(connection: RawConnection, ms: number): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms));
  try {
    return await Promise.race([connection.readHead(), idle]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a Content-Length body of a request whose head was just read. */
async function readBody(connection: RawConnection, head: string): Promise<string> {
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
  let body = "";
  while (body.length < length) {
    const chunk = await connection.read();
    if (chunk === undefined) break;
    body += decoder.decode(chunk);
  }
  return body;
}

/** An upstream that answers keep-alive and closes a connection idle for 1 s; `requests` lists "METHOD path". */
function closingIdleUpstream() {
  const requests: string[] = [];
  const upstream = startRawUpstream(async (connection) => {
    let first = true;
    while (true) {
      const head = first ? await connection.readHead() : await headWithin(connection, UPSTREAM_IDLE_MS);
      first = false;
      if (head === undefined) return; // idle too long: close, as a keep-alive timeout would
      const body = await readBody(connection, head);
      requests.push(head.split(" ").slice(0, 2).join(" "));
      await connection.write(`HTTP/1.1 200 OK\r\ncontent-length: ${2 + body.length}\r\n\r\nok${body}`);
    }
  });
  return { upstream, requests };
}

const CONFIG = { server: "first_byte_timeout: 5s", pool: ["idle_timeout: 30s"] } as const;

function post(port: number, path: string, body: string, extra: readonly string[] = []): string {
  return [
    `POST ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Connection: close",
    "Content-Type: text/plain",
    `Content-Length: ${body.length}`,
    ...extra,
    "",
    body,
  ].join("\r\n");
}

Deno.test("a GET after the upstream closed the idle pooled connection succeeds on a fresh connection", async () => {
  const { upstream, requests } = closingIdleUpstream();
  await using _upstream = upstream;
  await using proxy = startProxy(transportConfig([upstream.url], CONFIG));

  const first = await rawRequest(proxy.port, rawGet(proxy.port, "/one"));
  assert.equal(first.status, 200);
  await sleep(UPSTREAM_IDLE_MS + 500);
  const second = await rawRequest(proxy.port, rawGet(proxy.port, "/two"));

  assert.equal(second.status, 200, second.head);
  assert.equal(decoder.decode(second.body), "ok");
  assert.equal(upstream.accepted(), 2);
  assert.deepEqual(requests, ["GET /one", "GET /two"]);
  // Retries are off: the stale-connection retry is not a budgeted retry.
  assert.equal(metricSum(proxy, "proxy_retries_total"), 0);
});

Deno.test("several stale pooled connections do not fail the requests that pick them", async () => {
  const { upstream, requests } = closingIdleUpstream();
  await using _upstream = upstream;
  await using proxy = startProxy(transportConfig([upstream.url], CONFIG));

  const warm = await Promise.all(
    [1, 2, 3].map((i) => rawRequest(proxy.port, rawGet(proxy.port, `/warm${i}`))),
  );
  assert.deepEqual(warm.map((r) => r.status), [200, 200, 200]);
  await sleep(UPSTREAM_IDLE_MS + 500);
  const after = await Promise.all(
    [1, 2, 3].map((i) => rawRequest(proxy.port, rawGet(proxy.port, `/after${i}`))),
  );

  assert.deepEqual(after.map((r) => r.status), [200, 200, 200]);
  assert.equal(requests.filter((r) => r.startsWith("GET /after")).length, 3);
});

// With `retries: off` nothing upstream of the forwarder buffers the body; the forwarder reads a body of at most
// 64 KiB with a Content-Length whole, so the stale-connection retry can send it again on a fresh connection.
Deno.test("a POST with Idempotency-Key after the idle close succeeds and reaches the upstream once", async () => {
  const { upstream, requests } = closingIdleUpstream();
  await using _upstream = upstream;
  await using proxy = startProxy(transportConfig([upstream.url], CONFIG));

  assert.equal((await rawRequest(proxy.port, rawGet(proxy.port, "/one"))).status, 200);
  await sleep(UPSTREAM_IDLE_MS + 500);
  const response = await rawRequest(proxy.port, post(proxy.port, "/pay", "hello", ["Idempotency-Key: k-1"]));

  assert.equal(response.status, 200, response.head + decoder.decode(response.body));
  assert.equal(decoder.decode(response.body), "okhello");
  assert.deepEqual(requests, ["GET /one", "POST /pay"]);
});

Deno.test("a POST without Idempotency-Key on a stale connection is never sent twice: 502, or 200 once", async () => {
  const { upstream, requests } = closingIdleUpstream();
  await using _upstream = upstream;
  await using proxy = startProxy(transportConfig([upstream.url], CONFIG));

  assert.equal((await rawRequest(proxy.port, rawGet(proxy.port, "/one"))).status, 200);
  await sleep(UPSTREAM_IDLE_MS + 500);
  const response = await rawRequest(proxy.port, post(proxy.port, "/order", "hello"));

  const posts = requests.filter((r) => r === "POST /order").length;
  // The rule: its bytes were written on the reused connection, so no retry → 502. A proxy that noticed the
  // idle close before picking the connection sends it once on a fresh one → 200. Never twice, never a 500.
  if (response.status === 502) assert.equal(posts, 0);
  else {
    assert.equal(response.status, 200, response.head);
    assert.equal(posts, 1);
  }
  assert.deepEqual(proxy.errors, []);
});
