/**
 * The default http1 transport end to end on loopback: connection reuse and its counters, the connection
 * limit (503 + Retry-After), the stale-connection retry, the idle timeout, 1xx skipping, strict parsing
 * (502), bodies cut short, and request heads with nothing invented.
 */
import assert from "node:assert/strict";
import { poolConfig, startProxy, type TestProxy } from "../_support/proxy.ts";
import { type RawConnection, rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";

/** Answers every request on a connection with `reply` (keep-alive), until the client closes. */
function keepAlive(reply: string) {
  return async (connection: RawConnection) => {
    while (true) {
      await connection.readHead();
      await connection.write(reply);
    }
  };
}

function sample(proxy: TestProxy, name: string, labels: string): number {
  const line = proxy.registry.expose().split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(" ") + 1));
}

function config(url: string, extra = ""): string {
  return `${poolConfig([url])}\n${extra}`;
}

Deno.test("keep-alive: sequential requests share one upstream connection, counted as reused", async () => {
  await using upstream = startRawUpstream(keepAlive("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
  await using proxy = startProxy(config(upstream.url));
  for (let i = 0; i < 3; i++) {
    const response = await fetch(`${proxy.url}/n${i}`);
    assert.equal(await response.text(), "ok");
  }
  assert.equal(upstream.accepted(), 1);
  const u = `upstream="${upstream.url}"`;
  assert.equal(sample(proxy, "proxy_upstream_connections_opened_total", u), 1);
  assert.equal(sample(proxy, "proxy_upstream_connections_reused_total", u), 2);
  assert.equal(sample(proxy, "proxy_upstream_connections", `${u},state="idle"`), 1);
  assert.equal(sample(proxy, "proxy_upstream_connections", `${u},state="active"`), 0);
  const stats = proxy.metrics.stats().upstreams[0]!;
  assert.equal(stats.connections?.opened, 1);
  assert.equal(stats.connections?.reused, 2);
});

Deno.test("nothing invented: no user-agent, accept-language or accept-encoding the client did not send", async () => {
  await using upstream = startRawUpstream(keepAlive("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
  await using proxy = startProxy(config(upstream.url));
  const response = await rawRequest(proxy.port, `GET /x HTTP/1.1\r\nHost: example.test\r\n\r\n`);
  assert.equal(response.status, 200);
  const head = upstream.heads[0]!;
  assert.match(head, /^GET \/x HTTP\/1\.1\r\n/);
  assert.match(head, /\r\nhost: example\.test(\r\n|$)/i);
  assert.doesNotMatch(
    head,
    /\r\n(user-agent|accept-language|accept-encoding|content-length|transfer-encoding):/i,
  );
  assert.match(head, /\r\nvia: 1\.1 /i);
});

Deno.test("max_connections: a request waiting past queue_timeout gets 503 with Retry-After", async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await held;
    await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nslow");
  });
  await using proxy = startProxy(
    config(upstream.url, "connection_pool: { max_connections: 1, queue_timeout: 100ms }"),
  );
  const first = fetch(`${proxy.url}/a`);
  // Wait until the first request holds the only connection.
  while (upstream.heads.length === 0) await new Promise((r) => setTimeout(r, 10));
  const second = await fetch(`${proxy.url}/b`);
  assert.equal(second.status, 503);
  assert.ok(Number(second.headers.get("retry-after")) >= 1);
  await second.body?.cancel();
  release();
  assert.equal(await (await first).text(), "slow");
});

Deno.test("a reused connection the upstream closed while idle is retried once on a fresh one", async () => {
  // Each connection serves one response (claiming keep-alive) and is then closed by the upstream.
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  });
  await using proxy = startProxy(config(upstream.url));
  assert.equal(await (await fetch(`${proxy.url}/1`)).text(), "ok");
  // Let the upstream's FIN arrive so the pooled connection is stale.
  await new Promise((r) => setTimeout(r, 100));
  const second = await fetch(`${proxy.url}/2`);
  assert.equal(second.status, 200);
  assert.equal(await second.text(), "ok");
  assert.equal(upstream.accepted(), 2);
  assert.equal(sample(proxy, "proxy_upstream_connections_reused_total", `upstream="${upstream.url}"`), 1);
});

