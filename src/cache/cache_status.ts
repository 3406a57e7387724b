/**
 * The Cache-Status response header (RFC 9211) and the informal X-Cache header.
 */

/** RFC 9211 §2.2 forward reasons used by this cache. */
export type ForwardReason = "bypass" | "method" | "uri-miss" | "vary-miss" | "miss" | "request" | "stale";

export interface CacheStatus {
  /** true when the response was served from cache without going upstream (§2.1). */
  hit?: boolean;
  /** Why the request went upstream (§2.2). */
  fwd?: ForwardReason;
  /** Status the upstream returned to the cache (§2.3). */
  fwdStatus?: number;
  /** Remaining freshness in seconds; negative when stale (§2.4). */
  ttlSeconds?: number;
  /** Whether the forwarded response was stored (§2.5). */
  stored?: boolean;
  /** Whether the request was collapsed into another one's upstream fetch (§2.6). */
  collapsed?: boolean;
  /** Implementation detail, e.g. "stale-while-revalidate" (§2.8). */
  detail?: string;
}

/** Formats one Cache-Status list member, e.g. `proxy; fwd=uri-miss; fwd-status=200; stored`. */
export function formatCacheStatus(cacheName: string, status: CacheStatus): string {
  return formatCacheStatusAs(cacheStatusName(cacheName), status);
}

/** The cache's name as Cache-Status writes it: a token as it is, anything else as a quoted string (§2). */
export function cacheStatusName(cacheName: string): string {
  return /^[A-Za-z*][A-Za-z0-9:/!#$%&'*+\-.^_`|~]*$/.test(cacheName) ? cacheName : JSON.stringify(cacheName);
}

/** {@linkcode formatCacheStatus} with the name already formatted by {@linkcode cacheStatusName}. */
export function formatCacheStatusAs(name: string, status: CacheStatus): string {
  let out = name;
  if (status.hit === true) out += "; hit";
  if (status.fwd !== undefined) out += `; fwd=${status.fwd}`;
  if (status.fwdStatus !== undefined) out += `; fwd-status=${status.fwdStatus}`;
  if (status.ttlSeconds !== undefined) out += `; ttl=${Math.trunc(status.ttlSeconds)}`;
  if (status.stored === true) out += "; stored";
  if (status.collapsed === true) out += "; collapsed";
  if (status.detail !== undefined) out += `; detail=${JSON.stringify(status.detail)}`;
  return out;
}

export type XCache = "HIT" | "MISS" | "STALE";
