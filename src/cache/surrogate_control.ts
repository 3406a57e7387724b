/**
 * Surrogate-Control (W3C Edge Architecture Specification 1.0): caching instructions an origin addresses to
 * reverse proxies ("surrogates") rather than to every cache. A directive may name its target with
 * `;device-token` (`max-age=3600;proxy`); untargeted directives apply to every surrogate. When any directive
 * applies to us, the set replaces Cache-Control for storing and freshness (so `Cache-Control: no-store` with
 * `Surrogate-Control: max-age=60` is cached here for 60 s and not by browsers).
 */
import { type CacheControl, parseCacheControl } from "./cache_control.ts";
import { type HeaderPairs, headerValue } from "./header_list.ts";

/** The `Surrogate-Capability` request member announcing us to the origin (§ "Surrogate-Capability"). */
export function surrogateCapability(token: string): string {
  return `${token}="Surrogate/1.0"`;
}

/** Directives in `Surrogate-Control` that apply to `token`, or undefined when none does. */
export function surrogateControl(headers: HeaderPairs, token: string): CacheControl | undefined {
  const value = headerValue(headers, "surrogate-control");
  if (value === undefined) return undefined;
  const applicable: string[] = [];
  for (const member of value.split(",")) {
    const semicolon = member.indexOf(";");
    const directive = (semicolon < 0 ? member : member.slice(0, semicolon)).trim();
    const target = semicolon < 0 ? undefined : member.slice(semicolon + 1).trim();
    if (directive !== "" && (target === undefined || target === token)) applicable.push(directive);
  }
  return applicable.length === 0 ? undefined : parseCacheControl(applicable.join(", "));
}
