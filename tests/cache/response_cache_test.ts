/** End to end: the real app in-process in front of loopback upstreams, with `cache:` enabled. */
import assert from "node:assert/strict";
import type { CacheRuntime } from "../../src/cache/cache_runtime.ts";
import { parseConfig } from "../../src/config/load_config.ts";
import { Runtime } from "../../src/runtime.ts";
import { startProxy, type TestProxy } from "../_support/proxy.ts";
import { rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";
import { startUpstream, type UpstreamHandler } from "../_support/upstream.ts";

function cacheYaml(upstreamUrl: string, cache = "{ max_size: 100, ttl: 0s }", server = "port: 0"): string {
  return [`server: { ${server} }`, "backends:", `  - url: "${upstreamUrl}"`, `cache: ${cache}`].join("\n");
}

function cacheOf(proxy: TestProxy): CacheRuntime {
  const cache = proxy.source.current.cache;
  assert.ok(cache, "cache is on");
  return cache;
}

async function get(url: string, headers: HeadersInit = {}, method = "GET") {
  const response = await fetch(url, { method, headers });
  const body = await response.text();
  return { response, body, status: response.status, headers: response.headers };
}

const cacheable =
  (body: string, cc = "max-age=60", extra: Record<string, string> = {}): UpstreamHandler => () =>
    new Response(body, { headers: { "content-type": "text/plain", "cache-control": cc, ...extra } });

Deno.test("a second GET is a HIT served without reaching the upstream, with Age and Cache-Status", async () => {
  await using upstream = startUpstream(cacheable("hello"));
  await using proxy = startProxy(cacheYaml(upstream.url));
  const first = await get(`${proxy.url}/a?x=1`);
  assert.equal(first.body, "hello");
  assert.equal(first.headers.get("x-cache"), "MISS");
  assert.match(first.headers.get("cache-status") ?? "", /^proxy; fwd=uri-miss; fwd-status=200; stored$/);
  const second = await get(`${proxy.url}/a?x=1`);
  assert.equal(second.body, "hello");
  assert.equal(second.headers.get("x-cache"), "HIT");
  assert.match(second.headers.get("cache-status") ?? "", /^proxy; hit; ttl=\d+$/);
  // Date has whole seconds, so the apparent age of a just-stored response is 0 or 1 (RFC 9111 §4.2.3).
  assert.match(second.headers.get("age") ?? "", /^[01]$/);
  assert.ok(second.headers.get("x-request-id"));
  assert.equal(upstream.received.length, 1);
  const other = await get(`${proxy.url}/a?x=2`);
  assert.equal(other.headers.get("x-cache"), "MISS", "the query is part of the key");
  assert.equal(upstream.received.length, 2);
});

Deno.test("responses marked no-store or private are never stored", async () => {
  await using upstream = startUpstream((request) =>
    new Response("secret", {
      headers: {
        "cache-control": new URL(request.url).pathname === "/ns" ? "no-store" : "private, max-age=60",
      },
    })
  );
  await using proxy = startProxy(cacheYaml(upstream.url));
  for (const path of ["/ns", "/ns", "/priv", "/priv"]) {
    const { headers } = await get(proxy.url + path);
    assert.equal(headers.get("x-cache"), "MISS");
    assert.doesNotMatch(headers.get("cache-status") ?? "", /stored/);
  }
  assert.equal(upstream.received.length, 4);
  assert.equal(cacheOf(proxy).http.size, 0);
});

Deno.test("Vary splits entries by the nominated request header", async () => {
  await using upstream = startUpstream((request) =>
    new Response(`lang ${request.headers.get("accept-language")}`, {
      headers: { "cache-control": "max-age=60", vary: "Accept-Language" },
    })
  );
  await using proxy = startProxy(cacheYaml(upstream.url));
  assert.equal((await get(`${proxy.url}/v`, { "accept-language": "en" })).body, "lang en");
  assert.equal((await get(`${proxy.url}/v`, { "accept-language": "fr" })).body, "lang fr");
  const en = await get(`${proxy.url}/v`, { "accept-language": "en" });
  const fr = await get(`${proxy.url}/v`, { "accept-language": "fr" });
  assert.deepEqual([en.body, en.headers.get("x-cache")], ["lang en", "HIT"]);
  assert.deepEqual([fr.body, fr.headers.get("x-cache")], ["lang fr", "HIT"]);
  assert.equal(upstream.received.length, 2);
});

Deno.test("a stale entry is revalidated with If-None-Match and a 304 refreshes it", async () => {
  let version = 0;
  await using upstream = startUpstream((request) => {
    if (request.headers.get("if-none-match") === '"v1"') {
      return new Response(null, { status: 304, headers: { etag: '"v1"', "cache-control": "max-age=60" } });
    }
    version++;
    return new Response(`body v${version}`, { headers: { etag: '"v1"', "cache-control": "max-age=0" } });
  });
  await using proxy = startProxy(cacheYaml(upstream.url));
  assert.equal((await get(`${proxy.url}/r`)).body, "body v1");
  const revalidated = await get(`${proxy.url}/r`);
  assert.equal(revalidated.body, "body v1");
  assert.equal(revalidated.headers.get("x-cache"), "HIT");
  assert.match(revalidated.headers.get("cache-status") ?? "", /fwd=stale; fwd-status=304/);
  assert.equal(upstream.received[1]?.headers.get("if-none-match"), '"v1"');
  // The 304 carried max-age=60: the refreshed entry is fresh now.
  const hit = await get(`${proxy.url}/r`);
  assert.equal(hit.headers.get("x-cache"), "HIT");
  assert.match(hit.headers.get("cache-status") ?? "", /^proxy; hit/);
  assert.equal(upstream.received.length, 2);
});

Deno.test("concurrent misses for one URL cause a single upstream request", async () => {
  const { promise: release, resolve } = Promise.withResolvers<void>();
  await using upstream = startUpstream(async () => {
    await release;
    return new Response("shared", { headers: { "cache-control": "max-age=60" } });
  });
  await using proxy = startProxy(cacheYaml(upstream.url));
  const cache = cacheOf(proxy);
  const clients = Array.from({ length: 8 }, () => get(`${proxy.url}/hot`));
  while (upstream.received.length < 1 || cache.coalescer.waiting < 7) {
    await new Promise((r) => setTimeout(r, 5));
  }
  resolve();
  const results = await Promise.all(clients);
  assert.deepEqual(results.map((r) => r.body), Array(8).fill("shared"));
  assert.equal(upstream.received.length, 1);
  assert.equal(results.filter((r) => /collapsed/.test(r.headers.get("cache-status") ?? "")).length, 7);
});

Deno.test("with stale-if-error the stale entry is served while the upstream is down", async () => {
  const upstream = startUpstream(
    cacheable("kept", "max-age=0, stale-if-error=600", { etag: '"e"' }),
  );
  await using proxy = startProxy(cacheYaml(upstream.url));
  assert.equal((await get(`${proxy.url}/s`)).body, "kept");
  await upstream.close();
  const stale = await get(`${proxy.url}/s`);
  assert.equal(stale.status, 200);
  assert.equal(stale.body, "kept");
  assert.equal(stale.headers.get("x-cache"), "STALE");
  assert.match(stale.headers.get("cache-status") ?? "", /detail="stale-if-error"/);
});

Deno.test("without stale-if-error a down upstream still gives 502 for a stale entry", async () => {
  const upstream = startUpstream(cacheable("gone", "max-age=0", { etag: '"e"' }));
  await using proxy = startProxy(cacheYaml(upstream.url));
  await get(`${proxy.url}/s`);
  await upstream.close();
  assert.equal((await get(`${proxy.url}/s`)).status, 502);
});

Deno.test("stale-while-revalidate serves the stale entry and refreshes it in the background", async () => {
  let n = 0;
  await using upstream = startUpstream(() =>
    new Response(`v${++n}`, { headers: { "cache-control": "max-age=0, stale-while-revalidate=600" } })
  );
  await using proxy = startProxy(cacheYaml(upstream.url));
  const cache = cacheOf(proxy);
  // max-age=0 without a validator is stale on arrival, but stale-while-revalidate makes it reusable.
  assert.equal((await get(`${proxy.url}/w`)).body, "v1");
  const stale = await get(`${proxy.url}/w`);
  assert.equal(stale.body, "v1");
  assert.equal(stale.headers.get("x-cache"), "STALE");
  await cache.settled();
  assert.equal(upstream.received.length, 2);
  assert.equal((await get(`${proxy.url}/w`)).body, "v2");
  await cache.settled();
});

Deno.test("stored bytes stay under max_bytes while many responses pass through", async () => {
  const body = "x".repeat(1000);
  await using upstream = startUpstream(cacheable(body));
  await using proxy = startProxy(
    cacheYaml(upstream.url, "{ max_size: 1000, ttl: 0s, max_bytes: 8KiB, max_object_size: 2KiB }"),
  );
  const cache = cacheOf(proxy);
  for (let i = 0; i < 40; i++) {
    assert.equal((await get(`${proxy.url}/m/${i}`)).body, body);
    assert.ok(cache.http.bytes <= 8192, `bytes ${cache.http.bytes} after ${i + 1} responses`);
  }
  assert.ok(cache.http.size > 0 && cache.http.size < 8, `size ${cache.http.size}`);
  assert.equal((await get(`${proxy.url}/m/39`)).headers.get("x-cache"), "HIT", "the newest survives");
  assert.equal((await get(`${proxy.url}/m/0`)).headers.get("x-cache"), "MISS", "the oldest was evicted");
});

Deno.test("a response over max_object_size streams through whole and is not stored", async () => {
  const body = "y".repeat(5000);
  await using upstream = startUpstream(cacheable(body));
  await using proxy = startProxy(cacheYaml(upstream.url, "{ max_size: 10, ttl: 0s, max_object_size: 4KiB }"));
  assert.equal((await get(`${proxy.url}/big`)).body, body);
  assert.equal((await get(`${proxy.url}/big`)).body, body);
  assert.equal(upstream.received.length, 2);
  assert.equal(cacheOf(proxy).http.size, 0);
});

Deno.test("a body cut short by the upstream is never stored", async () => {
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await connection.write(
      "HTTP/1.1 200 OK\r\ncache-control: max-age=60\r\ncontent-length: 100\r\n\r\n" + "z".repeat(40),
    );
    connection.close();
  });
  await using proxy = startProxy(cacheYaml(upstream.url));
  const response = await fetch(`${proxy.url}/cut`);
  await assert.rejects(response.text());
  assert.equal(cacheOf(proxy).http.size, 0);
});

