/**
 * Vary handling (RFC 9111 §4.1): the response nominates request headers; a stored response is reused only
 * when those headers match the new request after normalization.
 */
import { type HeaderPairs, type HeaderSource, headerValue, splitList } from "./header_list.ts";

/** Nominated header names (lower case, sorted, unique), or "*" which never matches (§4.1). */
export function varyNames(responseHeaders: HeaderPairs): readonly string[] | "*" {
  const names = new Set<string>();
  for (const name of splitList(headerValue(responseHeaders, "vary"))) {
    if (name === "*") return "*";
    names.add(name.toLowerCase());
  }
  return [...names].sort();
}

/**
 * Secondary key from the request's values for the nominated headers. Normalization (§4.1 allows it when the
 * semantics are unchanged): list members trimmed, runs of whitespace collapsed, joined with ",". An absent
 * header and an empty header are distinguished, since §4.1 requires absent to match only absent.
 */
export function varyKey(names: readonly string[], requestHeaders: HeaderSource): string {
  if (names.length === 0) return "";
  let key = "";
  for (const name of names) {
    const value = headerValue(requestHeaders, name);
    key += value === undefined ? `${name}\u0001` : `${name}:${normalizeValue(value)}\u0001`;
  }
  return key;
}

function normalizeValue(value: string): string {
  return value.split(",").map((part) => part.trim().replace(/\s+/g, " ")).join(",");
}
