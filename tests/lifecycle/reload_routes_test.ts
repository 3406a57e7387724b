import assert from "node:assert/strict";
import { Hono } from "hono";
import { reloadRoutes } from "../../src/admin/reload_routes.ts";
import { parseConfig } from "../../src/config/load_config.ts";
import { Reloader, type ReloadResult } from "../../src/lifecycle/reloader.ts";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

Deno.test("POST /reload answers 200 with what changed, then 400 with file:line:col for an invalid config", async () => {
  await using a = startUpstream(() => new Response("a"));
  await using b = startUpstream(() => new Response("b"));
  const first = `server: { port: 0 }\nbackends: ["${a.url}"]\n`;
  const texts = [first.replace(a.url, b.url), "server: { port: 0 }\nbackends: [42]\n"];
  await using proxy = startProxy(first);
  const counted: ReloadResult["ok"][] = [];
  await using reloader = new Reloader(proxy.source, {
    load: () => Promise.resolve(parseConfig(texts.shift()!, "proxy.yaml")),
    onReload: (result) => counted.push(result.ok),
  });
  const admin = new Hono();
  admin.route("/", reloadRoutes(reloader));
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, admin.fetch);
  const url = `http://127.0.0.1:${server.addr.port}/reload`;

  const ok = await fetch(url, { method: "POST" });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), {
    ok: true,
    source: "proxy.yaml",
    changed: ["backends"],
    restartRequired: [],
  });
  assert.equal(await (await fetch(`${proxy.url}/`)).text(), "b");

  const bad = await fetch(url, { method: "POST" });
  assert.equal(bad.status, 400);
  const body = await bad.json();
  assert.equal(body.ok, false);
  assert.match(body.error, /^proxy\.yaml:2:\d+ backends\[0\]/);
  assert.equal(await (await fetch(`${proxy.url}/`)).text(), "b", "the previous config keeps serving");
  assert.deepEqual(counted, [true, false]);

  const get = await fetch(url);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  await get.body?.cancel();
});
