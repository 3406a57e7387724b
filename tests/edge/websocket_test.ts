/** WebSocket relaying end to end: a real echo upstream on loopback, the real app, Deno's WebSocket client. */
import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AppEnv } from "../../src/app_env.ts";
import { webSocketProxy } from "../../src/middleware/websocket.ts";
import { RequestState } from "../../src/request_state.ts";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";

interface EchoUpstream extends AsyncDisposable {
  readonly url: string;
  /** Handshake request headers, one entry per upgrade. */
  readonly handshakes: Headers[];
  /** Handshake request paths (with query), one entry per upgrade. */
  readonly paths: string[];
  /** Close codes and reasons the upstream received, in order. */
  readonly closes: Array<[number, string]>;
  /** Resolves when the upstream has seen `n` closes. */
  closed(n: number): Promise<void>;
}

/**
 * Echoes every frame. A request without `Upgrade` gets a cacheable "plain". `/deny` answers 403; it picks the second offered subprotocol; a text frame
 * `close:CODE:REASON` makes it close with that code; `burst:N` sends N numbered frames; `bigburst:N` sends N
 * binary frames of 64 KiB.
 */
function startEchoUpstream(): EchoUpstream {
  const handshakes: Headers[] = [];
  const paths: string[] = [];
  const closes: Array<[number, string]> = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    handshakes.push(new Headers(request.headers));
    const url = new URL(request.url);
    paths.push(url.pathname + url.search);
    if (url.pathname === "/deny") return new Response("no", { status: 403 });
    if (request.headers.get("upgrade") === null) {
      return new Response("plain", { headers: { "cache-control": "max-age=60" } });
    }
    const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    const { socket, response } = Deno.upgradeWebSocket(
      request,
      offered.length > 1 ? { protocol: offered[1]! } : {},
    );
    socket.onmessage = (event) => {
      const data = event.data;
      if (typeof data === "string" && data.startsWith("close:")) {
        const [, code, reason] = data.split(":");
        socket.close(Number(code), reason);
      } else if (typeof data === "string" && data.startsWith("bigburst:")) {
        for (let i = 0; i < Number(data.slice(9)); i++) socket.send(new Uint8Array(64 * 1024));
      } else if (typeof data === "string" && data.startsWith("burst:")) {
        for (let i = 0; i < Number(data.slice(6)); i++) socket.send(`up ${i}`);
      } else socket.send(data);
    };
    socket.onclose = (event) => {
      closes.push([event.code, event.reason]);
      for (const waiter of waiters) if (closes.length >= waiter.n) waiter.resolve();
    };
    return response;
  });
  const closed = (n: number) => {
    if (closes.length >= n) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    waiters.push({ n, resolve });
    return promise;
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    handshakes,
    paths,
    closes,
    closed,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A WebSocket client with a message queue, so tests can await frames in order. */
class TestClient {
  readonly socket: WebSocket;
  readonly #frames: Array<string | ArrayBuffer> = [];
  #wake: (() => void) | undefined;
  readonly closed: Promise<CloseEvent>;
  readonly opened: Promise<void>;

  constructor(url: string, init: WebSocketOptions = {}) {
    this.socket = new WebSocket(url, init);
    this.socket.binaryType = "arraybuffer";
    const closed = Promise.withResolvers<CloseEvent>();
    const opened = Promise.withResolvers<void>();
    this.closed = closed.promise;
    this.opened = opened.promise;
    this.socket.onopen = () => opened.resolve();
    this.socket.onerror = (event) => opened.reject(new Error((event as ErrorEvent).message));
    this.socket.onclose = (event) => {
      closed.resolve(event);
      this.#wake?.();
    };
    this.socket.onmessage = (event) => {
      this.#frames.push(event.data);
      this.#wake?.();
    };
    this.opened.catch(() => {});
  }

  async next(): Promise<string | ArrayBuffer> {
    while (this.#frames.length === 0) {
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error("closed before the next frame");
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    return this.#frames.shift()!;
  }
}

function wsUrl(proxyUrl: string, path: string): string {
  return proxyUrl.replace(/^http/, "ws") + path;
}

Deno.test("a WebSocket is relayed both ways: text and binary frames keep their type and content", async () => {
  await using upstream = startEchoUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  const client = new TestClient(wsUrl(proxy.url, "/chat?room=1"));
  await client.opened;
  client.socket.send("hello");
  assert.equal(await client.next(), "hello");
  client.socket.send(new Uint8Array([0, 1, 2, 255]));
  const binary = await client.next();
  assert.ok(binary instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(binary)], [0, 1, 2, 255]);
  client.socket.close(1000);
  await client.closed;
  await upstream.closed(1);
  assert.deepEqual(upstream.paths, ["/chat?room=1"]);
});

Deno.test("with the cache on, an upgrade is relayed, never answered from the cache or stored", async () => {
  await using upstream = startEchoUpstream();
  await using proxy = startProxy(`${poolConfig([upstream.url])}\ncache: { max_size: 100, ttl: 60s }\n`);
  for (const expected of ["MISS", "HIT"]) {
    const plain = await fetch(`${proxy.url}/room`);
    assert.equal(await plain.text(), "plain");
    assert.equal(plain.headers.get("x-cache"), expected);
  }
  for (let i = 0; i < 2; i++) {
    const client = new TestClient(wsUrl(proxy.url, "/room"));
    await client.opened;
    client.socket.send(`frame ${i}`);
    assert.equal(await client.next(), `frame ${i}`);
    client.socket.close(1000);
    await client.closed;
  }
  await upstream.closed(2);
  assert.deepEqual(upstream.paths, ["/room", "/room", "/room"]); // one plain GET, then both upgrades
});

Deno.test("the upgrade carries subprotocols, cookies, auth and X-Forwarded headers; the upstream's pick wins", async () => {
  await using upstream = startEchoUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  const client = new TestClient(wsUrl(proxy.url, "/"), {
    protocols: ["chat.v1", "chat.v2"],
    headers: { cookie: "session=abc", authorization: "Bearer t0ken", "x_sneaky": "1" },
  });
  await client.opened;
  assert.equal(client.socket.protocol, "chat.v2");
  client.socket.close(1000);
  await client.closed;
  const seen = upstream.handshakes[0]!;
  assert.equal(seen.get("sec-websocket-protocol"), "chat.v1, chat.v2");
  assert.equal(seen.get("cookie"), "session=abc");
  assert.equal(seen.get("authorization"), "Bearer t0ken");
  assert.equal(seen.get("x-forwarded-for"), "127.0.0.1");
  assert.equal(seen.get("x-forwarded-proto"), "http");
  assert.equal(seen.get("x-forwarded-host"), `127.0.0.1:${proxy.port}`);
  assert.equal(seen.get("via"), "1.1 proxy");
  assert.match(seen.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  assert.equal(seen.get("x_sneaky"), null); // limits.underscore_headers: drop
  await upstream.closed(1);
});

Deno.test("a close code and reason from the client reach the upstream", async () => {
  await using upstream = startEchoUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  const client = new TestClient(wsUrl(proxy.url, "/"));
  await client.opened;
  client.socket.close(4001, "client says bye");
  await client.closed;
  await upstream.closed(1);
  assert.deepEqual(upstream.closes, [[4001, "client says bye"]]);
});

Deno.test("a close code and reason from the upstream reach the client", async () => {
  await using upstream = startEchoUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  const client = new TestClient(wsUrl(proxy.url, "/"));
  await client.opened;
  client.socket.send("close:4001:upstream says bye");
  const event = await client.closed;
  assert.equal(event.code, 4001);
  assert.equal(event.reason, "upstream says bye");
  await upstream.closed(1);
});

Deno.test("an upstream that refuses the upgrade with 403 gives the client 403, not a hang", async () => {
  await using upstream = startEchoUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  const response = await rawRequest(
    proxy.port,
    "GET /deny HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  );
  assert.equal(response.status, 403);
  assert.match(new TextDecoder().decode(response.body), /upstream refused the WebSocket upgrade/);
  assert.equal(upstream.handshakes.length, 1);
});

Deno.test("an upgrade to a refused upstream port gets 502", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await using proxy = startProxy(poolConfig([`http://127.0.0.1:${port}`]));
  const client = new TestClient(wsUrl(proxy.url, "/"));
  await assert.rejects(client.opened, /502/);
  await client.closed;
});

Deno.test("an upstream that never answers the upgrade gets the client 504 after server.first_byte_timeout", async () => {
  const release = Promise.withResolvers<void>();
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await release.promise; // say nothing until the test ends
  });
  await using proxy = startProxy(poolConfig([upstream.url], "first_byte_timeout: 200ms"));
  try {
    const client = new TestClient(wsUrl(proxy.url, "/"));
    await assert.rejects(client.opened, /504/);
    await client.closed;
    assert.equal(upstream.heads.length, 1);
  } finally {
    release.resolve();
  }
});

