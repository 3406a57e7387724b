import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { ProxyError } from "../errors.ts";
import { bodyLimit } from "./request_limits.ts";

/** Finds the route for the request (host, then path, then method) and stores it as the `route` variable. */
export function routeMatch(): MiddlewareHandler<AppEnv> {
  return async function routeMatch(c, next) {
    const pathAndQuery = c.get("pathAndQuery");
    const q = pathAndQuery.indexOf("?");
    const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
    const route = c.get("runtime").router.match(c.req.raw.method, c.req.raw.headers.get("host") ?? "", path);
    if (route === undefined) throw new ProxyError("no_route");
    c.set("route", route);
    await next();
  };
}

/**
 * {@linkcode routeMatch} then {@linkcode bodyLimit} (which needs the route) as one middleware level: each Hono
 * level costs a closure, a promise and a dispatch per request (bench/forwarder_ablation.ts).
 */
export function routeMatchAndBodyLimit(): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit();
  return function routeMatchAndBodyLimit(c, next) {
    const pathAndQuery = c.get("pathAndQuery");
    const q = pathAndQuery.indexOf("?");
    const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
    const route = c.get("runtime").router.match(c.req.raw.method, c.req.raw.headers.get("host") ?? "", path);
    if (route === undefined) throw new ProxyError("no_route");
    c.set("route", route);
    return limit(c, next);
  };
}
