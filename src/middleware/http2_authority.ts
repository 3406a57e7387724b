import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";

/** Methods whose HTTP/2 requests may carry a body of unknown length (no content-length). */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/**
 * Gives HTTP/2 requests the HTTP/1.1 shape the rest of the proxy reads. An HTTP/2 request names its host in
 * the `:authority` pseudo-header (RFC 9113 §8.3.1), which Deno.serve puts into `request.url` but not into a
 * `Host` field; routing, the Host check, X-Forwarded-Host and the upstream's Host all read `Host`. And an
 * HTTP/2 body has no Transfer-Encoding (§8.2.2), so one without content-length is marked chunked for the
 * forwarder, which forwards a body only when one of the two is present (RFC 9112 §6.3).
 *
 * Deno.serve does not say which protocol a request came in on; HTTP/2 happens only on the TLS listener, where
 * an HTTP/1.1 request without Host is the only other case that lands here (it then routes by the listener's
 * own authority instead of getting 400).
 */
export function http2Authority(): MiddlewareHandler<AppEnv> {
  return async function http2Authority(c, next) {
    if (c.env.runtime.proto === "https") adoptAuthority(c);
    await next();
  };
}

/**
 * The work of {@linkcode http2Authority} for one request, for callers that already know the listener is TLS
 * (request_entry.ts calls it first, on a TLS listener only).
 */
export function adoptAuthority(c: Context<AppEnv>): void {
  const raw = c.req.raw;
  if (raw.headers.has("host")) return;
  const headers = new Headers(raw.headers);
  headers.set("host", new URL(raw.url).host);
  const method = raw.method;
  const body = BODY_METHODS.has(method) ? raw.body : null;
  if (body !== null && !headers.has("content-length")) headers.set("transfer-encoding", "chunked");
  c.req.raw = new Request(raw.url, body === null ? { method, headers } : { method, headers, body });
}
