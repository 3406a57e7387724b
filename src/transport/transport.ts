/**
 * How the forwarder talks to an upstream: one request out, one response head (and a body) back. Two
 * implementations: the HTTP/1.1 client on Deno.connect (default) and Deno's fetch (`transport: fetch`).
 */
import type { Upstream } from "../upstream/upstream.ts";
import type { Cancellation } from "./cancellation.ts";

/** Header fields as a plain record: what fetch converts fastest (no Headers object to build and re-read). */
export type HeaderRecord = Record<string, string>;

export type TransportName = "http1" | "fetch";

export const TRANSPORT_NAMES: readonly TransportName[] = ["http1", "fetch"];

export type RequestBody = ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer> | null;

export interface ExchangeRequest {
  readonly method: string;
  /** Path and query of the client's URL, e.g. `/a/b?x=1`. */
  readonly pathAndQuery: string;
  /** The rewritten request fields (see headers.ts), without Accept-Encoding. */
  readonly headers: Headers | HeaderRecord;
  readonly body: RequestBody;
  /** What the response will be encoded for (the client's Accept-Encoding, or null). */
  readonly acceptEncoding: string | null;
  /** Aborts the exchange: before the head it rejects, after it the body errors. */
  readonly signal: Cancellation;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly statusText: string;
  /**
   * The response fields: a Headers object (fetch), or `[name, value]` pairs in arrival order with lower-case
   * names (http1: building a Headers and handing it to `new Response` cost ≈ 15 µs a request; pairs are
   * appended to the client Response's own headers instead).
   */
  readonly headers: Headers | Array<[string, string]>;
  /** A Uint8Array when the whole body was already read; a stream otherwise. */
  readonly body: ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer> | null;
  /** The body must be piped through an abortable stream for body deadlines (fetch only). */
  readonly needsAbortPipe: boolean;
}

export interface Transport extends Disposable {
  readonly name: TransportName;
  /** Sends the request; rejects (ProxyError or a fetch error) when no response head could be had. */
  exchange(upstream: Upstream, request: ExchangeRequest): Promise<UpstreamResponse>;
}
