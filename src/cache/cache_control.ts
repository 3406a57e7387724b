/**
 * Cache-Control parsing (RFC 9111 §5.2). Directive names are case-insensitive; arguments may be a token or a
 * quoted-string (§5.2: recipients accept both). When a directive repeats, the first occurrence wins
 * (§4.2.1 allows "first occurrence" or "treat as stale"; first is the common choice).
 */

/** Directive name (lower case) → argument, or `true` for a directive without one. */
export type CacheControl = ReadonlyMap<string, string | true>;

const EMPTY: CacheControl = new Map();

export function parseCacheControl(value: string | undefined): CacheControl {
  if (value === undefined || value.trim() === "") return EMPTY;
  const directives = new Map<string, string | true>();
  let i = 0;
  const n = value.length;
  while (i < n) {
    // Skip separators and whitespace before a directive name.
    while (i < n && (value[i] === "," || value[i] === " " || value[i] === "\t")) i++;
    const nameStart = i;
    while (i < n && value[i] !== "=" && value[i] !== ",") i++;
    const name = value.slice(nameStart, i).trim().toLowerCase();
    let argument: string | true = true;
    if (i < n && value[i] === "=") {
      i++;
      while (i < n && (value[i] === " " || value[i] === "\t")) i++;
      if (value[i] === '"') {
        i++;
        let text = "";
        while (i < n && value[i] !== '"') {
          if (value[i] === "\\" && i + 1 < n) i++;
          text += value[i];
          i++;
        }
        i++; // closing quote
        argument = text;
        while (i < n && value[i] !== ",") i++;
      } else {
        const argStart = i;
        while (i < n && value[i] !== ",") i++;
        argument = value.slice(argStart, i).trim();
      }
    }
    if (name !== "" && !directives.has(name)) directives.set(name, argument);
  }
  return directives;
}

/** Largest delta-seconds a cache must handle; larger values are capped (RFC 9111 §1.2.2). */
export const DELTA_SECONDS_MAX = 2_147_483_648;

/**
 * A delta-seconds argument (RFC 9111 §1.2.2): digits only. Returns undefined when absent and `NaN` when
 * present but invalid, so callers can tell "no directive" from "unusable directive" (treated as stale).
 */
export function deltaSeconds(cc: CacheControl, name: string): number | undefined {
  const argument = cc.get(name);
  if (argument === undefined) return undefined;
  if (argument === true || !/^\d+$/.test(argument)) return Number.NaN;
  return Math.min(Number(argument), DELTA_SECONDS_MAX);
}
