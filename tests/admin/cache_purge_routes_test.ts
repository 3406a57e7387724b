import assert from "node:assert/strict";
import { Hono } from "hono";
import { cachePurgeRoutes } from "../../src/admin/cache_purge_routes.ts";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

/** A proxy with the cache on, plus the purge routes mounted on a bare Hono app on loopback. */
function setup(cache = "{ max_size: 100, ttl: 0s }") {
  const upstream = startUpstream((request) => {
    const path = new URL(request.url).pathname;
    return new Response(path, {
      headers: {
        "cache-control": "max-age=600",
        "surrogate-key": path.startsWith("/img/") ? "images all" : "all",
        ...(path === "/doc" ? { "cache-tag": "docs" } : {}),
      },
    });
  });
  const proxy = startProxy(
    ["server: { port: 0 }", "backends:", `  - url: "${upstream.url}"`, `cache: ${cache}`].join("\n"),
  );
  const admin = new Hono();
  admin.route("/", cachePurgeRoutes(proxy.source));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, admin.fetch);
  const adminUrl = `http://127.0.0.1:${server.addr.port}`;
  const status = async (path: string) => {
    const response = await fetch(proxy.url + path);
    await response.body?.cancel();
    return response.headers.get("x-cache");
  };
  const call = async (method: string, path: string, body?: string) => {
    const response = await fetch(adminUrl + path, { method, ...(body === undefined ? {} : { body }) });
    return { status: response.status, json: await response.json() as Record<string, unknown> };
  };
  const close = async () => {
    await server.shutdown();
    await proxy.close();
    await upstream.close();
  };
  return { proxy, status, call, [Symbol.asyncDispose]: close };
}

Deno.test("POST /cache/purge with a url removes that entry only", async () => {
  await using t = await setup();
  for (const path of ["/a", "/b"]) await t.status(path);
  const result = await t.call("POST", "/cache/purge", JSON.stringify({ url: `${t.proxy.url}/a` }));
  assert.deepEqual(result, { status: 200, json: { purged: 1 } });
  assert.equal(await t.status("/a"), "MISS");
  assert.equal(await t.status("/b"), "HIT");
});

Deno.test("POST /cache/purge with a path prefix removes every entry under it", async () => {
  await using t = await setup();
  for (const path of ["/img/1", "/img/2", "/imgx", "/page"]) await t.status(path);
  const result = await t.call("POST", "/cache/purge", JSON.stringify({ prefix: "/img/" }));
  assert.deepEqual(result.json, { purged: 2 });
  assert.deepEqual(
    [await t.status("/img/1"), await t.status("/imgx"), await t.status("/page")],
    ["MISS", "HIT", "HIT"],
  );
});

Deno.test("DELETE /cache?tag= removes entries tagged by Surrogate-Key or Cache-Tag", async () => {
  await using t = await setup();
  for (const path of ["/img/1", "/img/2", "/doc", "/page"]) await t.status(path);
  assert.deepEqual((await t.call("DELETE", "/cache?tag=images")).json, { purged: 2 });
  assert.deepEqual((await t.call("DELETE", "/cache?tag=docs")).json, { purged: 1 });
  assert.equal(await t.status("/page"), "HIT");
  assert.deepEqual((await t.call("DELETE", "/cache?tag=all")).json, { purged: 1 });
  assert.equal(t.proxy.source.current.cache?.http.size, 0);
});

Deno.test("DELETE /cache/all empties the cache", async () => {
  await using t = await setup();
  for (const path of ["/x", "/y"]) await t.status(path);
  assert.deepEqual((await t.call("DELETE", "/cache/all")).json, { purged: 2 });
  assert.equal(await t.status("/x"), "MISS");
});

Deno.test("purge requests without exactly one valid target get 400", async () => {
  await using t = await setup();
  assert.equal((await t.call("POST", "/cache/purge", "not json")).status, 400);
  assert.equal((await t.call("POST", "/cache/purge", JSON.stringify({ url: "/relative" }))).status, 400);
  assert.equal(
    (await t.call("POST", "/cache/purge", JSON.stringify({ url: "http://a/", tag: "t" }))).status,
    400,
  );
  assert.equal((await t.call("POST", "/cache/purge", JSON.stringify({ tag: "" }))).status, 400);
  assert.equal((await t.call("DELETE", "/cache")).status, 400);
});

Deno.test("purge routes answer 409 when the cache section is absent", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(
    ["server: { port: 0 }", "backends:", `  - url: "${upstream.url}"`].join("\n"),
  );
  const admin = new Hono();
  admin.route("/", cachePurgeRoutes(proxy.source));
  const response = await admin.request("/cache/purge", {
    method: "POST",
    body: JSON.stringify({ tag: "t" }),
  });
  assert.equal(response.status, 409);
  assert.match((await response.json() as { error: string }).error, /cache is off/);
});
