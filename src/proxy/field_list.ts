/**
 * Appending already-valid fields to a Response's headers without Deno's per-append validation.
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
  return LIST === undefined
    ? undefined
    : (headers as unknown as Record<symbol, Array<[string, string]>>)[LIST];
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
