/** The connection guard over raw sockets: slowloris 408, 431, bare LF, the connection cap, peer address. */
import assert from "node:assert/strict";
import { ConnectionGuard } from "../../src/edge/connection_guard.ts";
import { rawExchange } from "../_support/raw_upstream.ts";

interface StartOptions {
  headerTimeoutMs?: number;
  maxConnections?: number;
  perClient?: number;
  idleTimeoutMs?: number;
  /** The app behind the guard; default: echoes the peer address and `X-Edge-Peer`, `/close` says close. */
  handler?: Deno.ServeHandler<Deno.NetAddr>;
}

function start(options: StartOptions = {}): ConnectionGuard {
  return new ConnectionGuard(
    {
      hostname: "127.0.0.1",
      port: 0,
      headerTimeoutMs: options.headerTimeoutMs ?? 10_000,
      maxHeaderCount: 100,
      maxHeadBytes: 32 * 1024,
      maxConnections: options.maxConnections ?? 0,
      maxConnectionsPerClient: options.perClient ?? 0,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    },
    options.handler ?? ((request, info) =>
      new Response(
        `${info.remoteAddr.hostname} ${info.remoteAddr.port} ${request.headers.get("x-edge-peer")}`,
        {
          headers: new URL(request.url).pathname === "/close" ? { connection: "close" } : {},
        },
      )),
  );
}

Deno.test("the app sees the client's address and port; a client's X-Edge-Peer is an ordinary field", async () => {
  await using guard = start();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: guard.addr.port });
  try {
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\nX-Edge-Peer: 6.6.6.6 1\r\n\r\n"));
    const text = await readUntil(conn, /6\.6\.6\.6 1$/);
    assert.match(
      text,
      new RegExp(`^HTTP/1\\.1 200 [^]*\\r\\n\\r\\n127\\.0\\.0\\.1 ${conn.localAddr.port} 6`),
    );
  } finally {
    conn.close();
  }
});

Deno.test("a connection to the inner port that the guard did not open gets 403", async () => {
  await using guard = start();
  const text = await rawExchange(guard.innerPort, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.match(text, /^HTTP\/1\.1 403 /);
});

Deno.test("after a response with Connection: close the connection is closed; the next request is not served", async () => {
  let served = 0;
  await using guard = start({
    handler: () => new Response(`served ${++served}`, { headers: { connection: "close" } }),
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: guard.addr.port });
  try {
    await conn.write(new TextEncoder().encode("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert.match(await readUntil(conn, /served 1$/), /^HTTP\/1\.1 200 [^]*served 1$/);
    await conn.write(new TextEncoder().encode("GET /b HTTP/1.1\r\nHost: a\r\n\r\n")).catch(() => 0);
    assert.equal(
      await readUntil(conn, /served 2$/),
      "",
      "the connection stayed open after Connection: close",
    );
  } finally {
    conn.close();
  }
  assert.equal(served, 1);
});

Deno.test("a request pipelined behind a Connection: close answer is dropped, not served", async () => {
  let served = 0;
  await using guard = start({
    handler: async () => {
      await new Promise((resolve) => setTimeout(resolve, 20)); // the second request is in the guard by then
      return new Response(`served ${++served}`, { headers: { connection: "close" } });
    },
  });
  const text = await exchangeToEof(
    guard.addr.port,
    "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n",
  );
  assert.match(text, /^HTTP\/1\.1 200 [^]*served 1$/); // and nothing after it: the connection closed
  await new Promise((resolve) => setTimeout(resolve, 50)); // a served /b would have run by now
  assert.equal(served, 1);
});

Deno.test("an invalid head pipelined behind a valid request is answered 400 after that request's answer", async () => {
  await using guard = start();
  const text = await exchangeToEof(
    guard.addr.port,
    "GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /bad HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n",
  );
  // The first answer whole, then the 400, then the close: never the 400 first or in the middle.
  assert.match(text, /^HTTP\/1\.1 200 [^]*\r\n\r\n127\.0\.0\.1 \d+ null(HTTP\/1\.1 400 [^]*)$/);
  assert.equal(text.match(/HTTP\/1\.1 /g)?.length, 2);
});

/** Sends `request` and reads everything until the guard closes the connection. */
async function exchangeToEof(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    return await readUntil(conn, /(?!)/);
  } finally {
    conn.close();
  }
}

async function readUntil(conn: Deno.Conn, done: RegExp): Promise<string> {
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!done.test(text)) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return text;
}

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
