/**
 * Range requests end to end (RFC 9110 §14): a single range of a complete stored response is a 206 from the
 * cache; misses forward the Range and never store the 206; revalidations fetch the whole response.
 */
import assert from "node:assert/strict";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz";

function yaml(upstreamUrl: string): string {
  return `server: { port: 0 }\nbackends: ["${upstreamUrl}"]\ncache: { max_size: 100, ttl: 0s }`;
}

async function get(url: string, headers: HeadersInit = {}, method = "GET") {
  const response = await fetch(url, { method, headers });
  const body = await response.text();
  return { status: response.status, body, headers: response.headers };
}

const alphabet = (cc = "max-age=60") => () =>
  new Response(ALPHABET, { headers: { "content-type": "text/plain", "cache-control": cc, etag: '"v1"' } });

Deno.test("a single range of a stored response is a 206 from the cache with Content-Range and Content-Length", async () => {
  await using upstream = startUpstream(alphabet());
  await using proxy = startProxy(yaml(upstream.url));
  assert.equal((await get(`${proxy.url}/a`)).body, ALPHABET);
  const cases: Array<[string, string, string]> = [
    ["bytes=2-4", "cde", "bytes 2-4/26"],
    ["bytes=-3", "xyz", "bytes 23-25/26"],
    ["bytes=24-", "yz", "bytes 24-25/26"],
    ["bytes=20-100", "uvwxyz", "bytes 20-25/26"],
  ];
  for (const [range, body, contentRange] of cases) {
    const partial = await get(`${proxy.url}/a`, { range, "accept-encoding": "gzip" });
    assert.equal(partial.status, 206, range);
    assert.equal(partial.body, body, range);
    assert.equal(partial.headers.get("content-range"), contentRange, range);
    assert.equal(partial.headers.get("content-length"), String(body.length), range);
    assert.equal(partial.headers.get("content-encoding"), null, "a range is never re-encoded");
    assert.equal(partial.headers.get("content-type"), "text/plain");
    assert.equal(partial.headers.get("etag"), '"v1"');
    assert.equal(partial.headers.get("x-cache"), "HIT");
    assert.match(partial.headers.get("cache-status") ?? "", /^proxy; hit/);
  }
  assert.equal(upstream.received.length, 1, "every range came from the store");
});

Deno.test("an unsatisfiable range is a 416 with Content-Range: bytes */length", async () => {
  await using upstream = startUpstream(alphabet());
  await using proxy = startProxy(yaml(upstream.url));
  await get(`${proxy.url}/u`);
  for (const range of ["bytes=26-", "bytes=-0"]) {
    const answer = await get(`${proxy.url}/u`, { range });
    assert.equal(answer.status, 416, range);
    assert.equal(answer.headers.get("content-range"), "bytes */26");
    assert.equal(answer.body, "");
  }
  assert.equal(upstream.received.length, 1);
});

Deno.test("several ranges, an invalid Range, HEAD and a stored non-200 get the full response", async () => {
  await using upstream = startUpstream((request) =>
    new URL(request.url).pathname === "/missing"
      ? new Response("nope", { status: 404, headers: { "cache-control": "max-age=60" } })
      : alphabet()()
  );
  await using proxy = startProxy(yaml(upstream.url));
  await get(`${proxy.url}/f`);
  await get(`${proxy.url}/missing`);
  for (const range of ["bytes=0-0,-1", "bytes=5-2", "lines=1-2"]) {
    const full = await get(`${proxy.url}/f`, { range });
    assert.equal(full.status, 200, range);
    assert.equal(full.body, ALPHABET, range);
    assert.equal(full.headers.get("content-range"), null);
  }
  assert.equal((await get(`${proxy.url}/f`, { range: "bytes=0-1" }, "HEAD")).status, 200);
  const missing = await get(`${proxy.url}/missing`, { range: "bytes=0-1" });
  assert.deepEqual([missing.status, missing.body], [404, "nope"]);
  assert.equal(upstream.received.length, 2);
});

Deno.test("If-Range: a matching strong ETag or Last-Modified date gives the range, a mismatch the full 200", async () => {
  const lastModified = new Date(Date.now() - 86_400_000).toUTCString();
  await using upstream = startUpstream(() =>
    new Response(ALPHABET, {
      headers: {
        "cache-control": "max-age=60",
        etag: '"v1"',
        "last-modified": lastModified,
        date: new Date().toUTCString(),
      },
    })
  );
  await using proxy = startProxy(yaml(upstream.url));
  await get(`${proxy.url}/i`);
  const answer = async (ifRange: string) => {
    const r = await get(`${proxy.url}/i`, { range: "bytes=0-2", "if-range": ifRange });
    return [r.status, r.body];
  };
  assert.deepEqual(await answer('"v1"'), [206, "abc"]);
  assert.deepEqual(await answer(lastModified), [206, "abc"]);
  assert.deepEqual(await answer('"v0"'), [200, ALPHABET]);
  assert.deepEqual(await answer('W/"v1"'), [200, ALPHABET]);
  assert.deepEqual(await answer(new Date(Date.now() - 90_000_000).toUTCString()), [200, ALPHABET]);
  assert.equal(upstream.received.length, 1);
});

Deno.test("a miss forwards the Range and relays the origin's 206 without storing it", async () => {
  await using upstream = startUpstream((request) => {
    const range = request.headers.get("range");
    const headers = { "cache-control": "max-age=60", etag: '"v1"' };
    if (range === "bytes=0-1") {
      return new Response("ab", { status: 206, headers: { ...headers, "content-range": "bytes 0-1/26" } });
    }
    return new Response(ALPHABET, { headers });
  });
  await using proxy = startProxy(yaml(upstream.url));
  const first = await get(`${proxy.url}/m`, { range: "bytes=0-1" });
  assert.deepEqual([first.status, first.body], [206, "ab"]);
  assert.equal(first.headers.get("x-cache"), "MISS");
  assert.doesNotMatch(first.headers.get("cache-status") ?? "", /stored/);
  assert.equal(upstream.received[0]?.headers.get("range"), "bytes=0-1");
  assert.equal(proxy.source.current.cache?.http.size, 0, "a 206 is never stored");
  // The full response is stored, and the range is then answered from it.
  await get(`${proxy.url}/m`);
  const hit = await get(`${proxy.url}/m`, { range: "bytes=0-1" });
  assert.deepEqual([hit.status, hit.body, hit.headers.get("x-cache")], [206, "ab", "HIT"]);
  assert.equal(upstream.received.length, 2);
});

Deno.test("a stale entry is revalidated without the client's Range, then the range is served from it", async () => {
  await using upstream = startUpstream((request) =>
    request.headers.get("if-none-match") === '"v1"'
      ? new Response(null, { status: 304, headers: { etag: '"v1"', "cache-control": "max-age=60" } })
      : alphabet("max-age=0")()
  );
  await using proxy = startProxy(yaml(upstream.url));
  await get(`${proxy.url}/r`);
  const partial = await get(`${proxy.url}/r`, { range: "bytes=1-2", "if-range": '"v1"' });
  assert.deepEqual([partial.status, partial.body], [206, "bc"]);
  assert.match(partial.headers.get("cache-status") ?? "", /fwd=stale; fwd-status=304/);
  const revalidation = upstream.received[1]!;
  assert.equal(revalidation.headers.get("if-none-match"), '"v1"');
  assert.equal(revalidation.headers.get("range"), null);
  assert.equal(revalidation.headers.get("if-range"), null);
});
