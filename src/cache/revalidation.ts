/**
 * Validation (RFC 9111 §4.3): conditional requests to the origin, merging a 304 into the stored response,
 * and answering a client's own conditional request from a stored response.
 */
import { type HeaderPairs, type HeaderSource, headerValue, NOT_STORED, splitList } from "./header_list.ts";
import { parseHttpDate } from "./http_date.ts";

/**
 * Headers to add to the forwarded request when revalidating a stored response (§4.3.1): If-None-Match with
 * the stored ETag, If-Modified-Since with the stored Last-Modified. Empty when the response has no
 * validator (then the request goes upstream unconditionally).
 */
export function conditionalHeaders(stored: HeaderPairs): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const etag = headerValue(stored, "etag");
  if (etag !== undefined) out.push(["if-none-match", etag]);
  const lastModified = headerValue(stored, "last-modified");
  if (lastModified !== undefined) out.push(["if-modified-since", lastModified]);
  return out;
}

/**
 * Header fields never updated or stored from a 304: §3.1 connection-specific fields; §3.2 Content-Length; and
 * the fields the stored body depends on (§3.2 lets a cache omit those "to assure integrity of the stored
 * response"): its coding, range and digest. A 304 cannot change the bytes we hold.
 */
const NOT_UPDATED: ReadonlySet<string> = new Set([
  "content-encoding",
  "content-range",
  "content-md5",
  "digest",
  "content-digest",
  "content-length",
  ...NOT_STORED,
]);

/**
 * Whether a 304 may freshen the stored response (§4.3.4): a strong ETag in the 304 must match the stored
 * ETag; without one, Last-Modified must match when both have it; otherwise the single stored response is
 * selected.
 */
export function notModifiedMatches(stored: HeaderPairs, notModified: HeaderPairs): boolean {
  const newEtag = headerValue(notModified, "etag");
  if (newEtag !== undefined) {
    const oldEtag = headerValue(stored, "etag");
    return oldEtag !== undefined && !newEtag.startsWith("W/") && oldEtag === newEtag;
  }
  const newLm = headerValue(notModified, "last-modified");
  const oldLm = headerValue(stored, "last-modified");
  if (newLm !== undefined && oldLm !== undefined) return parseHttpDate(newLm) === parseHttpDate(oldLm);
  return true;
}

/**
 * Stored headers updated from a 304 (§3.2, §4.3.4): every field of the 304 replaces the stored field of the
 * same name, except connection-specific fields (and those listed in Connection) and Content-Length.
 */
export function mergeNotModified(stored: HeaderPairs, notModified: HeaderPairs): Array<[string, string]> {
  const skip = new Set(NOT_UPDATED);
  for (const name of splitList(headerValue(notModified, "connection"))) skip.add(name.toLowerCase());
  const replaced = new Set<string>();
  for (const [name] of notModified) {
    const lower = name.toLowerCase();
    if (!skip.has(lower)) replaced.add(lower);
  }
  const out: Array<[string, string]> = [];
  for (const [name, value] of stored) {
    if (!replaced.has(name.toLowerCase())) out.push([name, value]);
  }
  for (const [name, value] of notModified) {
    if (replaced.has(name.toLowerCase())) out.push([name, value]);
  }
  return out;
}

/** Weak comparison of entity tags (RFC 9110 §8.8.3.2): ignore the W/ prefix. */
function weakEquals(a: string, b: string): boolean {
  const strip = (tag: string) => (tag.startsWith("W/") ? tag.slice(2) : tag);
  return strip(a) === strip(b);
}

/**
 * Whether the client's conditional GET/HEAD is satisfied by the stored response, so the cache answers 304
 * (§4.3.2, RFC 9110 §13.2.2): If-None-Match takes precedence over If-Modified-Since.
 */
export function clientNotModified(requestHeaders: HeaderSource, stored: HeaderPairs): boolean {
  const ifNoneMatch = headerValue(requestHeaders, "if-none-match");
  if (ifNoneMatch !== undefined) {
    const etag = headerValue(stored, "etag");
    if (etag === undefined) return false;
    if (ifNoneMatch.trim() === "*") return true;
    return splitList(ifNoneMatch).some((tag) => weakEquals(tag, etag.trim()));
  }
  const since = parseHttpDate(headerValue(requestHeaders, "if-modified-since"));
  if (since === undefined) return false;
  const lastModified = parseHttpDate(headerValue(stored, "last-modified"));
  return lastModified !== undefined && lastModified <= since;
}

/** Headers a 304 generated from a stored 200 carries (RFC 9110 §15.4.5). */
export const NOT_MODIFIED_FIELDS: ReadonlySet<string> = new Set([
  "cache-control",
  "content-location",
  "date",
  "etag",
  "expires",
  "vary",
  "last-modified",
  "age",
]);
