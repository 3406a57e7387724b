/**
 * X-Forwarded-For/-Proto/-Host, Forwarded and Via (RFC 9110 §7.6.3, RFC 7239). A peer outside
 * `server.trusted_proxies` cannot plant forwarding headers; a trusted one has them kept and extended.
 */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { rawRequest } from "../_support/raw_upstream.ts";
import { startUpstream } from "../_support/upstream.ts";
import { bothTransports } from "../_support/transports.ts";

const SPOOFED = [
  "X-Forwarded-For: 203.0.113.9",
  "X-Forwarded-Proto: https",
  "X-Forwarded-Host: public.example",
  "Forwarded: for=203.0.113.9;proto=https;host=public.example",
  "Via: 1.1 edge",
];

function request(port: number): string {
  return [`GET /fwd HTTP/1.1`, `Host: app.test:${port}`, ...SPOOFED, "", ""].join("\r\n");
}

bothTransports(
  "the proxy adds X-Forwarded-* and Via, replacing forwarding headers from an untrusted peer",
  async () => {
    await using upstream = startUpstream();
    await using proxy = startProxy(poolConfig([upstream.url]));

    const response = await rawRequest(proxy.port, request(proxy.port));

    assert.equal(response.status, 200);
    assert.equal(new TextDecoder().decode(response.body), `upstream ${upstream.port}`);
    assert.equal(response.headers.get("via"), "1.1 proxy");
    const headers = upstream.received[0]!.headers;
    assert.equal(headers.get("x-forwarded-for"), "127.0.0.1");
    assert.equal(headers.get("x-forwarded-proto"), "http");
    assert.equal(headers.get("x-forwarded-host"), `app.test:${proxy.port}`);
    assert.equal(headers.get("forwarded"), null);
    // Via records the path a message took whoever sent it (§7.6.3), so it is extended, not a trust matter.
    assert.equal(headers.get("via"), "1.1 edge, 1.1 proxy");
  },
);

bothTransports(
  "forwarding headers from a peer in server.trusted_proxies are kept and X-Forwarded-For is appended",
  async () => {
    await using upstream = startUpstream();
    await using proxy = startProxy(poolConfig([upstream.url], `trusted_proxies: ["127.0.0.1/32"]`));

    const response = await rawRequest(proxy.port, request(proxy.port));

    assert.equal(response.status, 200);
    assert.equal(new TextDecoder().decode(response.body), `upstream ${upstream.port}`);
    assert.equal(response.headers.get("via"), "1.1 proxy");
    const headers = upstream.received[0]!.headers;
    assert.equal(headers.get("x-forwarded-for"), "203.0.113.9, 127.0.0.1");
    assert.equal(headers.get("x-forwarded-proto"), "https");
    assert.equal(headers.get("x-forwarded-host"), "public.example");
    assert.equal(headers.get("forwarded"), "for=203.0.113.9;proto=https;host=public.example");
    assert.equal(headers.get("via"), "1.1 edge, 1.1 proxy");
  },
);

bothTransports("a trusted_proxies list that excludes the peer treats it as untrusted", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url], `trusted_proxies: ["10.0.0.0/8"]`));

  const response = await rawRequest(proxy.port, request(proxy.port));

  assert.equal(response.status, 200);
  assert.equal(new TextDecoder().decode(response.body), `upstream ${upstream.port}`);
  const headers = upstream.received[0]!.headers;
  assert.equal(headers.get("x-forwarded-for"), "127.0.0.1");
  assert.equal(headers.get("x-forwarded-proto"), "http");
  assert.equal(headers.get("x-forwarded-host"), `app.test:${proxy.port}`);
  assert.equal(headers.get("forwarded"), null);
});

bothTransports("server.name sets the Via pseudonym in both directions", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url], "name: edge-7"));

  const response = await fetch(`${proxy.url}/via`);
  await response.body?.cancel();

  assert.equal(response.status, 200);
  assert.equal(response.headers.get("via"), "1.1 edge-7");
  assert.equal(upstream.received[0]!.headers.get("via"), "1.1 edge-7");
});

// Deno.serve itself joins Cookie lines with "; " (2.9.6); the other repeated fields are joined by the proxy.
bothTransports(
  'repeated fields reach the upstream combined: Cookie lines with "; ", others with ", "',
  async () => {
    await using upstream = startUpstream();
    await using proxy = startProxy(poolConfig([upstream.url]));
    const head = [
      "GET /fields HTTP/1.1",
      "Host: app.test",
      "Cookie: a=1",
      "X-Tag: one",
      "Cookie: b=2",
      "X-Tag: two",
      "",
      "",
    ].join("\r\n");
    assert.equal((await rawRequest(proxy.port, head)).status, 200);
    const received = upstream.received.at(-1)!;
    assert.equal(received.headers.get("cookie"), "a=1; b=2");
    assert.equal(received.headers.get("x-tag"), "one, two");
  },
);
