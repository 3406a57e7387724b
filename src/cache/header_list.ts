import { HOP_BY_HOP } from "../proxy/headers.ts";
import { fieldValue } from "../proxy/field_list.ts";

/** Fields a cache must not store (RFC 9111 §3.1): the hop-by-hop fields plus Proxy-Authentication-Info. */
export const NOT_STORED: ReadonlySet<string> = new Set([...HOP_BY_HOP, "proxy-authentication-info"]);

/**
 * Plain header data for the cache: an array of `[name, value]` pairs, as `[...headers]` yields from a Web
 * `Headers` (lower-case names, repeated fields combined except Set-Cookie). Keeping the cache on plain data
 * lets tests and the store work without Request/Response objects.
 */

export type HeaderPairs = ReadonlyArray<readonly [string, string]>;

/** Field lookup by name; a Web `Headers` qualifies (its `get` combines repeated fields with ", " too). */
export interface HeaderGetter {
  get(name: string): string | null;
}

/**
 * Request headers as the cache reads them: pairs, or the request's own `Headers` (the hot path passes that
 * and skips copying every field for a lookup that reads four or five).
 */
export type HeaderSource = HeaderPairs | HeaderGetter;

/** The field value for `name` (case-insensitive), repeated lines combined with ", " (RFC 9110 §5.3). */
export function headerValue(headers: HeaderSource, name: string): string | undefined {
  const lower = name.toLowerCase();
  if (headers instanceof Headers) return fieldValue(headers, lower) ?? undefined;
  if ("get" in headers) return headers.get(name) ?? undefined;
  let result: string | undefined;
  for (const [key, value] of headers) {
    if (key.length === lower.length && key.toLowerCase() === lower) {
      result = result === undefined ? value : `${result}, ${value}`;
    }
  }
  return result;
}

export function hasHeader(headers: HeaderPairs, name: string): boolean {
  return headerValue(headers, name) !== undefined;
}

/** Copy without the named fields (names compared case-insensitively). */
export function withoutHeaders(headers: HeaderPairs, names: ReadonlySet<string>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [key, value] of headers) {
    if (!names.has(key.toLowerCase())) out.push([key, value]);
  }
  return out;
}

/** Splits a comma-separated list (RFC 9110 §5.6.1), trimming and dropping empty members. */
export function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  for (const part of value.split(",")) {
    const trimmed = part.trim();
    if (trimmed !== "") out.push(trimmed);
  }
  return out;
}
