/**
 * Whether a response may be stored (RFC 9111 §3, §3.5). Pure function over plain inputs.
 */
import { type CacheControl, parseCacheControl } from "./cache_control.ts";
import { HEURISTICALLY_CACHEABLE } from "./freshness.ts";
import { type HeaderPairs, type HeaderSource, headerValue } from "./header_list.ts";
import { isTargeted } from "./targeted_fields.ts";

/**
 * Final status codes whose semantics this cache understands (§3 "the response status code is final and
 * understood"). 206 is left out: we do not implement range combination (§3.3), so partial content is never
 * stored. Statuses outside this set (any other final 200–599, e.g. 299, 499, 599) are stored only with
 * explicit freshness (max-age, s-maxage, Expires, from Cache-Control or a targeted field).
 */
export const UNDERSTOOD_STATUS: ReadonlySet<number> = new Set([
  200,
  203,
  204,
  300,
  301,
  302,
  303,
  307,
  308,
  400,
  403,
  404,
  405,
  410,
  414,
  451,
  500,
  501,
  502,
  503,
  504,
]);

export type NotStorableReason =
  | "method"
  | "status"
  | "request-no-store"
  | "no-store"
  | "private"
  | "authorization"
  | "no-freshness";

export type Storability = { readonly storable: true } | {
  readonly storable: false;
  readonly reason: NotStorableReason;
};

export interface StorabilityInput {
  method: string;
  requestHeaders: HeaderSource;
  status: number;
  responseHeaders: HeaderPairs;
  /** A reverse proxy is a shared cache (§1): private responses are not stored, s-maxage applies. */
  shared: boolean;
  /** Pre-parsed Cache-Control values, when the caller already has them. */
  requestCacheControl?: CacheControl;
  responseCacheControl?: CacheControl;
}

const STORABLE: Storability = { storable: true };

function no(reason: NotStorableReason): Storability {
  return { storable: false, reason };
}

export function storability(input: StorabilityInput): Storability {
  const { method, status, shared } = input;
  // §3: the request method is understood by the cache (we cache GET and HEAD only).
  if (method !== "GET" && method !== "HEAD") return no("method");
  const req = input.requestCacheControl ??
    parseCacheControl(headerValue(input.requestHeaders, "cache-control"));
  const res = input.responseCacheControl ??
    parseCacheControl(headerValue(input.responseHeaders, "cache-control"));
  // §3: only final responses (1xx are never stored), and never partial content or a 304 (not complete
  // responses; we do not combine ranges, §3.3–3.4).
  if (status < 200 || status > 599 || status === 206 || status === 304) return no("status");
  const understood = UNDERSTOOD_STATUS.has(status);
  // §3 "the response status code is final (see Section 15 of [HTTP])": a status this cache does not
  // otherwise know (299, 499, 599) is stored when it carries explicit freshness.
  const explicit = res.has("max-age") || (shared && res.has("s-maxage")) ||
    (!isTargeted(res) && headerValue(input.responseHeaders, "expires") !== undefined);
  // §5.2.2.3 must-understand: store only if the status is understood; then no-store is overridden.
  if (res.has("must-understand")) {
    if (!understood) return no("status");
  } else {
    if (!understood && !explicit) return no("status");
    if (res.has("no-store")) return no("no-store");
  }
  if (req.has("no-store")) return no("request-no-store");
  // §5.2.2.7: a shared cache must not store a private response (qualified private treated as unqualified).
  if (shared && res.has("private")) return no("private");
  // §3.5: a shared cache must not reuse responses to requests with Authorization unless explicitly allowed.
  if (
    shared && headerValue(input.requestHeaders, "authorization") !== undefined &&
    !res.has("public") && !res.has("s-maxage") && !res.has("must-revalidate")
  ) {
    return no("authorization");
  }
  // §3: at least one of public, private (private caches), Expires, max-age, s-maxage (shared), a
  // heuristically cacheable status. must-understand alone does not qualify.
  if (
    explicit || res.has("public") || (!shared && res.has("private")) || HEURISTICALLY_CACHEABLE.has(status)
  ) {
    return STORABLE;
  }
  return no("no-freshness");
}
