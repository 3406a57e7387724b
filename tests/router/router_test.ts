import assert from "node:assert/strict";
import { type MatchStep, normalizeHost, Router, type RouteSpec } from "../../src/router/router.ts";

type Spec = Omit<RouteSpec<string>, "value"> & { value?: string };

function router(routes: readonly Spec[], fallback?: string) {
  return new Router<string>(routes.map((r, i) => ({ ...r, value: r.value ?? `r${i}` })), fallback);
}

Deno.test("Router.match() prefers an exact path over the longest prefix", () => {
  const r = router([
    { pathPrefix: "/api", value: "prefix" },
    { path: "/api/users", value: "exact" },
    { pathPrefix: "/api/users", value: "longer" },
  ]);
  assert.equal(r.match("GET", "h", "/api/users"), "exact");
  assert.equal(r.match("GET", "h", "/api/users/7"), "longer");
  assert.equal(r.match("GET", "h", "/api/orders"), "prefix");
});

Deno.test("Router.match() treats prefixes as whole segments: /api matches /api/x, not /apix", () => {
  const r = router([{ pathPrefix: "/api", value: "api" }], "fallback");
  assert.equal(r.match("GET", "h", "/api"), "api");
  assert.equal(r.match("GET", "h", "/api/"), "api");
  assert.equal(r.match("GET", "h", "/api/x/y"), "api");
  assert.equal(r.match("GET", "h", "/apix"), "fallback");
  assert.equal(r.match("GET", "h", "/"), "fallback");
});

Deno.test("Router.match() tries the exact host, then *.suffix from the most specific, then any host", () => {
  const r = router([
    { host: "a.example.com", pathPrefix: "/x", value: "exact-host" },
    { host: "*.example.com", value: "wild" },
    { host: "*.b.example.com", value: "wild-deeper" },
    { value: "any" },
  ]);
  assert.equal(r.match("GET", "a.example.com", "/x/1"), "exact-host");
  // exact host table has no route for /y: fall through to wildcard
  assert.equal(r.match("GET", "a.example.com", "/y"), "wild");
  assert.equal(r.match("GET", "c.b.example.com", "/"), "wild-deeper");
  assert.equal(r.match("GET", "z.example.com", "/"), "wild");
  assert.equal(r.match("GET", "example.com", "/"), "any", "*.example.com does not match the bare domain");
  assert.equal(r.match("GET", "other.org", "/"), "any");
});

Deno.test("Router.match() ignores host case, port and a trailing dot", () => {
  const r = router([{ host: "api.example.com", value: "api" }], "fallback");
  assert.equal(r.match("GET", "API.Example.COM:8443", "/"), "api");
  assert.equal(r.match("GET", "api.example.com.", "/"), "api");
  assert.equal(normalizeHost("[::1]:8080"), "[::1]");
});

Deno.test("Router.match() filters by method and falls back to less specific routes on a mismatch", () => {
  const r = router([
    { pathPrefix: "/api", methods: ["GET", "HEAD"], value: "read" },
    { pathPrefix: "/api", methods: ["POST"], value: "write" },
    { pathPrefix: "/", value: "catch-all" },
  ]);
  assert.equal(r.match("GET", "h", "/api/x"), "read");
  assert.equal(r.match("POST", "h", "/api/x"), "write");
  assert.equal(r.match("DELETE", "h", "/api/x"), "catch-all");
});

Deno.test("Router.match() keeps config order among equally specific routes", () => {
  const r = router([{ pathPrefix: "/a", value: "first" }, { pathPrefix: "/a", value: "second" }]);
  assert.equal(r.match("GET", "h", "/a"), "first");
});

Deno.test("Router.match() returns the fallback, or undefined without one", () => {
  assert.equal(router([{ path: "/only" }]).match("GET", "h", "/other"), undefined);
  assert.equal(router([{ path: "/only" }], "default").match("GET", "h", "/other"), "default");
});

Deno.test("Router.match() records every candidate it tried when asked for a trace", () => {
  const r = router([
    { host: "a.test", path: "/p", methods: ["POST"], value: "post-only" },
    { pathPrefix: "/", value: "root" },
  ]);
  const trace: MatchStep[] = [];
  assert.equal(r.match("GET", "a.test", "/p", trace), "root");
  assert.deepEqual(trace, [
    { host: "a.test", path: "/p", outcome: "method_mismatch" },
    { host: "*", path: "/*", outcome: "matched" },
  ]);
});

Deno.test("Router.match() with 10,000 routes still finds each one exactly", () => {
  const routes = Array.from({ length: 10_000 }, (_, i) => ({ pathPrefix: `/svc${i}/v1`, value: `svc${i}` }));
  const r = new Router<string>(routes);
  for (const i of [0, 1, 4_999, 9_999]) assert.equal(r.match("GET", "h", `/svc${i}/v1/items`), `svc${i}`);
  assert.equal(r.match("GET", "h", "/svc10000/v1"), undefined);
});
