import { readCookie } from "./read_cookie.ts";

/**
 * What the consistent-hash balancer hashes (`load_balancer.hash_key`): the client address, the
 * request path, one request header, or one cookie.
 */
export type HashKeySpec = "client_ip" | "path" | `header:${string}` | `cookie:${string}`;

/** Plain request facts, so the helper stays independent of Hono and Deno's network types. */
export interface HashKeyInput {
  /** The client address as the proxy sees it (after any trusted X-Forwarded-For handling). */
  readonly clientIp: string;
  readonly headers: Headers;
  /** URL path without the query string. */
  readonly path: string;
}

/** True for a valid {@linkcode HashKeySpec}; for config validation. */
export function isHashKeySpec(value: unknown): value is HashKeySpec {
  if (value === "client_ip" || value === "path") return true;
  if (typeof value !== "string") return false;
  const match = /^(header|cookie):(.+)$/.exec(value);
  // Header names are RFC 9110 §5.1 tokens; cookie names are tokens too (RFC 6265 §4.1.1).
  return match !== null && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(match[2]!);
}

/**
 * The hash key for one request, or undefined when the named header or cookie is absent (the
 * consistent-hash balancer then picks at random rather than sending every keyless request to one
 * upstream).
 */
export function hashKeyFor(spec: HashKeySpec, input: HashKeyInput): string | undefined {
  if (spec === "client_ip") return input.clientIp;
  if (spec === "path") return input.path;
  if (spec.startsWith("header:")) return input.headers.get(spec.slice(7)) ?? undefined;
  if (spec.startsWith("cookie:")) return readCookie(input.headers.get("cookie"), spec.slice(7));
  throw new TypeError(`Unknown hash key spec: ${spec}`);
}
