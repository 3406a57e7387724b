import type { MiddlewareHandler } from "hono";

const encoder = new TextEncoder();

/** Compares two strings in time that depends on their lengths only, not on where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ (y[i % Math.max(1, y.length)] ?? 0);
  return diff === 0;
}

/** The credential a request offers: the Bearer token, or the password of Basic credentials. */
export function offeredToken(authorization: string | null): string | undefined {
  if (authorization === null) return undefined;
  const space = authorization.indexOf(" ");
  if (space < 0) return undefined;
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (scheme === "bearer") return value;
  if (scheme === "basic") {
    try {
      const decoded = atob(value);
      const colon = decoded.indexOf(":");
      return colon < 0 ? undefined : decoded.slice(colon + 1);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Requires the admin token on every request when one is configured (`token()` is read per request, so a
 * reload can set or change it). Tools send `Authorization: Bearer <token>` (RFC 6750). Browsers cannot add
 * that header to a page load, so the dashboard page answers 401 with a Basic challenge, and Basic
 * credentials whose password is the token are accepted too (the browser then sends them with the
 * dashboard's `/stats` polls by itself).
 */
export function adminAuth(token: () => string | undefined): MiddlewareHandler {
  return async function adminAuth(c, next) {
    const expected = token();
    if (expected !== undefined) {
      const offered = offeredToken(c.req.header("authorization") ?? null);
      if (offered === undefined || !timingSafeEqual(offered, expected)) {
        const challenge = c.req.path === "/"
          ? 'Basic realm="proxy admin", charset="UTF-8"'
          : 'Bearer realm="proxy admin"';
        return c.text("401 admin token required\n", 401, { "www-authenticate": challenge });
      }
    }
    await next();
  };
}
