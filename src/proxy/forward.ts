import { FetchTransport } from "../transport/fetch_transport.ts";
import { type ConnectionPoolSettings, Http1Transport } from "../transport/http1_transport.ts";
import { Cancellation } from "../transport/cancellation.ts";
import type { RequestBody, Transport, TransportName } from "../transport/transport.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { type BodyStream, compressesIdentity, encodeForClient } from "./compression.ts";
import { DeadlineSweeper, type SweepEntry } from "./deadline_sweeper.ts";
import { classifyFetchError, ProxyError } from "../errors.ts";
import {
  cleanResponseHeaders,
  type HeaderRecord,
  responseFromFields,
  scanResponseHeaders,
} from "./headers.ts";
import { fieldValue } from "./field_list.ts";

/** A request still waiting for its upstream's head after this long starts watching for the client leaving. */
const WATCH_CLIENT_AFTER_MS = 50;

export interface ForwarderOptions {
  /** Deadline for one attempt's response head (connecting included), ms. */
  firstByteTimeoutMs: number;
  /** Deadline for the response body once its head arrived, ms; 0 disables (long downloads and SSE run freely). */
  bodyTimeoutMs?: number;
  /** Longest wait between two body reads from the upstream, ms; 0 disables. */
  bodyIdleTimeoutMs?: number;
  maxResponseHeaderBytes: number;
  /** `1.1 <name>` for the Via header. */
  via: string;
  /** Compress for gzip-accepting clients (server.compression). */
  compression: boolean;
  /** Report each response's time-to-head to the upstream (for latency-aware balancing). Default false. */
  observeLatency?: boolean;
  /** TLS roots for https upstreams (PEM); default: system store. */
  caCerts?: string[];
  /** Which client talks to upstreams (pool `transport`). Default "http1"; "fetch" when `fetch` is injected. */
  transport?: TransportName;
  /** Pool `connection_pool` settings for the http1 transport. */
  connectionPool?: ConnectionPoolSettings;
  /** Injected for tests of failure handling (fetch transport); default globalThis.fetch. */
  fetch?: typeof fetch;
}

/** What the caller learns when the exchange ends (body fully sent, failed, or client gone). */
export interface ExchangeEnd {
  readonly upstream: Upstream;
  readonly status: number;
  /** ms from sending the request to the end. */
  readonly durationMs: number;
  readonly outcome: "completed" | "client_gone" | "aborted";
}

export type { RequestBody } from "../transport/transport.ts";

export interface ForwardRequest {
  readonly request: Request;
  /** The body to send instead of the request's own (a buffered copy, so a retry can send it again). */
  readonly body?: RequestBody;
  /** Path and query of the client's URL, e.g. `/a/b?x=1`. */
  readonly pathAndQuery: string;
  readonly headers: Headers | HeaderRecord;
  /** performance.now() time by which the response head must be in, across retries (server.timeout). */
  readonly deadline?: number | undefined;
  /**
   * Deno.serve's handler info (or anything with its `completed`): `completed` settles when the response is
   * fully delivered (resolves) or the client went away (rejects). Read only for streamed bodies: the getter
   * costs ≈ 3 µs a request on Deno 2.9.6.
   */
  readonly delivery?: { readonly completed?: Promise<void> | undefined } | undefined;
  /** Sent back to the client as `X-Request-Id`, replacing one the upstream sent. */
  readonly requestId?: string | undefined;
  /** Called once per exchange at its end. */
  readonly onEnd?: ((end: ExchangeEnd) => void) | undefined;
}

/**
 * Whether a request from Deno.serve has a body. Deno.serve hands every request a body stream, even one without
 * a body; passing that stream to fetch sends `Transfer-Encoding: chunked` and an empty chunked body (an OPTIONS
 * or DELETE gains a body it never had). RFC 9112 §6.3: a request has a body only with Content-Length or
 * Transfer-Encoding.
 */
export function requestHasBody(request: Request): boolean {
  const method = request.method;
  return method !== "GET" && method !== "HEAD" &&
    (fieldValue(request.headers, "content-length") !== null ||
      fieldValue(request.headers, "transfer-encoding") !== null);
}

/**
 * Sends one request to one upstream through the pool's transport (HTTP/1.1 client or fetch), streaming both
 * bodies. One Forwarder (and one transport with its connection pools) per upstream pool.
 *
 * Cost matters here: deadlines run on a shared sweeper instead of a setTimeout per request; the client's
 * `request.signal` (which slows every request that touches it) is watched only for requests still waiting for
 * the upstream after 50 ms; once a response exists, Deno.serve's `completed` promise tells us the client left.
 */
export class Forwarder implements Disposable {
  readonly transport: Transport;
  readonly #sweeper = new DeadlineSweeper();
  readonly #firstByteTimeoutMs: number;
  readonly #bodyTimeoutMs: number;
  readonly #bodyIdleTimeoutMs: number;
  readonly #maxResponseHeaderBytes: number;
  readonly #via: string;
  readonly #compression: boolean;
  readonly #observeLatency: boolean;
  #active = 0;

