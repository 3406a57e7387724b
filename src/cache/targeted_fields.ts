/**
 * Targeted cache control (RFC 9213): `CDN-Cache-Control` and any other configured target fields. §2.2:
 * the first field on the target list with a valid, non-empty Structured Field Dictionary value decides the
 * caching policy, and Cache-Control and Expires are then ignored for this cache's storing and freshness.
 * The field is not removed: it is forwarded downstream unchanged.
 */
import type { CacheControl } from "./cache_control.ts";
import { type HeaderPairs, headerValue } from "./header_list.ts";
import { parseDictionary } from "./structured_fields.ts";

/** Directives whose value must be a non-negative Integer (delta-seconds). */
const DELTA_DIRECTIVES: ReadonlySet<string> = new Set([
  "max-age",
  "s-maxage",
  "stale-while-revalidate",
  "stale-if-error",
]);

/** Cache-Control views that came from a targeted field (Expires is ignored for them, §2.2). */
const TARGETED = new WeakSet<CacheControl>();

export function isTargeted(cc: CacheControl): boolean {
  return TARGETED.has(cc);
}

/**
 * The directives of the first valid, non-empty targeted field among `fields` (lower-case names), in the
 * CacheControl shape the rest of the cache reads; undefined when none applies. A directive with a value of
 * the wrong type (`max-age="60"`, `max-age=1.5`, `max-age=-1`) is dropped; `name=?0` means absent.
 */
export function targetedCacheControl(
  headers: HeaderPairs,
  fields: readonly string[],
): CacheControl | undefined {
  for (const field of fields) {
    const value = headerValue(headers, field);
    if (value === undefined) continue;
    const dict = parseDictionary(value);
    if (dict === undefined || dict.size === 0) continue;
    const cc = new Map<string, string | true>();
    for (const [name, member] of dict) {
      if (!("item" in member)) {
        cc.set(name, true);
        continue;
      }
      const item = member.item;
      if (DELTA_DIRECTIVES.has(name)) {
        if (item.type === "integer" && item.value >= 0) cc.set(name, String(item.value));
        continue;
      }
      if (item.type === "boolean") {
        if (item.value) cc.set(name, true);
      } else cc.set(name, String(item.value));
    }
    TARGETED.add(cc);
    return cc;
  }
  return undefined;
}
