import type { Upstream } from "../upstream/upstream.ts";
import { encodeForClient } from "./compression.ts";
import { classifyFetchError, ProxyError } from "./errors.ts";
import { downstreamResponseHeaders } from "./headers.ts";

export interface ForwarderOptions {
  /** Deadline for response headers (includes connecting), ms. */
  firstByteTimeoutMs: number;
  /** Deadline for the whole exchange including the body, ms; 0 disables. */
  timeoutMs: number;
  maxResponseHeaderBytes: number;
  /** `1.1 <name>` for the Via header. */
  via: string;
  /** Compress for gzip-accepting clients (server.compression). */
  compression: boolean;
  /** TLS roots for https upstreams (PEM); default: system store. */
  caCerts?: string[];
  /** Injected for tests of failure handling; default globalThis.fetch. */
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

export interface ForwardRequest {
  readonly request: Request;
  /** Path and query of the client's URL, e.g. `/a/b?x=1`. */
  readonly pathAndQuery: string;
  readonly headers: Headers;
  /** Settles when the response is fully delivered (resolves) or the client went away (rejects). */
  readonly completed?: Promise<void> | undefined;
  /** Called once per exchange at its end. */
  readonly onEnd?: ((end: ExchangeEnd) => void) | undefined;
}

/**
 * Sends one request to one upstream with fetch, streaming both bodies. One Forwarder (and one HTTP client
 * with its connection pool) per upstream pool. Deadlines use our own AbortController: passing the client's
 * `request.signal` to fetch measurably slows every request, so a client that goes away is noticed through
 * Deno.serve's `completed` promise instead.
 */
export class Forwarder implements Disposable {
  readonly #client: Deno.HttpClient;
  readonly #options: Required<Omit<ForwarderOptions, "caCerts">>;

  constructor(options: ForwarderOptions) {
    if (!(options.firstByteTimeoutMs > 0)) throw new RangeError("firstByteTimeoutMs must be > 0");
    if (!(options.timeoutMs >= 0)) throw new RangeError("timeoutMs must be ≥ 0");
    const { caCerts, ...rest } = options;
    // allowHost: send the client's Host header instead of the upstream's authority.
    this.#client = Deno.createHttpClient(caCerts ? { allowHost: true, caCerts } : { allowHost: true });
    this.#options = { fetch: globalThis.fetch, ...rest };
  }

  /** Forwards and returns the client response; throws ProxyError when no response head could be had. */
  async forward(upstream: Upstream, input: ForwardRequest): Promise<Response> {
    const { request } = input;
    const options = this.#options;
    const started = performance.now();
    const controller = new AbortController();
    let timedOut = false;
    const firstByte = options.timeoutMs > 0
      ? Math.min(options.firstByteTimeoutMs, options.timeoutMs)
      : options.firstByteTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, firstByte);

    const method = request.method;
    // Deno.serve hands every request a body stream, even one that has no body; passing that stream to fetch
    // sends `Transfer-Encoding: chunked` and an empty chunked body (an OPTIONS or DELETE gains a body it never
    // had). RFC 9112 §6.3: a request has a body only when it carries Content-Length or Transfer-Encoding.
    const hasBody = method !== "GET" && method !== "HEAD" &&
      (request.headers.has("content-length") || request.headers.has("transfer-encoding"));
    const body = hasBody ? request.body : null;
    const headers = input.headers;
    headers.set("accept-encoding", "identity");
    upstream.acquire();

    let ended = false;
    let status = 499; // until the upstream answers, an early end means the client left
    const end = (status: number, outcome: ExchangeEnd["outcome"]) => {
      if (ended) return;
      ended = true;
      if (timer !== undefined) clearTimeout(timer);
      upstream.release();
      input.onEnd?.({ upstream, status, durationMs: performance.now() - started, outcome });
    };

    // Deno.serve settles `completed` only once a response exists, so a client that leaves while the upstream
    // is still working on the headers is noticed through `request.signal`, which Deno aborts when the client's
    // connection closes. Listening (rather than passing the signal to fetch) keeps the per-request cost low.
    let clientGone = false;
    const onClientGone = () => {
      clientGone = true;
      controller.abort();
    };
    request.signal.addEventListener("abort", onClientGone, { once: true });

    let response: Response;
    try {
      const fetchPromise = options.fetch(upstream.id + input.pathAndQuery, {
        method,
        headers,
        body,
        client: this.#client,
        redirect: "manual",
        signal: controller.signal,
      });
      // The exchange ends when Deno.serve has delivered the response, or when the client goes away (then the
      // upstream request or body stream is aborted too).
      input.completed?.then(() => end(status, "completed"), () => {
        controller.abort();
        end(status, "client_gone");
      });
      response = await fetchPromise;
    } catch (error) {
      const failure = classifyFetchError(error, timedOut);
      if (clientGone) end(499, "client_gone");
      else end(failure.status, "aborted");
      throw failure;
    } finally {
      request.signal.removeEventListener("abort", onClientGone);
    }

    const cleaned = downstreamResponseHeaders(response.headers, options.via);
    if (cleaned.size > options.maxResponseHeaderBytes) {
      controller.abort();
      end(502, "aborted");
      throw new ProxyError(
        "bad_response",
        `response headers of ${cleaned.size} bytes exceed ${options.maxResponseHeaderBytes}`,
      );
    }

    // Headers are in: switch from the first-byte deadline to what is left of the overall one.
    clearTimeout(timer);
    timer = undefined;
    if (options.timeoutMs > 0) {
      const left = options.timeoutMs - (performance.now() - started);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new ProxyError("timeout", `response not complete within ${options.timeoutMs} ms`));
      }, Math.max(1, left));
    }

    status = response.status;
    // Deno.serve reads a fetch response body straight from its resource, bypassing the JS stream, so aborting
    // the fetch once headers are in neither errors the client's body nor closes the upstream connection
    // (measured on 2.9.6: the client waits forever). Piping through a JS stream tied to the deadline's signal
    // makes the abort cancel the upstream body (closing that connection) and error the client's body.
    const upstreamBody = response.body !== null && options.timeoutMs > 0
      ? response.body.pipeThrough(new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>(), {
        signal: controller.signal,
      })
      : response.body;
    const outBody = encodeForClient(
      method,
      status,
      cleaned.headers,
      upstreamBody,
      request.headers.get("accept-encoding"),
      options.compression,
    );
    if (!input.completed) end(status, "completed");
    return new Response(outBody, { status, statusText: response.statusText, headers: cleaned.headers });
  }

  [Symbol.dispose](): void {
    this.#client.close();
  }
}