Deno.test("idle_timeout closes idle connections; the next request opens a new one", async () => {
  await using upstream = startRawUpstream(keepAlive("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
  await using proxy = startProxy(config(upstream.url, "connection_pool: { idle_timeout: 50ms }"));
  assert.equal(await (await fetch(`${proxy.url}/1`)).text(), "ok");
  const u = `upstream="${upstream.url}"`;
  for (let i = 0; i < 100 && sample(proxy, "proxy_upstream_connections", `${u},state="idle"`) !== 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(sample(proxy, "proxy_upstream_connections", `${u},state="idle"`), 0);
  assert.equal(await (await fetch(`${proxy.url}/2`)).text(), "ok");
  assert.equal(upstream.accepted(), 2);
});

Deno.test("1xx interim responses are skipped and counted", async () => {
  await using upstream = startRawUpstream(keepAlive(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n" +
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
  ));
  await using proxy = startProxy(config(upstream.url));
  const response = await fetch(`${proxy.url}/`);
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "ok");
  assert.equal(sample(proxy, "proxy_upstream_interim_responses_total", `upstream="${upstream.url}"`), 2);
});

const MALFORMED: Record<string, string> = {
  "status 600": "HTTP/1.1 600 Odd\r\ncontent-length: 0\r\n\r\n",
  "status 99": "HTTP/1.1 099 Odd\r\ncontent-length: 0\r\n\r\n",
  "obs-fold": "HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\ncontent-length: 0\r\n\r\n",
  "space before colon": "HTTP/1.1 200 OK\r\nx-a : 1\r\ncontent-length: 0\r\n\r\n",
  "NUL in value": "HTTP/1.1 200 OK\r\nx-a: a\x00b\r\ncontent-length: 0\r\n\r\n",
  "differing Content-Length": "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok",
  "non-digit Content-Length": "HTTP/1.1 200 OK\r\ncontent-length: 2x\r\n\r\nok",
  "bad chunk size": "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
  "bare LF in chunked framing": "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n",
  "bare LF in head": "HTTP/1.1 200 OK\nx-a: 1\r\ncontent-length: 0\r\n\r\n",
  "closed before head": "",
  "closed mid-head": "HTTP/1.1 200 OK\r\nx-a: 1\r\n",
  "101 without upgrade": "HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\n\r\n",
  "oversized head": `HTTP/1.1 200 OK\r\nx-big: ${"a".repeat(70_000)}\r\ncontent-length: 0\r\n\r\n`,
};

for (const [name, reply] of Object.entries(MALFORMED)) {
  Deno.test(`malformed upstream response (${name}) → 502, connection not reused`, async () => {
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      if (reply !== "") await connection.write(reply);
    });
    await using proxy = startProxy(config(upstream.url));
    const response = await fetch(`${proxy.url}/`, { method: "POST", body: "x" });
    assert.equal(response.status, 502, name);
    await response.body?.cancel();
    assert.equal(sample(proxy, "proxy_upstream_connections", `upstream="${upstream.url}",state="idle"`), 0);
    assert.equal(proxy.errors.length, 0, String(proxy.errors[0]));
  });
}

Deno.test("CL + TE: the chunked body is forwarded, the connection is not reused", async () => {
  await using upstream = startRawUpstream(keepAlive(
    "HTTP/1.1 200 OK\r\ncontent-length: 100\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
  ));
  await using proxy = startProxy(config(upstream.url));
  for (let i = 0; i < 2; i++) assert.equal(await (await fetch(`${proxy.url}/`)).text(), "ok");
  assert.equal(upstream.accepted(), 2);
});

Deno.test("a body without framing is read until close, and the connection is not reused", async () => {
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await connection.write("HTTP/1.1 200 OK\r\n\r\nuntil ");
    await connection.write("close");
  });
  await using proxy = startProxy(config(upstream.url));
  assert.equal(await (await fetch(`${proxy.url}/`)).text(), "until close");
  assert.equal(await (await fetch(`${proxy.url}/`)).text(), "until close");
  assert.equal(upstream.accepted(), 2);
});

