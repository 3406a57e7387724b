/**
 * Header rewriting for both directions of the forwarder. RFC 9110 §7.6.1: a proxy removes the hop-by-hop
 * fields and every field named in `Connection` before forwarding. RFC 9110 §7.6.3: it adds `Via`.
 */

/** Fields that describe one connection, not the message (RFC 9110 §7.6.1, RFC 9112 §9.6, RFC 7230 Proxy-*). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
]);

/** Headers the client sends that only a trusted peer may set (otherwise they are replaced). */
const FORWARDING = new Set([
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "forwarded",
  "x-request-id",
]);

/** Field names listed in a Connection header value, lower case. */
function connectionTokens(value: string | null): Set<string> | undefined {
  if (value === null) return undefined;
  const tokens = new Set<string>();
  for (const token of value.split(",")) {
    const name = token.trim().toLowerCase();
    if (name !== "") tokens.add(name);
  }
  return tokens;
}

export interface ForwardedFacts {
  /** The client address as seen on the socket. */
  readonly clientIp: string;
  /** True when the socket peer is in `server.trusted_proxies`. */
  readonly trusted: boolean;
  /** `http` or `https`: how the client reached this proxy. */
  readonly proto: string;
  /** The Host the client asked for. */
  readonly host: string;
  readonly requestId: string;
  /** `1.1 <name>` */
  readonly via: string;
}

/**
 * Builds the upstream request's headers: hop-by-hop removed, forwarding headers added or extended.
 * Deno's fetch adds `user-agent`, `accept-language` and `accept-encoding` when they are absent; we set the
 * first two to empty values instead (an empty field rather than an invented `Deno/2.9.6`), and the forwarder
 * decides `accept-encoding` (see compression.ts).
 */
export function upstreamRequestHeaders(incoming: Headers, facts: ForwardedFacts): Headers {
  const out = new Headers();
  const named = connectionTokens(incoming.get("connection"));
  let priorFor: string | null = null;
  let priorVia: string | null = null;
  for (const [name, value] of incoming) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    if (FORWARDING.has(name)) {
      if (!facts.trusted) continue;
      if (name === "x-forwarded-for") {
        priorFor = value;
        continue;
      }
    } else if (name === "via") {
      priorVia = value;
      continue;
    } else if (name === "accept-encoding") {
      continue; // decided by the forwarder
    }
    out.append(name, value);
  }
  out.set("x-forwarded-for", priorFor === null ? facts.clientIp : `${priorFor}, ${facts.clientIp}`);
  if (!facts.trusted || !out.has("x-forwarded-proto")) out.set("x-forwarded-proto", facts.proto);
  if (!facts.trusted || !out.has("x-forwarded-host")) out.set("x-forwarded-host", facts.host);
  out.set("x-request-id", facts.requestId);
  out.set("via", priorVia === null ? facts.via : `${priorVia}, ${facts.via}`);
  if (!out.has("user-agent")) out.set("user-agent", "");
  if (!out.has("accept-language")) out.set("accept-language", "");
  return out;
}

/** Result of cleaning an upstream response's headers. */
export interface CleanedResponseHeaders {
  readonly headers: Headers;
  /** Approximate size of the upstream's header block in bytes (names, values, separators). */
  readonly size: number;
}

/** Copies an upstream response's headers minus hop-by-hop fields, adding `Via`; measures the block size. */
export function downstreamResponseHeaders(incoming: Headers, via: string): CleanedResponseHeaders {
  const out = new Headers();
  const named = connectionTokens(incoming.get("connection"));
  let size = 0;
  let priorVia: string | null = null;
  for (const [name, value] of incoming) {
    size += name.length + value.length + 4;
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    if (name === "via") {
      priorVia = value;
      continue;
    }
    out.append(name, value);
  }
  out.set("via", priorVia === null ? via : `${priorVia}, ${via}`);
  return { headers: out, size };
}
