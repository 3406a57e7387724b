/**
 * Invalidation after unsafe requests (RFC 9111 §4.4).
 */
import { type HeaderPairs, headerValue } from "./header_list.ts";

const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * URLs whose stored responses must be invalidated: after an unsafe method with a non-error status (2xx/3xx),
 * the target URI, and the Location and Content-Location URIs when they share its origin (§4.4: a cache
 * MUST NOT invalidate on a different origin, to avoid denial of service).
 */
export function invalidationTargets(
  method: string,
  url: string | URL,
  status: number,
  responseHeaders: HeaderPairs,
): URL[] {
  if (SAFE_METHODS.has(method.toUpperCase()) || status < 200 || status >= 400) return [];
  const target = new URL(url);
  const targets = [target];
  for (const name of ["location", "content-location"]) {
    const value = headerValue(responseHeaders, name);
    if (value === undefined) continue;
    let resolved: URL;
    try {
      resolved = new URL(value.trim(), target);
    } catch {
      continue; // Unparseable reference: nothing to invalidate.
    }
    if (resolved.origin === target.origin && !targets.some((t) => t.href === resolved.href)) {
      targets.push(resolved);
    }
  }
  return targets;
}