Deno.test("a successful POST invalidates the stored response for its URL", async () => {
  await using upstream = startUpstream((request) =>
    request.method === "POST"
      ? new Response("done", { status: 201 })
      : new Response("page", { headers: { "cache-control": "max-age=60" } })
  );
  await using proxy = startProxy(cacheYaml(upstream.url));
  await get(`${proxy.url}/item`);
  assert.equal((await get(`${proxy.url}/item`)).headers.get("x-cache"), "HIT");
  const post = await fetch(`${proxy.url}/item`, { method: "POST", body: "x" });
  await post.body?.cancel();
  assert.equal(post.status, 201);
  assert.equal((await get(`${proxy.url}/item`)).headers.get("x-cache"), "MISS");
});

Deno.test("HEAD is answered from a stored GET", async () => {
  await using upstream = startUpstream(cacheable("full body"));
  await using proxy = startProxy(cacheYaml(upstream.url));
  await get(`${proxy.url}/h`);
  const head = await get(`${proxy.url}/h`, {}, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
  assert.equal(head.headers.get("x-cache"), "HIT");
  assert.equal(head.headers.get("content-length"), "9");
  assert.equal(upstream.received.length, 1);
});

Deno.test("a client's If-None-Match matching the stored ETag gets 304 from the cache", async () => {
  await using upstream = startUpstream(cacheable("tagged", "max-age=60", { etag: '"t1"' }));
  await using proxy = startProxy(cacheYaml(upstream.url));
  await get(`${proxy.url}/c`);
  const conditional = await get(`${proxy.url}/c`, { "if-none-match": '"t1"' });
  assert.equal(conditional.status, 304);
  assert.equal(conditional.headers.get("etag"), '"t1"');
  assert.equal(upstream.received.length, 1);
});

Deno.test("only-if-cached without a stored response gets 504", async () => {
  await using upstream = startUpstream(cacheable("x"));
  await using proxy = startProxy(cacheYaml(upstream.url));
  const response = await get(`${proxy.url}/o`, { "cache-control": "only-if-cached" });
  assert.equal(response.status, 504);
  assert.equal(upstream.received.length, 0);
});

Deno.test("a GET with a body bypasses the cache", async () => {
  await using upstream = startUpstream(cacheable("ok"));
  await using proxy = startProxy(cacheYaml(upstream.url));
  await get(`${proxy.url}/b`);
  const withBody = await rawRequest(
    proxy.port,
    "GET /b HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc",
  );
  assert.match(withBody.headers.get("cache-status") ?? "", /fwd=bypass/);
  assert.equal(upstream.received.length, 2);
  // A chunked body (Transfer-Encoding, no Content-Length) bypasses too.
  const chunked = await rawRequest(
    proxy.port,
    "GET /b HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  );
  assert.match(chunked.headers.get("cache-status") ?? "", /fwd=bypass/);
  assert.equal(upstream.received.length, 3);
});

Deno.test("ignored query parameters share one entry", async () => {
  await using upstream = startUpstream(cacheable("campaign"));
  await using proxy = startProxy(
    cacheYaml(upstream.url, '{ max_size: 10, ttl: 0s, ignored_query_params: ["utm_*", "fbclid"] }'),
  );
  await get(`${proxy.url}/p?id=1&utm_source=a`);
  const hit = await get(`${proxy.url}/p?id=1&fbclid=z&utm_medium=b`);
  assert.equal(hit.headers.get("x-cache"), "HIT");
  assert.equal(upstream.received.length, 1);
});

Deno.test("entries survive a reload when the cache section is unchanged, not when it changes", async () => {
  await using upstream = startUpstream(cacheable("reloaded"));
  const yaml = cacheYaml(upstream.url);
  await using proxy = startProxy(yaml);
  await get(`${proxy.url}/k`);
  const old = proxy.source.current;
  proxy.source.current = new Runtime(parseConfig(yaml, "test.yaml"), { previous: old }).start();
  await old[Symbol.asyncDispose]();
  assert.equal((await get(`${proxy.url}/k`)).headers.get("x-cache"), "HIT");
  const changed = cacheYaml(upstream.url, "{ max_size: 50, ttl: 0s }");
  const before = proxy.source.current;
  proxy.source.current = new Runtime(parseConfig(changed, "test.yaml"), { previous: before }).start();
  await before[Symbol.asyncDispose]();
  assert.equal((await get(`${proxy.url}/k`)).headers.get("x-cache"), "MISS");
});

Deno.test("a gzip-accepting client gets a compressed body from a cache hit", async () => {
  const text = "compress me ".repeat(200);
  await using upstream = startUpstream(cacheable(text, "max-age=60", { "content-type": "text/plain" }));
  await using proxy = startProxy(cacheYaml(upstream.url));
  await get(`${proxy.url}/z`);
  const response = await fetch(`${proxy.url}/z`, { headers: { "accept-encoding": "gzip" } });
  assert.equal(response.headers.get("x-cache"), "HIT");
  assert.equal(response.headers.get("content-encoding"), "gzip");
  assert.equal(await response.text(), text); // fetch decodes gzip
});

Deno.test("with no cache section responses carry no cache headers", async () => {
  await using upstream = startUpstream(cacheable("plain"));
  await using proxy = startProxy(
    ["server: { port: 0 }", "backends:", `  - url: "${upstream.url}"`].join("\n"),
  );
  await get(`${proxy.url}/n`);
  const second = await get(`${proxy.url}/n`);
  assert.equal(second.headers.get("x-cache"), null);
  assert.equal(second.headers.get("cache-status"), null);
  assert.equal(upstream.received.length, 2);
});