  constructor(options: ForwarderOptions) {
    const { firstByteTimeoutMs, bodyTimeoutMs = 0, bodyIdleTimeoutMs = 0, caCerts } = options;
    if (!(firstByteTimeoutMs > 0)) {
      throw new RangeError(`firstByteTimeoutMs must be > 0, got ${firstByteTimeoutMs}`);
    }
    if (!(bodyTimeoutMs >= 0)) throw new RangeError(`bodyTimeoutMs must be ≥ 0, got ${bodyTimeoutMs}`);
    if (!(bodyIdleTimeoutMs >= 0)) {
      throw new RangeError(`bodyIdleTimeoutMs must be ≥ 0, got ${bodyIdleTimeoutMs}`);
    }
    const name = options.transport ?? (options.fetch ? "fetch" : "http1");
    this.transport = name === "fetch"
      ? new FetchTransport({ caCerts, fetch: options.fetch })
      : new Http1Transport({
        pool: options.connectionPool,
        maxResponseHeaderBytes: options.maxResponseHeaderBytes,
        caCerts,
      });
    this.#firstByteTimeoutMs = firstByteTimeoutMs;
    this.#bodyTimeoutMs = bodyTimeoutMs;
    this.#bodyIdleTimeoutMs = bodyIdleTimeoutMs;
    this.#maxResponseHeaderBytes = options.maxResponseHeaderBytes;
    this.#via = options.via;
    this.#compression = options.compression;
    this.#observeLatency = options.observeLatency ?? false;
  }

  /** Exchanges not yet ended (response bodies still streaming included): a reload disposes us only at 0. */
  get active(): number {
    return this.#active;
  }

  /** Forwards and returns the client response; throws ProxyError when no response head could be had. */
  async forward(upstream: Upstream, input: ForwardRequest): Promise<Response> {
    const { request } = input;
    const method = request.method;
    const started = performance.now();
    const controller = new Cancellation();
    const sweeper = this.#sweeper;
    let timedOut = false;
    let clientGone = false;
    let ended = false;
    let status = 499; // until the upstream answers, an early end means the client left

    const onClientGone = () => {
      clientGone = true;
      controller.abort();
    };
    let watching = false;
    const deadline: SweepEntry = {
      deadline: Math.min(started + this.#firstByteTimeoutMs, input.deadline ?? Infinity),
      expire() {
        timedOut = true;
        controller.abort();
      },
      slot: -1,
      // Deno.serve settles `completed` only once a response exists, so a client that leaves while the upstream
      // is still working is noticed through request.signal — attached only to requests that are slow anyway.
      watchAt: started + WATCH_CLIENT_AFTER_MS,
      watch() {
        watching = true;
        if (request.signal.aborted) onClientGone();
        else request.signal.addEventListener("abort", onClientGone, { once: true });
      },
    };
    sweeper.track(deadline);

    const end = (finalStatus: number, outcome: ExchangeEnd["outcome"]) => {
      if (ended) return;
      ended = true;
      this.#active--;
      sweeper.untrack(deadline);
      upstream.release();
      input.onEnd?.({ upstream, status: finalStatus, durationMs: performance.now() - started, outcome });
    };

    const acceptEncoding = fieldValue(request.headers, "accept-encoding");
    let body: RequestBody = input.body !== undefined
      ? input.body
      : requestHasBody(request)
      ? request.body
      : null;
    upstream.acquire();
    this.#active++;

    let response: Awaited<ReturnType<Transport["exchange"]>>;
    try {
      // A small body with a Content-Length is read whole first, so a stale-connection retry can send it again.
      // Only the request's own untouched stream (the retry middleware may have buffered or wrapped it already).
      if (body instanceof ReadableStream && body === request.body && !request.bodyUsed) {
        const small = smallBodyLength(fieldValue(request.headers, "content-length"));
        if (small !== undefined) body = await readWhole(request, controller);
      }
      const pending = this.transport.exchange(upstream, {
        method,
        pathAndQuery: input.pathAndQuery,
        headers: input.headers,
        body,
        acceptEncoding,
        signal: controller,
      });
      response = await pending;
    } catch (error) {
      const failure = clientGone ? new ProxyError("client_closed") : classifyFetchError(error, timedOut);
      end(failure.status, clientGone ? "client_gone" : "aborted");
      throw failure;
    } finally {
      sweeper.untrack(deadline);
      if (watching) request.signal.removeEventListener("abort", onClientGone);
    }

    if (this.#observeLatency) {
      const now = performance.now();
      upstream.observeLatency(now - started, now);
    }
    const scan = scanResponseHeaders(response.headers, this.#via);
    if (scan.size > this.#maxResponseHeaderBytes) {
      controller.abort();
      end(502, "aborted");
      throw new ProxyError(
        "bad_response",
        `response headers of ${scan.size} bytes exceed ${this.#maxResponseHeaderBytes}`,
      );
    }

    status = response.status;
    let upstreamBody = response.body;
    const bodyTimeoutMs = this.#bodyTimeoutMs;
    const idleMs = this.#bodyIdleTimeoutMs;
    if (upstreamBody !== null && !(upstreamBody instanceof Uint8Array) && (bodyTimeoutMs > 0 || idleMs > 0)) {
      // Deno.serve reads a fetch body straight from its resource, so aborting the fetch after the head neither
      // errors the client's body nor closes the upstream connection (measured on 2.9.6). Piping through a JS
      // stream tied to the abort signal makes the deadline cancel both. Only paid for when body_timeout is set.
      const bodyEnd = bodyTimeoutMs > 0 ? performance.now() + bodyTimeoutMs : Infinity;
      deadline.deadline = Math.min(bodyEnd, idleMs > 0 ? performance.now() + idleMs : Infinity);
      deadline.watch = undefined;
      deadline.expire = () => {
        timedOut = true;
        controller.abort(new ProxyError("timeout", "response body timed out"));
      };
      sweeper.track(deadline);
      if (idleMs > 0) {
        // body_idle_timeout: every chunk read from the upstream moves the deadline (never past body_timeout).
        upstreamBody = upstreamBody.pipeThrough(
          new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
            transform(chunk, stream) {
              deadline.deadline = Math.min(bodyEnd, performance.now() + idleMs);
              stream.enqueue(chunk);
            },
          }),
          { signal: controller.signal },
        );
      } else if (response.needsAbortPipe) {
        // The http1 transport's body stream errors on the abort itself.
        upstreamBody = upstreamBody.pipeThrough(
          new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>(),
          { signal: controller.signal },
        );
      }
    }
    const completed = upstreamBody === null || upstreamBody instanceof Uint8Array
      ? undefined
      : input.delivery?.completed;
    if (completed === undefined) {
      // The whole body is in hand: nothing of the upstream is left to cancel, so the exchange ends here and
      // Deno.serve's `completed` is left alone (reading it costs ≈ 3 µs a request; bench/README.md).
      end(status, "completed");
    } else {
      // A streamed body: the exchange ends when Deno.serve has delivered it, or when the client goes away
      // (then the upstream body stream is cancelled too). Deno.serve settles `completed` only once a
      // response exists, so attaching here misses nothing.
      completed.then(() => end(status, "completed"), () => {
        clientGone = true;
        controller.abort();
        end(status, "client_gone");
      });
    }
    // No statusText: Deno.serve sends the standard reason phrase whatever the Response says (2.9.6), so
    // converting the upstream's would be work for nothing.
    const requestId = input.requestId;
    const fields = response.headers;
    if (
      scan.contentEncoding === undefined &&
      (acceptEncoding === null || !this.#compression || upstreamBody === null ||
        !compressesIdentity(method, status, fieldReader(fields), acceptEncoding, true))
    ) {
      // Fast path: the upstream's fields go into the Response as they are; then the few fixes are applied.
      if (Array.isArray(fields)) return responseFromFields(upstreamBody, status, fields, scan, requestId);
      const out = new Response(upstreamBody, { status, headers: response.headers });
      cleanResponseHeaders(out.headers, scan);
      if (requestId !== undefined) out.headers.set("x-request-id", requestId);
      return out;
    }
    const outHeaders = new Headers(response.headers);
    cleanResponseHeaders(outHeaders, scan);
    if (requestId !== undefined) outHeaders.set("x-request-id", requestId);
    const outBody = encodeForClient(
      method,
      status,
      outHeaders,
      upstreamBody instanceof Uint8Array ? bytesStream(upstreamBody) : upstreamBody,
      acceptEncoding,
      this.#compression,
    );
    return new Response(outBody, { status, headers: outHeaders });
  }

