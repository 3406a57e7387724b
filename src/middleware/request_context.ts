import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { RuntimeSource } from "../runtime.ts";

/** Request ids we accept from a trusted peer: visible ASCII, bounded length (they end up in logs). */
const VALID_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * Snapshots the current runtime for the whole request, identifies the peer, and assigns the request id
 * (`X-Request-Id` from a trusted peer is kept, otherwise a new UUID).
 */
export function requestContext(source: RuntimeSource): MiddlewareHandler<AppEnv> {
  return async function requestContext(c, next) {
    const runtime = source.current;
    c.set("runtime", runtime);
    const peerIp = c.env?.remoteAddr?.hostname ?? "unknown";
    c.set("peerIp", peerIp);
    const trusted = runtime.trustedProxies.contains(peerIp);
    c.set("trusted", trusted);
    const offered = trusted ? c.req.raw.headers.get("x-request-id") : null;
    c.set("requestId", offered !== null && VALID_ID.test(offered) ? offered : crypto.randomUUID());
    const url = c.req.url;
    c.set("pathAndQuery", url.slice(url.indexOf("/", url.indexOf("//") + 2)));
    runtime.inFlight.enter(); // a reload waits for these before disposing this runtime
    try {
      await next();
    } finally {
      runtime.inFlight.leave();
    }
  };
}
