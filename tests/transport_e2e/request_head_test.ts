/**
 * The request head the http1 transport writes: the client's fields minus hop-by-hop ones plus the forwarding
 * ones, nothing invented (no user-agent / accept-language / accept-encoding the client did not send), no
 * framing on a bodyless request, Content-Length bodies as is and chunked bodies as chunked.
 */
import assert from "node:assert/strict";
import { startProxy } from "../_support/proxy.ts";
import { type RawConnection, rawExchange, rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";
import { transportConfig, TRANSPORTS } from "./_support.ts";

const decoder = new TextDecoder();

/** Header lines of a raw head as [lower-case name, value], the request line excluded. */
function fields(head: string): [string, string][] {
  return head.split("\r\n").slice(1).map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });
}

/** Everything after the head until `done(body)` says the body is complete or the proxy closes. */
async function readRest(connection: RawConnection, done: (body: string) => boolean): Promise<string> {
  let body = "";
  while (!done(body)) {
    const chunk = await connection.read();
    if (chunk === undefined) break;
    body += decoder.decode(chunk);
  }
  return body;
}

/** What the forwarder itself adds; anything else upstream must come from the client. */
const FORWARDING = new Set([
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "via",
  "x-request-id",
]);

function captureUpstream(done: (head: string, body: string) => boolean) {
  const bodies: string[] = [];
  const upstream = startRawUpstream(async (connection) => {
    while (true) {
      const head = await connection.readHead();
      bodies.push(await readRest(connection, (body) => done(head, body)));
      await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  return { upstream, bodies };
}

const noBody = () => true;

Deno.test("http1 transport: a minimal GET reaches the upstream with only Host and the forwarding fields", async () => {
  const { upstream } = captureUpstream(noBody);
  await using _upstream = upstream;
  await using proxy = startProxy(transportConfig([upstream.url]));

  const response = await rawRequest(
    proxy.port,
    `GET /plain?q=1 HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\nConnection: close\r\n\r\n`,
  );

  assert.equal(response.status, 200);
  const head = upstream.heads[0]!;
  assert.match(head, /^GET \/plain\?q=1 HTTP\/1\.1\r\n/);
  const names = fields(head).map(([name]) => name);
  for (const invented of ["user-agent", "accept-language", "accept-encoding", "accept"]) {
    assert.ok(!names.includes(invented), `${invented} invented upstream:\n${head}`);
  }
  assert.ok(!names.includes("content-length") && !names.includes("transfer-encoding"), `framing:\n${head}`);
  assert.deepEqual(names.filter((name) => name !== "host" && !FORWARDING.has(name)), [], head);
  assert.equal(names.filter((name) => name === "host").length, 1);
  for (const [name, value] of fields(head)) assert.notEqual(value, "", `empty ${name} sent upstream`);
});

Deno.test("http1 transport: the client's own user-agent, accept and accept-encoding reach the upstream unchanged", async () => {
  const { upstream } = captureUpstream(noBody);
  await using _upstream = upstream;
  await using proxy = startProxy(transportConfig([upstream.url]));

  await rawRequest(
    proxy.port,
    [
      "GET /ua HTTP/1.1",
      `Host: 127.0.0.1:${proxy.port}`,
      "User-Agent: probe/1.0",
      "Accept: text/plain",
      "Accept-Encoding: br",
      "X-Custom: a",
      "X-Custom: b",
      "Connection: close",
      "",
      "",
    ].join("\r\n"),
  );

  const got = fields(upstream.heads[0]!);
  const value = (name: string) => got.filter(([n]) => n === name).map(([, v]) => v);
  assert.deepEqual(value("user-agent"), ["probe/1.0"]);
  assert.deepEqual(value("accept"), ["text/plain"]);
  assert.deepEqual(value("accept-encoding"), ["br"]);
  assert.equal(value("x-custom").join(", "), "a, b");
  assert.deepEqual(value("accept-language"), []);
});

Deno.test("http1 transport: a Content-Length request body is forwarded with the same Content-Length", async () => {
  const { upstream, bodies } = captureUpstream((head, body) =>
    body.length >= Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
  );
  await using _upstream = upstream;
  await using proxy = startProxy(transportConfig([upstream.url]));

  const response = await rawRequest(
    proxy.port,
    `POST /cl HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world`,
  );

  assert.equal(response.status, 200);
  const got = fields(upstream.heads[0]!);
  assert.deepEqual(got.filter(([n]) => n === "content-length"), [["content-length", "11"]]);
  assert.ok(!got.some(([n]) => n === "transfer-encoding"));
  assert.equal(bodies[0], "hello world");
});

Deno.test("http1 transport: a chunked request body is forwarded chunked", async () => {
  const { upstream, bodies } = captureUpstream((_head, body) => body.endsWith("0\r\n\r\n"));
  await using _upstream = upstream;
  await using proxy = startProxy(transportConfig([upstream.url]));

  const response = await rawRequest(
    proxy.port,
    [
      "POST /chunked HTTP/1.1",
      `Host: 127.0.0.1:${proxy.port}`,
      "Transfer-Encoding: chunked",
      "Connection: close",
      "",
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    ].join("\r\n"),
  );

  assert.equal(response.status, 200);
  const got = fields(upstream.heads[0]!);
  assert.deepEqual(got.filter(([n]) => n === "transfer-encoding"), [["transfer-encoding", "chunked"]]);
  assert.ok(!got.some(([n]) => n === "content-length"), upstream.heads[0]);
  const wire = bodies[0]!;
  assert.ok(wire.endsWith("0\r\n\r\n"), wire);
  // Undo the framing: whatever chunk sizes the proxy chose, the bytes are the client's.
  let data = "";
  let rest = wire;
  while (true) {
    const lineEnd = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, lineEnd).split(";")[0]!, 16);
    if (size === 0) break;
    data += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
  assert.equal(data, "hello world");
});

Deno.test("http1 transport: a DELETE and an OPTIONS without a body carry no framing upstream", async () => {
  const { upstream } = captureUpstream(noBody);
  await using _upstream = upstream;
  await using proxy = startProxy(transportConfig([upstream.url]));

  for (const method of ["DELETE", "OPTIONS", "HEAD"]) {
    await rawRequest(
      proxy.port,
      `${method} /x HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\nConnection: close\r\n\r\n`,
    );
  }

  assert.equal(upstream.heads.length, 3);
  for (const head of upstream.heads) {
    const names = fields(head).map(([name]) => name);
    assert.ok(!names.includes("content-length") && !names.includes("transfer-encoding"), head);
  }
});

Deno.test("http1 transport: Expect: 100-continue is forwarded, the body follows the head at once, the upstream's 100 is skipped", async () => {
  let received = "";
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    received = await readRest(connection, (body) => body.length >= 5);
    await connection.write("HTTP/1.1 100 Continue\r\n\r\n");
    await connection.write("HTTP/1.1 201 Created\r\ncontent-length: 7\r\n\r\ncreated");
  });
  await using proxy = startProxy(transportConfig([upstream.url]));

  const wire = await rawExchange(
    proxy.port,
    `POST /upload HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\nExpect: 100-continue\r\nContent-Length: 5\r\n` +
      "Connection: close\r\n\r\nhello",
  );

  // Deno.serve answers the client's expectation itself (one 100 when the body is read); the upstream's own 100
  // is read and dropped by the transport, so the client sees at most one interim response, then the final one.
  assert.ok((wire.match(/HTTP\/1\.1 100 /g) ?? []).length <= 1, wire);
  assert.match(wire, /HTTP\/1\.1 201 Created\r\n/);
  assert.ok(wire.endsWith("\r\n\r\ncreated"), wire);
  // The proxy does not wait for the upstream's 100: the body was sent with the head, whole, Expect kept.
  assert.equal(received, "hello");
  const head = upstream.heads[0]!;
  assert.deepEqual(fields(head).filter(([name]) => name === "expect"), [["expect", "100-continue"]], head);
});

