/**
 * The value of cookie `name` in a `Cookie` request header, or undefined.
 *
 * RFC 6265 §4.2.1: pairs are separated by "; "; we also accept a bare ";" and stray whitespace
 * (§5.4 user agents vary). A value wrapped in DQUOTEs (§4.1.1 cookie-value) is unwrapped. When the
 * name repeats, the first wins: §5.4 sorts cookies with longer (more specific) paths first.
 */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(";", start);
    if (end === -1) end = header.length;
    const eq = header.indexOf("=", start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      const value = header.slice(eq + 1, end).trim();
      return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    }
    start = end + 1;
  }
  return undefined;
}
