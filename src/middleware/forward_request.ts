import type { Handler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { ProxyError } from "../proxy/errors.ts";
import { upstreamRequestHeaders } from "../proxy/headers.ts";

/** Seconds a client should wait before retrying when no upstream is available. */
const NO_UPSTREAM_RETRY_AFTER_MS = 1_000;

/** The terminal handler: picks an upstream from the route's pool and forwards the request to it. */
export function forwardRequest(): Handler<AppEnv> {
  return async function forwardRequest(c) {
    const { runtime, route, requestId } = c.var;
    const pool = route.pool;
    const upstream = pool.pick();
    if (upstream === undefined) {
      throw new ProxyError("no_upstream", `pool "${pool.name}"`, NO_UPSTREAM_RETRY_AFTER_MS);
    }
    c.set("upstream", upstream);
    const request = c.req.raw;
    const headers = upstreamRequestHeaders(request.headers, {
      clientIp: c.var.peerIp,
      trusted: c.var.trusted,
      proto: runtime.proto,
      host: request.headers.get("host") ?? "",
      requestId,
      via: runtime.via,
    });
    const response = await pool.forwarder.forward(upstream, {
      request,
      pathAndQuery: c.var.pathAndQuery,
      headers,
      completed: c.env?.completed,
    });
    response.headers.set("x-request-id", requestId);
    return response;
  };
}