Deno.test("a header value with obs-text bytes reaches the upstream as the same bytes, not re-encoded as UTF-8", async () => {
  for (const transport of TRANSPORTS) {
    // A raw listener that keeps the exact bytes of each request head.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const heads: Uint8Array[] = [];
    const conns: Deno.Conn[] = [];
    const serving = (async () => {
      for await (const conn of listener) {
        conns.push(conn);
        const buf = new Uint8Array(16384);
        let end = 0;
        while (true) {
          const n = await conn.read(buf.subarray(end)).catch(() => null);
          if (n === null) break;
          end += n;
          const text = new TextDecoder("latin1").decode(buf.subarray(0, end));
          if (!text.includes("\r\n\r\n")) continue;
          heads.push(buf.slice(0, text.indexOf("\r\n\r\n")));
          await conn.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
          end = 0;
        }
        try {
          conn.close();
        } catch { /* closed by the test */ }
      }
    })();
    const port = (listener.addr as Deno.NetAddr).port;
    await using proxy = startProxy(transportConfig([`http://127.0.0.1:${port}`], { transport }));
    const head = "GET /x HTTP/1.1\r\nHost: a.test\r\nX-Name: caf\xe9 \xff\r\nConnection: close\r\n\r\n";
    const answer = await rawRequest(proxy.port, Uint8Array.from(head, (ch) => ch.charCodeAt(0)));
    assert.equal(answer.status, 200, transport);
    const sent = heads.find((bytes) => new TextDecoder("latin1").decode(bytes).startsWith("GET /x"));
    assert.ok(sent, `${transport}: the request reached the upstream`);
    const text = new TextDecoder("latin1").decode(sent);
    const line = text.split("\r\n").find((l) => l.toLowerCase().startsWith("x-name:"));
    assert.equal(line?.slice(line.indexOf(":") + 1).trim(), "caf\xe9 \xff", transport);
    assert.equal(sent.indexOf(0xc3), -1, `${transport}: UTF-8 bytes upstream`);
    listener.close();
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed already */ }
    }
    await serving.catch(() => {});
  }
});
