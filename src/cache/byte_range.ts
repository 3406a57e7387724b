/**
 * Range requests answered from a complete stored response (RFC 9110 §14, §13.1.5). Pure: a Range field, an
 * If-Range field, the stored headers and the body length in; what to send out.
 *
 *   Range        = ranges-specifier = range-unit "=" range-set     (unit case-insensitive, only `bytes` here)
 *   range-set    = 1#range-spec
 *   range-spec   = int-range / suffix-range / other-range
 *   int-range    = first-pos "-" [ last-pos ]
 *   suffix-range = "-" suffix-length
 *
 * Choices (ignoring Range is always allowed, §14.2): a field that is not a valid `bytes` range set, more than
 * one range, or an empty representation → the full response. One range: 206 when satisfiable (first-pos
 * below the length, or a non-zero suffix length; last-pos past the end is cut to the end), else 416.
 */
import { type HeaderPairs, headerValue } from "./header_list.ts";
import { parseHttpDate } from "./http_date.ts";

export type RangeAnswer =
  /** Send the whole stored response (200). */
  | { readonly kind: "full" }
  /** Send bytes `start`..`end` inclusive as 206 with `Content-Range: bytes start-end/length`. */
  | { readonly kind: "partial"; readonly start: number; readonly end: number; readonly length: number }
  /** 416 with `Content-Range: bytes *\/length`. */
  | { readonly kind: "unsatisfiable"; readonly length: number };

const FULL: RangeAnswer = { kind: "full" };
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INT_RANGE = /^(\d+)-(\d*)$/;
const SUFFIX_RANGE = /^-(\d+)$/;
/**
 * An intermediate cache may treat a stored Last-Modified as a strong validator when the stored Date is at
 * least 60 seconds later (RFC 9110 §8.8.2.2); only then can an If-Range date select a range.
 */
const STRONG_LAST_MODIFIED_MS = 60_000;

/**
 * How to answer a GET carrying `range` (and maybe `ifRange`) from a stored 200 response with `headers` and
 * a body of `length` bytes.
 */
export function rangeAnswer(
  range: string,
  ifRange: string | null,
  headers: HeaderPairs,
  length: number,
): RangeAnswer {
  if (length === 0) return FULL;
  const equals = range.indexOf("=");
  if (equals < 0) return FULL;
  const unit = range.slice(0, equals).trim();
  if (!TOKEN.test(unit) || unit.toLowerCase() !== "bytes") return FULL;
  // §5.6.1: a recipient accepts empty list elements.
  const specs = range.slice(equals + 1).split(",").map((spec) => spec.trim()).filter((spec) => spec !== "");
  if (specs.length !== 1) return FULL;
  // §13.1.5: a false If-Range means "ignore Range, send everything".
  if (ifRange !== null && !ifRangeMatches(ifRange, headers)) return FULL;
  const spec = specs[0]!;
  const int = INT_RANGE.exec(spec);
  if (int !== null) {
    const first = Number(int[1]);
    const last = int[2] === "" ? Infinity : Number(int[2]);
    if (last < first) return FULL; // invalid range-spec (§14.1.1)
    if (first >= length) return { kind: "unsatisfiable", length };
    return { kind: "partial", start: first, end: Math.min(last, length - 1), length };
  }
  const suffix = SUFFIX_RANGE.exec(spec);
  if (suffix === null) return FULL;
  const count = Number(suffix[1]);
  if (count === 0) return { kind: "unsatisfiable", length };
  return { kind: "partial", start: Math.max(0, length - count), end: length - 1, length };
}

/**
 * If-Range (RFC 9110 §13.1.5): an entity-tag matches only by strong comparison (a weak tag on either side
 * never matches); an HTTP-date matches when it equals the stored Last-Modified and that is a strong
 * validator (above). Anything else is false.
 */
export function ifRangeMatches(ifRange: string, headers: HeaderPairs): boolean {
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) {
    const etag = headerValue(headers, "etag")?.trim();
    return etag !== undefined && !value.startsWith("W/") && value.length >= 2 && value.endsWith('"') &&
      etag === value;
  }
  const date = parseHttpDate(value);
  const lastModified = parseHttpDate(headerValue(headers, "last-modified"));
  const stored = parseHttpDate(headerValue(headers, "date"));
  return date !== undefined && date === lastModified && stored !== undefined &&
    stored - lastModified >= STRONG_LAST_MODIFIED_MS;
}

/** `Content-Range` of a 206 or 416 (RFC 9110 §14.4). */
export function contentRange(answer: Exclude<RangeAnswer, { kind: "full" }>): string {
  return answer.kind === "partial"
    ? `bytes ${answer.start}-${answer.end}/${answer.length}`
    : `bytes */${answer.length}`;
}