Deno.test("1,000 messages each way arrive complete and in order", async () => {
  await using upstream = startEchoUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  const client = new TestClient(wsUrl(proxy.url, "/"));
  await client.opened;
  for (let i = 0; i < 1000; i++) client.socket.send(`m ${i}`);
  for (let i = 0; i < 1000; i++) assert.equal(await client.next(), `m ${i}`);
  client.socket.send("burst:1000");
  for (let i = 0; i < 1000; i++) assert.equal(await client.next(), `up ${i}`);
  client.socket.close(1000);
  await client.closed;
  await upstream.closed(1);
});

Deno.test("the observer counts a relay open while it lasts and closed after", async () => {
  await using upstream = startEchoUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  let open = 0;
  const closedOnce = Promise.withResolvers<void>();
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    const runtime = proxy.source.current;
    c.env = new RequestState(runtime, undefined);
    c.env.route = runtime.router.match("GET", "x", "/")!;
    c.env.requestId = "r1";
    c.env.peerIp = "127.0.0.1";
    await next();
  });
  app.use(webSocketProxy({
    observer: {
      websocketOpened: () => open++,
      websocketClosed: () => {
        open--;
        closedOnce.resolve();
      },
    },
  }));
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const client = new TestClient(`ws://127.0.0.1:${server.addr.port}/`);
  await client.opened;
  client.socket.send("ping");
  assert.equal(await client.next(), "ping");
  assert.equal(open, 1);
  client.socket.close(1000);
  await client.closed;
  await closedOnce.promise;
  assert.equal(open, 0);
  await upstream.closed(1);
});

