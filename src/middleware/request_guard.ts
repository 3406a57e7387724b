import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { errorResponse } from "../errors.ts";
import { withHeaders } from "./request_limits.ts";
import { fieldValue } from "../proxy/field_list.ts";

/** Methods this proxy never forwards: CONNECT would tunnel, TRACE reflects credentials (XST). */
const REFUSED_METHODS = new Set(["CONNECT", "TRACE"]);
const ALLOW = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS";
/**
 * `Host = uri-host [ ":" port ]` (RFC 9112 §3.2, RFC 3986 §3.2.2): an IP literal in brackets or a reg-name
 * (unreserved, pct-encoded, sub-delims), then an optional port. Two Host lines arrive joined by ", " and fail.
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::(\d{0,5}))?$/;

/**
 * Rejects or answers requests that must not reach an upstream as they are, and reads the request line by
 * RFC 9110/9112 where Deno.serve does not:
 * - 405 for CONNECT/TRACE, 400 without a Host or with an invalid one (RFC 9112 §3.2);
 * - 417 for an `Expect` other than `100-continue` (RFC 9110 §10.1.1);
 * - `OPTIONS *` and `OPTIONS` with `Max-Forwards: 0` answered here (200 with `Allow`); on other OPTIONS a
 *   `Max-Forwards` is decremented before forwarding (RFC 9110 §7.6.2). Deno.serve reports the target `*` as
 *   the path `/*`, so `OPTIONS /*` is answered here too: it is never forwarded as a path;
 * - an absolute-form target's authority replaces Host (RFC 9112 §3.2.2); an invalid one (userinfo included)
 *   gets 400.
 * Each check costs a method compare, one header lookup or one regex test of Host unless its condition holds.
 */
export function requestGuard(): MiddlewareHandler<AppEnv> {
  return async function requestGuard(c, next) {
    const refused = guardRequest(c);
    if (refused !== undefined) return refused;
    await next();
  };
}

/** The checks of {@linkcode requestGuard} for one request: the answer to send, or undefined to go on. */
export function guardRequest(c: Context<AppEnv>): Response | undefined {
  const request = c.req.raw;
  const method = request.method;
  if (REFUSED_METHODS.has(method)) {
    return errorResponse(405, "method not allowed", c.env.requestId, { allow: ALLOW });
  }
  const headers = request.headers;
  // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request that lacks a Host header field.
  const host = fieldValue(headers, "host");
  if (host === null || host === "") return errorResponse(400, "missing Host header", c.env.requestId);
  // ...and to a Host with an invalid value (more than one Host line included); the URL parser would also
  // refuse a port above 65535 later, when the request is rebuilt.
  if (!validHost(host)) return errorResponse(400, "invalid Host header", c.env.requestId);
  const expect = fieldValue(headers, "expect");
  if (expect !== null && expect.toLowerCase() !== "100-continue") {
    return errorResponse(417, "only Expect: 100-continue is supported", c.env.requestId);
  }
  let replaced: Headers | undefined;
  if (method === "OPTIONS") {
    const maxForwards = fieldValue(headers, "max-forwards");
    const hops = maxForwards === null ? undefined : Number(maxForwards.trim());
    if (c.env.pathAndQuery === "/*" || hops === 0) return optionsAnswer(c.env.requestId);
    if (hops !== undefined) {
      if (!Number.isInteger(hops) || hops < 0 || !/^\s*\d+\s*$/.test(maxForwards!)) {
        return errorResponse(400, "invalid Max-Forwards", c.env.requestId);
      }
      replaced = new Headers(headers);
      replaced.set("max-forwards", String(hops - 1));
    }
  }
  // Deno.serve builds request.url from an absolute-form target and from Host otherwise, so an authority that
  // differs from Host (beyond case and the default port) came from the request line.
  const url = request.url;
  const start = url.indexOf("//") + 2;
  const authority = url.slice(start, url.indexOf("/", start));
  if (host !== authority && !sameAuthority(host, authority, start === 8)) {
    // Deno.serve passes the target's authority through unchecked. Userinfo is an error too (RFC 9110 §4.2.4).
    if (!validHost(authority)) {
      return errorResponse(400, "invalid authority in the request target", c.env.requestId);
    }
    if (!headers.has("upgrade")) {
      replaced ??= new Headers(headers);
      replaced.set("host", authority);
    }
  }
  if (replaced !== undefined) c.req.raw = withHeaders(request, replaced);
  return undefined;
}

/**
 * The last value {@linkcode validHost} accepted: nearly every request repeats it, and the test was 0.9 % of a
 * cache hit's profile (≈ 0.2 µs; bench/README.md, "Pipeline diet, fifth step").
 */
let lastValidHost = "";

function validHost(value: string): boolean {
  if (value === lastValidHost) return true;
  const syntax = HOST.exec(value);
  if (syntax === null || Number(syntax[1] ?? 0) > 65535) return false;
  lastValidHost = value;
  return true;
}

/** Host as the client wrote it vs the URL's normalized authority (lower case, default port dropped). */
function sameAuthority(host: string, authority: string, https: boolean): boolean {
  let h = host.toLowerCase();
  const defaultPort = https ? ":443" : ":80";
  if (h.endsWith(defaultPort)) h = h.slice(0, -defaultPort.length);
  return h === authority;
}

function optionsAnswer(requestId: string): Response {
  return new Response(null, {
    status: 200,
    headers: { allow: ALLOW, "content-length": "0", "x-request-id": requestId },
  });
}
