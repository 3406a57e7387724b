/**
 * Header rewriting for both directions of the forwarder. RFC 9110 §7.6.1: a proxy removes the hop-by-hop
 * fields and every field named in `Connection` before forwarding. RFC 9110 §7.6.3: it adds `Via`.
 */
import { appendField, fieldList, fieldValue, forEachField } from "./field_list.ts";

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

import type { HeaderRecord } from "../transport/transport.ts";
export type { HeaderRecord } from "../transport/transport.ts";

/**
 * Builds the upstream request's headers: hop-by-hop removed, forwarding headers added or extended.
 * Nothing is invented: a field the client did not send is not sent (the fetch transport alone adds empty
 * `user-agent`/`accept-language`, see fetch_transport.ts). The transport decides `accept-encoding`.
 *
 * Returns a null-prototype record: reading the incoming Headers once and handing fetch a record costs a third
 * of building a Headers object, which fetch would iterate (sort and combine) again.
 */
export function upstreamRequestHeaderRecord(incoming: Headers, facts: ForwardedFacts): HeaderRecord {
  const out: HeaderRecord = Object.create(null);
  const named = connectionTokens(fieldValue(incoming, "connection"));
  let priorFor: string | undefined;
  let priorVia: string | undefined;
  // Field lines in arrival order, repeated ones combined with ", " (RFC 9110 §5.3), as Headers.get does.
  forEachField(incoming, (value, name) => {
    if (HOP_BY_HOP.has(name) || named?.has(name)) return;
    if (FORWARDING.has(name)) {
      if (!facts.trusted) return;
      if (name === "x-forwarded-for") {
        priorFor = priorFor === undefined ? value : `${priorFor}, ${value}`;
        return;
      }
    } else if (name === "via") {
      priorVia = priorVia === undefined ? value : `${priorVia}, ${value}`;
      return;
    } else if (name === "accept-encoding") {
      return; // decided by the forwarder
    }
    const prior = out[name];
    out[name] = prior === undefined ? value : `${prior}, ${value}`;
  });
  out["x-forwarded-for"] = priorFor === undefined ? facts.clientIp : `${priorFor}, ${facts.clientIp}`;
  if (!facts.trusted || out["x-forwarded-proto"] === undefined) out["x-forwarded-proto"] = facts.proto;
  if (!facts.trusted || out["x-forwarded-host"] === undefined) out["x-forwarded-host"] = facts.host;
  out["x-request-id"] = facts.requestId;
  out["via"] = priorVia === undefined ? facts.via : `${priorVia}, ${facts.via}`;
  return out;
}

/** {@linkcode upstreamRequestHeaderRecord} as a Headers object, for callers that edit it further. */
export function upstreamRequestHeaders(incoming: Headers, facts: ForwardedFacts): Headers {
  const record = upstreamRequestHeaderRecord(incoming, facts);
  const out = new Headers();
  for (const name in record) out.append(name, record[name]!);
  return out;
}

/** What a scan of an upstream response's headers found. */
export interface ResponseHeaderScan {
  /** Approximate size of the upstream's header block in bytes (names, values, separators). */
  readonly size: number;
  /** Hop-by-hop fields present (usually none), to delete from the forwarded copy. */
  readonly remove: readonly string[] | undefined;
  /** The `Via` value to send: the upstream's, extended with ours. */
  readonly via: string;
  /** The upstream's Content-Encoding, if any. */
  readonly contentEncoding: string | undefined;
}

/**
 * Reads an upstream response's headers once without copying them. Copying into a new Headers or a pair list costs
 * far more than handing the upstream's Headers to `new Response` and deleting the few hop-by-hop fields that are
 * present (measured: +40 µs CPU per request for pairs, +2 µs for this, on the 2-core build machine).
 */
export function scanResponseHeaders(
  incoming: Headers | ReadonlyArray<readonly [string, string]>,
  via: string,
): ResponseHeaderScan {
  let size = 0;
  let remove: string[] | undefined;
  let priorVia: string | undefined;
  let contentEncoding: string | undefined;
  if (Array.isArray(incoming)) {
    // Pairs from the http1 transport: names lower case, repeated fields as separate pairs (joined like Headers).
    let connection: string | undefined;
    for (let i = 0; i < incoming.length; i++) {
      const [name, value] = incoming[i]!;
      size += name.length + value.length + 4;
      if (name === "connection") connection = connection === undefined ? value : `${connection}, ${value}`;
      else if (name === "via") priorVia = priorVia === undefined ? value : `${priorVia}, ${value}`;
      else if (name === "content-encoding") {
        contentEncoding = contentEncoding === undefined ? value : `${contentEncoding}, ${value}`;
      }
    }
    const named = connectionTokens(connection ?? null);
    for (let i = 0; i < incoming.length; i++) {
      const name = incoming[i]![0];
      if ((HOP_BY_HOP.has(name) || named?.has(name)) && !remove?.includes(name)) (remove ??= []).push(name);
    }
    if (contentEncoding !== undefined && remove?.includes("content-encoding")) contentEncoding = undefined;
    if (priorVia !== undefined && remove?.includes("via")) priorVia = undefined;
  } else {
    const named = connectionTokens((incoming as Headers).get("connection"));
    (incoming as Headers).forEach((value, name) => {
      size += name.length + value.length + 4;
      if (HOP_BY_HOP.has(name) || named?.has(name)) (remove ??= []).push(name);
      else if (name === "via") priorVia = value;
      else if (name === "content-encoding") contentEncoding = value;
    });
  }
  return { size, remove, via: priorVia === undefined ? via : `${priorVia}, ${via}`, contentEncoding };
}

/**
 * The client Response for upstream `[name, value]` pairs: created without headers, then the pairs appended
 * (minus the scan's hop-by-hop names and Via, which gets ours, and X-Request-Id when `requestId` replaces it).
 * Cheaper than `new Headers(pairs)` or a Headers-typed `HeadersInit`, which Deno converts through WebIDL and
 * its sorting iterator (≈ 15 µs a request), and than a `set` on the finished Response. The pairs are valid
 * (`parseResponseHead`'s or a fetch `Headers`'), so they skip `append`'s checks (field_list.ts).
 */
export function responseFromFields(
  body: BodyInit | null,
  status: number,
  fields: ReadonlyArray<readonly [string, string]>,
  scan: ResponseHeaderScan,
  requestId?: string,
): Response {
  const out = new Response(body, { status });
  const headers = out.headers;
  const list = fieldList(headers);
  const remove = scan.remove;
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i]!;
    if (name === "via" || (remove !== undefined && remove.includes(name))) continue;
    if (requestId !== undefined && name === "x-request-id") continue;
    appendField(headers, list, name, value);
  }
  appendField(headers, list, "via", scan.via);
  if (requestId !== undefined) appendField(headers, list, "x-request-id", requestId);
  return out;
}

/** Applies a scan to the (mutable) headers of the response being sent to the client. */
export function cleanResponseHeaders(headers: Headers, scan: ResponseHeaderScan): void {
  if (scan.remove) { for (const name of scan.remove) headers.delete(name); }
  headers.set("via", scan.via);
}