Deno.test("an upstream that closes mid-body fails the client's read", async () => {
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n" + "x".repeat(20_000));
  });
  await using proxy = startProxy(config(upstream.url));
  const response = await fetch(`${proxy.url}/`);
  assert.equal(response.status, 200);
  await assert.rejects(response.arrayBuffer());
});

Deno.test("HEAD and 204/304 carry no body whatever their headers say; the connection stays reusable", async () => {
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");
    await connection.readHead();
    await connection.write("HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n");
    await connection.readHead();
    await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    await connection.readHead();
  });
  await using proxy = startProxy(config(upstream.url));
  const head = await fetch(`${proxy.url}/`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), "5");
  const empty = await fetch(`${proxy.url}/`);
  assert.equal(empty.status, 204);
  assert.equal(await empty.text(), "");
  assert.equal(await (await fetch(`${proxy.url}/`)).text(), "ok");
  assert.equal(upstream.accepted(), 1);
});

Deno.test("request bodies: Content-Length streamed as is, unknown length as chunked", async () => {
  const bodies: string[] = [];
  await using upstream = startRawUpstream(async (connection) => {
    while (true) {
      await connection.readHead();
      let text = "";
      while (!/(^|\r\n)0\r\n\r\n$/.test(text) && text.length < 5) {
        const chunk = await connection.read();
        if (chunk === undefined) return;
        text += new TextDecoder().decode(chunk);
      }
      bodies.push(text);
      await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  await using proxy = startProxy(config(upstream.url));
  const sized = await fetch(`${proxy.url}/`, { method: "POST", body: "hello" });
  assert.equal(await sized.text(), "ok");
  const stream = ReadableStream.from([new TextEncoder().encode("chunky")]);
  const chunked = await fetch(`${proxy.url}/`, { method: "POST", body: stream });
  assert.equal(await chunked.text(), "ok");
  assert.match(upstream.heads[0]!, /\r\ncontent-length: 5(\r\n|$)/i);
  assert.match(upstream.heads[1]!, /\r\ntransfer-encoding: chunked(\r\n|$)/i);
  assert.equal(bodies[0], "hello");
  assert.equal(bodies[1], "6\r\nchunky\r\n0\r\n\r\n");
});

Deno.test("connection refused → 502", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await using proxy = startProxy(config(`http://127.0.0.1:${port}`));
  const response = await fetch(`${proxy.url}/`);
  assert.equal(response.status, 502);
  await response.body?.cancel();
});

Deno.test("a stale connection: a POST is not sent twice (502), a buffered POST with Idempotency-Key is", async () => {
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  });
  // One upstream: the pool's own retry has nowhere else to go, so a success comes from the stale retry.
  // (Default retries buffer a small body, which makes it replayable.)
  await using proxy = startProxy(poolConfig([upstream.url]));
  const stale = async () => {
    assert.equal(await (await fetch(`${proxy.url}/warm`)).text(), "ok");
    await new Promise((r) => setTimeout(r, 100));
  };
  await stale();
  const plain = await fetch(`${proxy.url}/p`, { method: "POST", body: "once" });
  assert.equal(plain.status, 502);
  await plain.body?.cancel();
  assert.equal(
    upstream.heads.filter((h) => h.startsWith("POST /p ")).length,
    0,
    "never re-sent on a new connection",
  );
  await stale();
  const keyed = await fetch(`${proxy.url}/k`, {
    method: "POST",
    body: "keyed",
    headers: { "idempotency-key": "k-1" },
  });
  assert.equal(keyed.status, 200);
  assert.equal(await keyed.text(), "ok");
  assert.equal(upstream.heads.filter((h) => h.startsWith("POST /k ")).length, 1);
});

Deno.test("connect_timeout: a TLS handshake that never completes → 504 naming the connect phase", async () => {
  // A TCP listener that accepts and never answers: the TLS handshake (part of connecting) hangs.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const loop = (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    await using proxy = startProxy(
      `server: { port: 0, first_byte_timeout: 60s }\nbackends:\n  - url: "https://localhost:${port}"\n` +
        "connection_pool: { connect_timeout: 100ms }",
    );
    const response = await fetch(`${proxy.url}/`);
    assert.equal(response.status, 504);
    assert.match(await response.text(), /connect took over 100 ms/);
  } finally {
    listener.close();
    await loop;
    for (const conn of held) conn.close();
  }
});
