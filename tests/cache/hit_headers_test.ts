/**
 * The fields a cache hit adds itself (prepared at store time, appended per hit): each exactly once, and the
 * request id is the serving request's own, never the one of the request that stored the response.
 */
import assert from "node:assert/strict";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

function yaml(upstreamUrl: string): string {
  return `server: { port: 0 }\nbackends: ["${upstreamUrl}"]\ncache: { max_size: 100 }\n`;
}

const cacheable = () =>
  new Response("hello", {
    headers: { "content-type": "text/plain", "cache-control": "max-age=600", etag: '"v1"' },
  });

/** Raw header lines of a response as the client received them, name → values in order. */
async function fieldLines(url: string, headers: Record<string, string> = {}, method = "GET") {
  const response = await fetch(url, { method, headers });
  const body = await response.text();
  const lines = new Map<string, string[]>();
  response.headers.forEach((value, name) => lines.set(name, [...(lines.get(name) ?? []), value]));
  return { status: response.status, body, lines, headers: response.headers };
}

Deno.test("a hit carries its own X-Request-Id and one Age, Cache-Status and X-Cache", async () => {
  await using upstream = startUpstream(cacheable);
  await using proxy = startProxy(yaml(upstream.url));
  const miss = await fieldLines(`${proxy.url}/a`);
  assert.equal(miss.headers.get("x-cache"), "MISS");
  const missId = miss.headers.get("x-request-id");
  assert.ok(missId);

  const hit = await fieldLines(`${proxy.url}/a`);
  assert.equal(hit.body, "hello");
  assert.equal(hit.headers.get("x-cache"), "HIT");
  const hitId = hit.headers.get("x-request-id");
  assert.ok(hitId);
  assert.ok(!hitId.includes(","), `one request id, got ${hitId}`);
  assert.notEqual(hitId, missId);
  assert.match(hit.headers.get("age") ?? "", /^\d+$/);
  assert.match(hit.headers.get("cache-status") ?? "", /^proxy; hit; ttl=\d+$/);
  assert.equal(hit.headers.get("etag"), '"v1"');
  assert.equal(hit.headers.get("content-type"), "text/plain");
  assert.equal(upstream.received.length, 1);
});

Deno.test("a trusted peer's X-Request-Id is the one a hit answers with", async () => {
  await using upstream = startUpstream(cacheable);
  await using proxy = startProxy(
    `server: { port: 0, trusted_proxies: ["127.0.0.1/32"] }\nbackends: ["${upstream.url}"]\ncache: { max_size: 100 }\n`,
  );
  await (await fetch(`${proxy.url}/b`, { headers: { "x-request-id": "first-one" } })).text();
  const hit = await fieldLines(`${proxy.url}/b`, { "x-request-id": "second-one" });
  assert.equal(hit.headers.get("x-cache"), "HIT");
  assert.equal(hit.headers.get("x-request-id"), "second-one");
});

Deno.test("a 304 and a HEAD answered from the cache carry the hit's own fields", async () => {
  await using upstream = startUpstream(cacheable);
  await using proxy = startProxy(yaml(upstream.url));
  await (await fetch(`${proxy.url}/c`)).text();

  const notModified = await fieldLines(`${proxy.url}/c`, { "if-none-match": '"v1"' });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.body, "");
  assert.equal(notModified.headers.get("etag"), '"v1"');
  assert.equal(notModified.headers.get("x-cache"), "HIT");
  assert.ok(!(notModified.headers.get("x-request-id") ?? ",").includes(","));
  assert.equal(notModified.headers.get("content-type"), null, "no representation fields on a 304");

  const head = await fieldLines(`${proxy.url}/c`, {}, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
  assert.equal(head.headers.get("x-cache"), "HIT");
  assert.equal(head.headers.get("content-type"), "text/plain");
  assert.equal(upstream.received.length, 1);
});
