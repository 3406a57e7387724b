/**
 * The `transport: fetch` path: Deno's fetch with `allowHost`. Fetch decompresses bodies, so upstreams are asked
 * for `identity` (see compression.ts); it invents `user-agent` and `accept-language` when absent, so they are
 * sent empty instead. Kept for upstreams the HTTP/1.1 client cannot serve (HTTP/2-only upstreams over TLS ALPN).
 */
import type { Upstream } from "../upstream/upstream.ts";
import type { ExchangeRequest, Transport, UpstreamResponse } from "./transport.ts";

export interface FetchTransportOptions {
  /** TLS roots for https upstreams (PEM); default: system store. */
  readonly caCerts?: string[] | undefined;
  /** Injected for tests of failure handling; default globalThis.fetch. */
  readonly fetch?: typeof fetch | undefined;
}

/**
 * Whether Deno's built-in OpenTelemetry is on (`OTEL_DENO=true`). Then fetch injects its own `traceparent`
 * (a child of the server span, which Deno.serve continued from the client's), so the client's must not be
 * sent too. Without env permission for the variable, OTel is taken as off.
 */
function denoOtelOn(): boolean {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: "OTEL_DENO" }).state !== "granted") return false;
    const value = Deno.env.get("OTEL_DENO");
    return value === "true" || value === "1";
  } catch {
    return false;
  }
}

export class FetchTransport implements Transport {
  readonly name = "fetch" as const;
  readonly #client: Deno.HttpClient;
  readonly #fetch: typeof fetch;
  readonly #otel = denoOtelOn();

  constructor(options: FetchTransportOptions = {}) {
    const { caCerts } = options;
    // allowHost: send the client's Host header instead of the upstream's authority.
    this.#client = Deno.createHttpClient(caCerts ? { allowHost: true, caCerts } : { allowHost: true });
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async exchange(upstream: Upstream, request: ExchangeRequest): Promise<UpstreamResponse> {
    const headers = request.headers;
    if (headers instanceof Headers) {
      headers.set("accept-encoding", "identity");
      if (!headers.has("user-agent")) headers.set("user-agent", "");
      if (!headers.has("accept-language")) headers.set("accept-language", "");
      if (this.#otel) headers.delete("traceparent");
    } else {
      headers["accept-encoding"] = "identity";
      headers["user-agent"] ??= "";
      headers["accept-language"] ??= "";
      if (this.#otel) delete headers["traceparent"];
    }
    const response = await this.#fetch(upstream.id + request.pathAndQuery, {
      method: request.method,
      headers,
      body: request.body,
      client: this.#client,
      redirect: "manual",
      signal: request.signal.signal,
    });
    return {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
      body: response.body as ReadableStream<Uint8Array<ArrayBuffer>> | null,
      needsAbortPipe: true,
    };
  }

  [Symbol.dispose](): void {
    this.#client.close();
  }
}
