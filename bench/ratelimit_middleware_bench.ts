/**
 * The rate-limit middleware's own cost, without sockets: the proxy's first middlewares (request context,
 * route match, rate limit) in front of a trivial handler, with rate limiting off, on (memory store, a
 * limit nothing reaches) and on for a route with `rate_limit: off`. The difference between groups is what
 * the middleware adds to every proxied request; compare it with the per-request time of `deno task load`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import { parseConfig } from "../src/config/load_config.ts";
import { rateLimit } from "../src/middleware/rate_limit.ts";
import { requestContext } from "../src/middleware/request_context.ts";
import { routeMatch } from "../src/middleware/route_match.ts";
import { Runtime } from "../src/runtime.ts";

const BASE = 'server: { port: 0 }\nbackends: ["http://127.0.0.1:1"]\n';
const HUGE = "{ requests_per_second: 1000000000, burst: 1000000000 }";

function app(yaml: string): Hono<AppEnv> {
  const source = { current: new Runtime(parseConfig(yaml, "bench.yaml")) };
  return new Hono<AppEnv>()
    .use(requestContext(source))
    .use(routeMatch())
    .use(rateLimit())
    .all("*", (c) => c.body(null, 204));
}

const off = app(BASE);
const on = app(`${BASE}rate_limit: ${HUGE}\n`);
const routeOff = app(
  `${BASE}rate_limit: ${HUGE}\nroutes: [{ match: { path_prefix: / }, upstream: default, rate_limit: off }]\n`,
);
const env = { remoteAddr: { transport: "tcp" as const, hostname: "203.0.113.7", port: 40000 } };
const request = () => new Request("http://app.test/path?q=1", { headers: { host: "app.test" } });

Deno.bench("middleware chain, rate_limit absent", { group: "rate limit", baseline: true }, async () => {
  await off.fetch(request(), env);
});
Deno.bench("middleware chain, rate_limit on (memory, nothing refused)", { group: "rate limit" }, async () => {
  await on.fetch(request(), env);
});
Deno.bench("middleware chain, rate_limit on but off for the route", { group: "rate limit" }, async () => {
  await routeOff.fetch(request(), env);
});
