import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { errorResponse } from "../proxy/errors.ts";

/** Methods this proxy never forwards: CONNECT would tunnel, TRACE reflects credentials (XST). */
const REFUSED_METHODS = new Set(["CONNECT", "TRACE"]);
const ALLOW = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS";

/** Rejects requests that must not reach an upstream: 405 for CONNECT/TRACE, 400 without a Host. */
export function requestGuard(): MiddlewareHandler<AppEnv> {
  return async function requestGuard(c, next) {
    const request = c.req.raw;
    if (REFUSED_METHODS.has(request.method)) {
      return errorResponse(405, "method not allowed", c.get("requestId"), { allow: ALLOW });
    }
    // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request that lacks a Host header field.
    const host = request.headers.get("host");
    if (host === null || host === "") return errorResponse(400, "missing Host header", c.get("requestId"));
    await next();
  };
}