/** A client on a raw socket: it completes the handshake, may send one text frame, then reads only on request. */
async function rawWebSocketClient(port: number, path: string): Promise<{
  conn: Deno.TcpConn;
  sendText(text: string): Promise<void>;
  /** Reads until `predicate` holds for the bytes read so far, or EOF; returns them. */
  readUntil(predicate: (bytes: Uint8Array) => boolean): Promise<Uint8Array>;
}> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  ));
  let bytes = new Uint8Array();
  const readUntil = async (predicate: (bytes: Uint8Array) => boolean) => {
    const buffer = new Uint8Array(65536);
    while (!predicate(bytes)) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      const merged = new Uint8Array(bytes.length + n);
      merged.set(bytes);
      merged.set(buffer.subarray(0, n), bytes.length);
      bytes = merged;
    }
    return bytes;
  };
  const head = new TextDecoder().decode(
    await readUntil((b) => new TextDecoder().decode(b).includes("\r\n\r\n")),
  );
  assert.match(head, /^HTTP\/1.1 101/);
  bytes = bytes.subarray(head.indexOf("\r\n\r\n") + 4);
  const sendText = async (text: string) => {
    const payload = new TextEncoder().encode(text); // < 126 bytes; mask of zeros keeps it readable
    await conn.write(new Uint8Array([0x81, 0x80 | payload.length, 0, 0, 0, 0, ...payload]));
  };
  return { conn, sendText, readUntil };
}

Deno.test("a client that stops reading makes the relay close at websocket.max_buffered_size, not buffer on", async () => {
  await using upstream = startEchoUpstream();
  await using proxy = startProxy(`${poolConfig([upstream.url])}\nwebsocket: { max_buffered_size: 65536 }`);
  const client = await rawWebSocketClient(proxy.port, "/");
  try {
    await client.sendText("bigburst:400"); // 25 MiB towards a client that reads nothing
    await upstream.closed(1);
    assert.deepEqual(upstream.closes, [[1000, "proxy buffer limit reached"]]);
  } finally {
    client.conn.close();
  }
});

Deno.test("an idle client is pinged after websocket.ping_interval and dropped when it never answers", async () => {
  await using upstream = startEchoUpstream();
  await using proxy = startProxy(`${poolConfig([upstream.url])}\nwebsocket: { ping_interval: 1s }`);
  const client = await rawWebSocketClient(proxy.port, "/");
  try {
    // A ping frame is opcode 9 (0x89 with FIN); the client never answers with a pong.
    const bytes = await client.readUntil((b) => b.includes(0x89));
    assert.ok(bytes.includes(0x89), "no ping arrived");
    await upstream.closed(1); // the proxy gave up on the client and closed the upstream side too
  } finally {
    client.conn.close();
  }
});
