/**
 * Content-coding between upstream and client.
 *
 * Deno's fetch transparently decompresses gzip/br responses yet keeps `Content-Encoding` and
 * `Content-Length`, and the only request value that turns this off is exactly `Accept-Encoding: identity`
 * (measured on 2.9.6). Forwarding the client's `Accept-Encoding` would therefore hand clients inflated bodies
 * labelled as compressed, or (with the label removed) many more bytes than the upstream sent. So the forwarder
 * always asks upstreams for `identity` and compresses here, once, for clients that accept gzip — the same
 * thing nginx's `gzip on` does. Upstreams that send an encoding anyway (precompressed files) pass through
 * untouched when the client accepts that coding, and are decoded for clients that do not.
 */

export type BodyStream = ReadableStream<Uint8Array<ArrayBuffer>>;
type ByteTransform = ReadableWritablePair<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>;

/** Responses smaller than this are not worth compressing (a gzip header and trailer cost 18 bytes). */
const MIN_COMPRESS_BYTES = 1024;

const COMPRESSIBLE =
  /^(text\/(?!event-stream)|application\/(json|javascript|xml|x-javascript|ecmascript|wasm|graphql|ld\+json|manifest\+json)|image\/svg\+xml|[^;]*\+(json|xml))/i;

/** q-value the client gives a coding (`*` counts when the coding is not named). 0 means not acceptable. */
export function acceptsCoding(acceptEncoding: string | null, coding: string): boolean {
  if (acceptEncoding === null) return false;
  let star = -1;
  for (const part of acceptEncoding.split(",")) {
    const [rawName, ...params] = part.split(";");
    const name = rawName!.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split("=");
      if (key?.trim().toLowerCase() === "q") q = Number(value?.trim() ?? "1");
    }
    if (name === coding || (coding === "gzip" && name === "x-gzip")) return q > 0;
    if (name === "*") star = q;
  }
  return star > 0;
}

function weakenEtag(headers: Headers): void {
  const etag = headers.get("etag");
  if (etag !== null && !etag.startsWith("W/")) headers.set("etag", `W/${etag}`);
}

function appendVary(headers: Headers, field: string): void {
  const vary = headers.get("vary");
  if (vary === null) headers.set("vary", field);
  else if (!vary.toLowerCase().split(",").some((v) => v.trim() === field.toLowerCase() || v.trim() === "*")) {
    headers.set("vary", `${vary}, ${field}`);
  }
}

/**
 * Whether {@linkcode encodeForClient} gzips a response that has a body and no Content-Encoding of its own:
 * compression on, the client accepts gzip, a compressible Content-Type, no Content-Length under 1 KiB, no
 * `no-transform`. `field` reads a response field (repeated lines joined with ", "). The forwarder asks this
 * first, so a response that will go out as it is keeps the fast path (its fields straight into the Response).
 */
export function compressesIdentity(
  method: string,
  status: number,
  field: (name: string) => string | null,
  acceptEncoding: string | null,
  compress: boolean,
): boolean {
  if (method === "HEAD" || status === 204 || status === 304 || status === 206) return false;
  if (!compress || !acceptsCoding(acceptEncoding, "gzip")) return false;
  const type = field("content-type");
  if (type === null || !COMPRESSIBLE.test(type)) return false;
  const length = field("content-length");
  if (length !== null && Number(length) < MIN_COMPRESS_BYTES) return false;
  return !/(^|,)\s*no-transform\s*(,|$)/i.test(field("cache-control") ?? ""); // RFC 9110 §7.7
}

/**
 * Adjusts a response's coding for the client. Mutates `headers`; returns the body to send.
 * `compress` is `server.compression`.
 */
export function encodeForClient(
  method: string,
  status: number,
  headers: Headers,
  body: BodyStream | null,
  acceptEncoding: string | null,
  compress: boolean,
): BodyStream | null {
  if (body === null || method === "HEAD" || status === 204 || status === 304 || status === 206) return body;
  const coding = headers.get("content-encoding")?.trim().toLowerCase();
  if (coding !== undefined && coding !== "identity") {
    if (acceptsCoding(acceptEncoding, coding)) return body;
    const format = coding === "gzip" || coding === "x-gzip"
      ? "gzip"
      : coding === "deflate"
      ? "deflate"
      : undefined;
    if (format === undefined) return body; // cannot decode br/zstd here; pass through as the upstream sent it
    headers.delete("content-encoding");
    headers.delete("content-length");
    headers.delete("accept-ranges");
    weakenEtag(headers);
    return body.pipeThrough(new DecompressionStream(format) as ByteTransform);
  }
  if (!compressesIdentity(method, status, (name) => headers.get(name), acceptEncoding, compress)) return body;
  headers.set("content-encoding", "gzip");
  headers.delete("content-length");
  headers.delete("accept-ranges");
  weakenEtag(headers);
  appendVary(headers, "Accept-Encoding");
  return body.pipeThrough(new CompressionStream("gzip") as ByteTransform);
}