  [Symbol.dispose](): void {
    this.#sweeper[Symbol.dispose]();
    this.transport[Symbol.dispose]();
  }
}

/** Request bodies up to this size with a Content-Length are buffered before they are sent (64 KiB). */
export const BUFFERED_REQUEST_BODY_BYTES = 64 * 1024;

function smallBodyLength(value: string | null): number | undefined {
  if (value === null || value.length > 5 || !/^\d+$/.test(value)) return undefined;
  const length = Number(value);
  return length <= BUFFERED_REQUEST_BODY_BYTES ? length : undefined;
}

/** The request's whole body, or a rejection when `signal` aborts first (a deadline or the client leaving). */
function readWhole(request: Request, signal: Cancellation): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.onAbort(onAbort);
    request.arrayBuffer().then(
      (buffer) => resolve(new Uint8Array(buffer)),
      (error) => reject(error),
    ).finally(() => signal.offAbort(onAbort));
  });
}

/** Reads a field of an upstream response (pairs or Headers); repeated pair lines joined with ", ". */
function fieldReader(
  fields: Headers | ReadonlyArray<readonly [string, string]>,
): (name: string) => string | null {
  if (!Array.isArray(fields)) return (name) => (fields as Headers).get(name);
  return (name) => {
    let value: string | null = null;
    for (let i = 0; i < fields.length; i++) {
      const pair = fields[i]!;
      if (pair[0] === name) value = value === null ? pair[1] : `${value}, ${pair[1]}`;
    }
    return value;
  };
}

function bytesStream(bytes: Uint8Array<ArrayBuffer>): BodyStream {
  return new ReadableStream({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}
