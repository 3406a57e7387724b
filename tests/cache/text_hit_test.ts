/**
 * Hits answered from a stored body's text form (UTF-8 bodies up to 64 KiB) carry the stored bytes and fields
 * exactly: no Content-Type of Deno's own, the right Content-Length, a BOM and multi-byte chars kept; bodies that
 * are not UTF-8 take the bytes path and are exact too.
 */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { rawRequest } from "../_support/raw_upstream.ts";
import { startUpstream } from "../_support/upstream.ts";

const bodies: Record<string, { bytes: Uint8Array<ArrayBuffer>; type?: string }> = {
  "/ascii": { bytes: new TextEncoder().encode("hello ".repeat(100)), type: "text/html" },
  "/utf8": { bytes: new TextEncoder().encode("héllo wörld ✓ 𝄞"), type: "text/plain; charset=utf-8" },
  "/bom": { bytes: Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d), type: "application/json" },
  "/untyped": { bytes: new TextEncoder().encode("no content type") },
  "/binary": { bytes: Uint8Array.of(0xff, 0xfe, 0x00, 0x80, 0xc3), type: "application/octet-stream" },
};

Deno.test("cache hits from the text form and from bytes send the stored body and fields exactly", async () => {
  await using upstream = startUpstream((request) => {
    const { bytes, type } = bodies[new URL(request.url).pathname]!;
    const headers = new Headers({ "cache-control": "max-age=600" });
    if (type !== undefined) headers.set("content-type", type);
    const response = new Response(bytes, { headers });
    if (type === undefined) response.headers.delete("content-type");
    return response;
  });
  await using proxy = startProxy(`${poolConfig([upstream.url])}\ncache: { max_size: 100, ttl: 0s }`);
  for (const [path, { bytes, type }] of Object.entries(bodies)) {
    const get = `GET ${path} HTTP/1.1\r\nHost: a.test\r\n\r\n`;
    const miss = await rawRequest(proxy.port, get);
    const hit = await rawRequest(proxy.port, get);
    assert.equal(miss.headers.get("x-cache"), "MISS", path);
    assert.equal(hit.headers.get("x-cache"), "HIT", path);
    for (const answer of [miss, hit]) {
      assert.deepEqual([...answer.body], [...bytes], path);
      assert.equal(answer.headers.get("content-length"), String(bytes.byteLength), path);
      assert.equal(answer.headers.get("content-type"), type ?? null, path);
    }
    assert.equal(hit.head.toLowerCase().split("content-type:").length, type === undefined ? 1 : 2, path);
  }
  assert.equal(upstream.received.length, Object.keys(bodies).length);
});
