import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { ProxyError } from "../errors.ts";
import { fieldValue } from "../proxy/field_list.ts";

/** Finds the route for the request (host, then path, then method) and stores it in the request state. */
export function routeMatch(): MiddlewareHandler<AppEnv> {
  return async function routeMatch(c, next) {
    matchRoute(c);
    await next();
  };
}

/** The work of {@linkcode routeMatch}: sets `c.env.route`, or throws ProxyError `no_route` (404). */
export function matchRoute(c: Context<AppEnv>): void {
  const state = c.env;
  const pathAndQuery = state.pathAndQuery;
  const q = pathAndQuery.indexOf("?");
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const route = state.runtime.router.match(
    c.req.raw.method,
    fieldValue(c.req.raw.headers, "host") ?? "",
    path,
  );
  if (route === undefined) throw new ProxyError("no_route");
  state.route = route;
}
