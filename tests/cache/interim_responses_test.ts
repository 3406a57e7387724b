/** RFC 9110 §15.2, RFC 9111 §3: interim (1xx) responses are never stored; the final response is. */
import assert from "node:assert/strict";
import type { CacheRuntime } from "../../src/cache/cache_runtime.ts";
import { startProxy, type TestProxy } from "../_support/proxy.ts";
import { startRawUpstream } from "../_support/raw_upstream.ts";

function cacheOf(proxy: TestProxy): CacheRuntime {
  const cache = proxy.source.current.cache;
  assert.ok(cache, "cache is on");
  return cache;
}

Deno.test("a 103 before a cacheable 200 is not relayed or stored; the 200 is stored and served", async () => {
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await connection.write(
      "HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n" +
        "HTTP/1.1 200 OK\r\ncache-control: max-age=60\r\ncontent-length: 5\r\n\r\nfinal",
    );
    connection.close();
  });
  await using proxy = startProxy(
    [`server: { port: 0 }`, "backends:", `  - url: "${upstream.url}"`, "cache: { max_size: 100, ttl: 0s }"]
      .join("\n"),
  );
  const first = await fetch(`${proxy.url}/hinted`);
  assert.equal(first.status, 200);
  assert.equal(await first.text(), "final");
  assert.equal(first.headers.get("link"), null, "the 103's fields do not leak into the 200");
  assert.equal(cacheOf(proxy).http.size, 1);
  const second = await fetch(`${proxy.url}/hinted`);
  assert.equal(second.status, 200);
  assert.equal(await second.text(), "final");
  assert.match(second.headers.get("cache-status") ?? "", /hit/);
  assert.equal(upstream.heads.length, 1, "the second request is a HIT");
});
