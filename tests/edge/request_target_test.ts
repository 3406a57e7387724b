/** The request line and fields read by RFC 9110/9112, each over a raw socket with exact bytes. */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { type RawConnection, rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";

async function okUpstream(connection: RawConnection): Promise<void> {
  while (true) {
    await connection.readHead();
    await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  }
}

function headerOf(head: string, name: string): string | undefined {
  const line = head.split("\r\n").find((l) => l.toLowerCase().startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

Deno.test("an absolute-form target's authority replaces Host (RFC 9112 §3.2.2)", async () => {
  await using upstream = startRawUpstream(okUpstream);
  await using proxy = startProxy(poolConfig([upstream.url]));
  const response = await rawRequest(proxy.port, "GET http://b.example/abs?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(response.status, 200);
  assert.equal(upstream.heads.length, 1);
  assert.match(upstream.heads[0]!, /^GET \/abs\?x=1 HTTP\/1\.1\r\n/);
  assert.equal(headerOf(upstream.heads[0]!, "host"), "b.example");
  // Origin-form keeps the client's Host as written, even in another case or with the default port.
  await rawRequest(proxy.port, "GET /o HTTP/1.1\r\nHost: Example.TEST:80\r\n\r\n");
  assert.equal(headerOf(upstream.heads[1]!, "host"), "Example.TEST:80");
});

Deno.test("an Expect other than 100-continue gets 417 and is not forwarded (RFC 9110 §10.1.1)", async () => {
  await using upstream = startRawUpstream(okUpstream);
  await using proxy = startProxy(poolConfig([upstream.url]));
  const refused = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nExpect: foo\r\n\r\n");
  assert.equal(refused.status, 417);
  assert.equal(upstream.heads.length, 0);
  // Without a body to wait for, 100-continue needs no interim answer: the final one comes straight away.
  const accepted = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n");
  assert.equal(accepted.status, 200);
  assert.equal(upstream.heads.length, 1);
});

Deno.test("OPTIONS * is answered by the proxy with Allow and never forwarded as a path", async () => {
  await using upstream = startRawUpstream(okUpstream);
  await using proxy = startProxy(poolConfig([upstream.url]));
  const response = await rawRequest(proxy.port, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("allow") ?? "", /OPTIONS/);
  assert.equal(upstream.heads.length, 0);
});

Deno.test("Max-Forwards: 0 on OPTIONS is answered here; otherwise it is decremented (RFC 9110 §7.6.2)", async () => {
  await using upstream = startRawUpstream(okUpstream);
  await using proxy = startProxy(poolConfig([upstream.url]));
  const answered = await rawRequest(proxy.port, "OPTIONS /x HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n");
  assert.equal(answered.status, 200);
  assert.match(answered.headers.get("allow") ?? "", /GET/);
  assert.equal(upstream.heads.length, 0);
  const forwarded = await rawRequest(proxy.port, "OPTIONS /x HTTP/1.1\r\nHost: a\r\nMax-Forwards: 5\r\n\r\n");
  assert.equal(forwarded.status, 200);
  assert.equal(upstream.heads.length, 1);
  assert.equal(headerOf(upstream.heads[0]!, "max-forwards"), "4");
  const trace = await rawRequest(proxy.port, "TRACE /x HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n");
  assert.equal(trace.status, 405);
  const bad = await rawRequest(proxy.port, "OPTIONS /x HTTP/1.1\r\nHost: a\r\nMax-Forwards: -1\r\n\r\n");
  assert.equal(bad.status, 400);
  assert.equal(upstream.heads.length, 1);
});

Deno.test("a 413 does not say Connection: close when the connection stays open", async () => {
  await using upstream = startRawUpstream(okUpstream);
  await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { max_body_size: 10 }`);
  const response = await rawRequest(
    proxy.port,
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
  );
  assert.equal(response.status, 413);
  assert.notEqual(response.headers.get("connection")?.toLowerCase(), "close");
  assert.equal(upstream.heads.length, 0);
});
