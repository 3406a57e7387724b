/**
 * Before and after of two hit-path shortcuts (bench/README.md, "Pipeline diet, fifth step"), in one run:
 * a Hono app with one handler behind Hono's default router vs behind LoneHandlerRouter (and a `getPath` that
 * parses nothing); and the cache key of a URL seen before, parsed again (as before the memo) vs memoized.
 *
 *   deno bench bench/dispatch_bench.ts
 */
import { Hono } from "hono";
import { CacheKey } from "../src/cache/cache_key.ts";
import { anyPath, LoneHandlerRouter } from "../src/middleware/lone_handler_router.ts";

const answer = new Response("ok");
const request = new Request("http://127.0.0.1:8080/some/path?q=1");
const hono = new Hono();
hono.all("*", () => answer);
const lone = new Hono({ router: new LoneHandlerRouter(), getPath: anyPath });
lone.all("*", () => answer);

Deno.bench("Hono, default router, one handler", { group: "dispatch", baseline: true }, () => {
  hono.fetch(request);
});
Deno.bench("Hono, LoneHandlerRouter + anyPath", { group: "dispatch" }, () => {
  lone.fetch(request);
});

const key = new CacheKey();
const url = "http://127.0.0.1:8080/some/path?q=1";
key.for(url);
Deno.bench("CacheKey.for, URL parsed each time", { group: "cache-key", baseline: true }, () => {
  key.for(new URL(url));
});
Deno.bench("CacheKey.for, URL string seen before (memo)", { group: "cache-key" }, () => {
  key.for(url);
});
// As on the request path, where request.url is a new string each time: the memo hashes it first.
const [origin, rest] = [url.slice(0, 21), url.slice(21)];
Deno.bench("CacheKey.for, equal URL in a new string (memo)", { group: "cache-key" }, () => {
  key.for(`${origin}${rest}`.normalize());
});
