/** The connection guard over raw sockets: slowloris 408, 431, bare LF, the connection cap, peer address. */
import assert from "node:assert/strict";
import { ConnectionGuard } from "../../src/edge/connection_guard.ts";
import { rawExchange, rawRequest } from "../_support/raw_upstream.ts";

function start(
  options: { headerTimeoutMs?: number; maxConnections?: number; perClient?: number; idleTimeoutMs?: number } =
    {},
): ConnectionGuard {
  return new ConnectionGuard({
    hostname: "127.0.0.1",
    port: 0,
    headerTimeoutMs: options.headerTimeoutMs ?? 10_000,
    maxHeaderCount: 100,
    maxHeadBytes: 32 * 1024,
    maxConnections: options.maxConnections ?? 0,
    maxConnectionsPerClient: options.perClient ?? 0,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
  }, (request, info) => new Response(`${info.remoteAddr.hostname} ${request.headers.get("x-edge-peer")}`));
}

Deno.test("the app sees the client's address, and a client copy of the guard's field is dropped", async () => {
  await using guard = start();
  const response = await rawRequest(
    guard.addr.port,
    "GET / HTTP/1.1\r\nHost: a\r\nX-Edge-Peer: 6.6.6.6 1\r\n\r\n",
  );
  assert.equal(response.status, 200);
  assert.match(new TextDecoder().decode(response.body), /^127\.0\.0\.1 127\.0\.0\.1 \d+$/);
});

Deno.test("a head that does not complete within header_timeout gets 408 and the connection is closed", async () => {
  await using guard = start({ headerTimeoutMs: 200 });
  const text = await rawExchange(guard.addr.port, "GET / HTTP/1.1\r\nHost: a\r\n", 5_000);
  assert.match(text, /^HTTP\/1\.1 408 /);
  assert.match(text, /connection: close/);
});

Deno.test("more than 100 header lines get 431; bare LF and bad chunk-ext get 400; each closes", async () => {
  await using guard = start();
  const many = `GET / HTTP/1.1\r\nHost: a\r\n${"x: y\r\n".repeat(120)}\r\n`;
  assert.match(await rawExchange(guard.addr.port, many), /^HTTP\/1\.1 431 /);
  assert.match(await rawExchange(guard.addr.port, "GET / HTTP/1.1\nHost: a\n\n"), /^HTTP\/1\.1 400 /);
  const ext = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;\r\nab\r\n0\r\n\r\n";
  const text = await rawExchange(guard.addr.port, ext);
  assert.match(text, /400 Bad Request/);
});

Deno.test("at max_connections the next connection gets 503 and is closed", async () => {
  await using guard = start({ maxConnections: 1 });
  const held = await Deno.connect({ hostname: "127.0.0.1", port: guard.addr.port });
  try {
    while (guard.open < 1) await new Promise((r) => setTimeout(r, 5));
    assert.match(await rawExchange(guard.addr.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), /^HTTP\/1\.1 503 /);
  } finally {
    held.close();
  }
});

Deno.test("at max_connections_per_client the same IP's next connection gets 503", async () => {
  await using guard = start({ perClient: 1 });
  const held = await Deno.connect({ hostname: "127.0.0.1", port: guard.addr.port });
  try {
    while (guard.open < 1) await new Promise((r) => setTimeout(r, 5));
    assert.match(await rawExchange(guard.addr.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), /^HTTP\/1\.1 503 /);
  } finally {
    held.close();
  }
});

Deno.test("an idle keep-alive connection is closed after idle_timeout", async () => {
  await using guard = start({ idleTimeoutMs: 200 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: guard.addr.port });
  try {
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    const buffer = new Uint8Array(4096);
    let text = "";
    while (true) { // the response, then EOF when the guard closes the idle connection
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.equal(guard.open <= 1, true);
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
});
