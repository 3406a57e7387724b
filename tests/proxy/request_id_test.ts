/**
 * Every request carries one id, end to end: generated (UUID) unless a trusted peer sent one, the same at the
 * upstream and the client, and quoted in the proxy's own short error bodies.
 */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";
import { bothTransports } from "../_support/transports.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A URL on loopback where nothing listens: bind port 0, note the port, close it. */
function refusedUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

bothTransports(
  "a request without X-Request-Id gets a fresh UUID that the upstream and the client both see",
  async () => {
    await using upstream = startUpstream();
    await using proxy = startProxy(poolConfig([upstream.url]));

    const first = await fetch(`${proxy.url}/a`);
    await first.body?.cancel();
    const second = await fetch(`${proxy.url}/b`);
    await second.body?.cancel();

    const id = first.headers.get("x-request-id") ?? "";
    assert.match(id, UUID);
    assert.equal(upstream.received[0]!.headers.get("x-request-id"), id);
    assert.equal(upstream.received[1]!.headers.get("x-request-id"), second.headers.get("x-request-id"));
    assert.notEqual(second.headers.get("x-request-id"), id);
  },
);

bothTransports("an untrusted peer's X-Request-Id is replaced by a generated one", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));

  const response = await fetch(`${proxy.url}/a`, { headers: { "x-request-id": "planted-id" } });
  await response.body?.cancel();

  assert.equal(response.status, 200);
  const id = response.headers.get("x-request-id") ?? "";
  assert.match(id, UUID);
  assert.equal(upstream.received[0]!.headers.get("x-request-id"), id);
});

bothTransports("a trusted peer's X-Request-Id is kept end to end", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url], `trusted_proxies: ["127.0.0.1/32"]`));

  const response = await fetch(`${proxy.url}/a`, { headers: { "x-request-id": "trace-123" } });
  await response.body?.cancel();

  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-request-id"), "trace-123");
  assert.equal(upstream.received[0]!.headers.get("x-request-id"), "trace-123");
});

bothTransports("a trusted peer's X-Request-Id that is not a visible-ASCII token is replaced", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url], `trusted_proxies: ["127.0.0.1/32"]`));

  const response = await fetch(`${proxy.url}/a`, { headers: { "x-request-id": "has space" } });
  await response.body?.cancel();

  const id = response.headers.get("x-request-id") ?? "";
  assert.match(id, UUID);
  assert.equal(upstream.received[0]!.headers.get("x-request-id"), id);
});

bothTransports("the proxy's error body is short plain text that quotes the request id", async () => {
  await using proxy = startProxy(poolConfig([refusedUrl()]));

  const response = await fetch(`${proxy.url}/a`);
  const body = await response.text();

  assert.equal(response.status, 502);
  const id = response.headers.get("x-request-id") ?? "";
  assert.match(id, UUID);
  assert.ok(body.includes(id), body);
  assert.ok(body.length < 200, body);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  assert.equal(response.headers.get("cache-control"), "no-store");
});

bothTransports("an error for a trusted peer quotes the id that peer sent", async () => {
  await using proxy = startProxy(poolConfig([refusedUrl()], `trusted_proxies: ["127.0.0.1/32"]`));

  const response = await fetch(`${proxy.url}/a`, { headers: { "x-request-id": "trace-456" } });
  const body = await response.text();

  assert.equal(response.status, 502);
  assert.equal(response.headers.get("x-request-id"), "trace-456");
  assert.ok(body.includes("trace-456"), body);
});

bothTransports(
  "a request that matches no route and has no default pool gets a short 404 and reaches no upstream",
  async () => {
    await using upstream = startUpstream();
    await using proxy = startProxy([
      "server: { port: 0 }",
      "upstreams:",
      `  api: { backends: ["${upstream.url}"] }`,
      "routes:",
      "  - { match: { path_prefix: /api }, upstream: api }",
    ].join("\n"));

    const missed = await fetch(`${proxy.url}/other`);
    const missedBody = await missed.text();
    const hit = await fetch(`${proxy.url}/api/x`);
    const hitBody = await hit.text();

    assert.equal(missed.status, 404);
    const id = missed.headers.get("x-request-id") ?? "";
    assert.match(id, UUID);
    assert.ok(missedBody.includes(id), missedBody);
    assert.ok(missedBody.length < 200, missedBody);
    assert.equal(hit.status, 200);
    assert.equal(hitBody, `upstream ${upstream.port}`);
    assert.deepEqual(upstream.received.map((r) => r.path), ["/api/x"]);
  },
);
