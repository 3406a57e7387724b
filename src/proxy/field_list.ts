/**
 * Reading a `Headers`' fields and appending already-valid ones without Deno's per-call WebIDL work, through the
 * pair list Deno keeps (fieldValue, forEachField, appendField).
 *
 * `Headers.append` converts both strings through WebIDL, checks the name against a regular expression, scans the
 * value and then lower-cases every field already present to find the name's first spelling: quadratic in the
 * field count, ≈ 0.1 µs a field for six and more for more (measured with `deno bench`, Deno 2.9.6). Deno keeps
 * the fields of a `Headers` as an array of `[name, value]` pairs in an own symbol-keyed property, and a
 * Response's `headers` shares that array with the response `Deno.serve` sends. A probe at load time finds the
 * property and checks that a pushed pair reads back through `get`; when it does not (another Deno), `append`
 * is used.
 *
 * Only fields that are valid already go through here: names are tokens (RFC 9110 §5.6.2) and values have no
 * CR, LF or NUL and no leading or trailing whitespace — what `parseResponseHead` accepts, what a `Headers`
 * yields, and the values the proxy writes itself. Every pair pushed is a fresh array: `Headers.set` rewrites a
 * pair in place, so a stored pair (a cache entry's) must never be shared.
 */

function probe(): symbol | undefined {
  try {
    const headers = new Response(null).headers;
    for (const key of Object.getOwnPropertySymbols(headers)) {
      const list = (headers as unknown as Record<symbol, unknown>)[key];
      if (!Array.isArray(list) || list.length !== 0) continue;
      list.push(["x-probe", "1"]);
      const ok = headers.get("x-probe") === "1";
      list.length = 0;
      if (ok && !headers.has("x-probe")) return key;
    }
  } catch {
    // fall back to append
  }
  return undefined;
}

const LIST = probe();

/** True when fields are pushed into Deno's list directly (the probe passed on this Deno). */
export const directFieldList: boolean = LIST !== undefined;

/** The pair list of `headers` to push fresh `[name, value]` pairs onto, or undefined: use `append`. */
export function fieldList(headers: Headers): Array<[string, string]> | undefined {
  if (LIST === undefined) return undefined;
  const own = headers as unknown as Record<symbol, Array<[string, string]> | null>;
  let list = own[LIST];
  if (list === null || list === undefined) {
    // A request from Deno.serve fetches its fields from Rust on first use; `has` makes Deno do that.
    headers.has("host");
    list = own[LIST];
  }
  return Array.isArray(list) ? list : undefined;
}

/** Appends one valid field (see above) to `headers`, through `list` when there is one. */
export function appendField(
  headers: Headers,
  list: Array<[string, string]> | undefined,
  name: string,
  value: string,
): void {
  if (list !== undefined) list.push([name, value]);
  else headers.append(name, value);
}

/**
 * Calls `visit(value, name)` for every field line of `headers` in arrival order, names lower case, repeated
 * fields one call each — cheaper than `Headers.forEach`, which sorts and combines the fields on every call
 * (≈ 0.9 µs for eight fields, against ≈ 0.16 µs here; `deno bench`). When the probe failed it is `forEach`, and repeated
 * fields arrive combined; callers handle both.
 */
export function forEachField(headers: Headers, visit: (value: string, name: string) => void): void {
  const list = fieldList(headers);
  if (list === undefined) return headers.forEach(visit);
  for (let i = 0; i < list.length; i++) {
    const pair = list[i]!;
    const name = pair[0];
    visit(pair[1], isLowerCase(name) ? name : name.toLowerCase());
  }
}

function isLowerCase(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return false;
  }
  return true;
}

/**
 * `headers.get(name)` for a `name` given in lower case, without WebIDL conversion and per-field lower-casing:
 * repeated fields joined with ", " as `get` does. Stored names in another case (a `Headers` built in JS) are
 * lower-cased for the comparison.
 */
export function fieldValue(headers: Headers, name: string): string | null {
  const list = fieldList(headers);
  if (list === undefined) return headers.get(name);
  let out: string | null = null;
  const length = name.length;
  for (let i = 0; i < list.length; i++) {
    const pair = list[i]!;
    const key = pair[0];
    if (key === name || (key.length === length && key.toLowerCase() === name)) {
      out = out === null ? pair[1] : `${out}, ${pair[1]}`;
    }
  }
  return out;
}
