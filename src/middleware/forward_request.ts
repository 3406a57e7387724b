import type { Context, Handler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { RequestFacts } from "../pool/upstream_selection.ts";
import { ProxyError } from "../errors.ts";
import { requestHasBody } from "../proxy/forward.ts";
import { type HeaderRecord, upstreamRequestHeaderRecord } from "../proxy/headers.ts";
import { replayableBody } from "../retry/replayable_body.ts";
import { fieldValue } from "../proxy/field_list.ts";

/**
 * The terminal handler: forwards to the upstream the pool's selection picks (src/pool/upstream_selection.ts:
 * sticky cookie, hash key, backups, breakers, panic), tells it the outcome, and sends again when it offers a
 * retry on another upstream.
 */
export function forwardRequest(): Handler<AppEnv> {
  return function forwardRequest(c) {
    return forwardToPool(c);
  };
}

/** Variations on the client's request, for the response cache's misses, revalidations and refreshes. */
export interface ForwardVariant {
  /** Supplies the method, the body and the client's Accept-Encoding (default: the client's request). */
  readonly request?: Request;
  /** Adjusts the upstream request headers before the first attempt (conditional headers, capabilities). */
  readonly editHeaders?: (headers: HeaderRecord) => void;
  /** A background refresh: no client waits for it, and it is not this request's `upstream` in logs. */
  readonly background?: boolean;
}

/** Forwards the request to its route's pool: pick, breaker, retries (see {@linkcode forwardRequest}). */
export async function forwardToPool(c: Context<AppEnv>, variant: ForwardVariant = {}): Promise<Response> {
  const runtime = c.env.runtime;
  const route = c.env.matched();
  const requestId = c.env.requestId;
  const pool = route.pool;
  const client = c.req.raw;
  const request = variant.request ?? client;
  const background = variant.background ?? false;
  const headers = upstreamRequestHeaderRecord(client.headers, {
    clientIp: c.env.peerIp,
    trusted: c.env.trusted,
    proto: runtime.proto,
    host: fieldValue(client.headers, "host") ?? "",
    requestId,
    via: runtime.via,
  });
  variant.editHeaders?.(headers);

  const timeoutMs = runtime.config.server.timeoutMs;
  const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : undefined;
  let body: ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer> | null = requestHasBody(request)
    ? request.body
    : null;
  let replayable = body === null;
  const retries = pool.config.retries;
  if (retries.attempts > 0 && body !== null) {
    // Only a body of known, small size is buffered for replay; a chunked upload keeps streaming.
    const length = Number(fieldValue(request.headers, "content-length") ?? NaN);
    if (length <= retries.maxBufferedBodyBytes) {
      const buffered = await replayableBody(body as ReadableStream<Uint8Array>, {
        capBytes: retries.maxBufferedBodyBytes,
      });
      body = (buffered.replayable ? buffered.bytes : buffered.body) as typeof body;
      replayable = buffered.replayable;
    }
  }

  const attempt = pool.selection.begin(requestFacts(c, request.method), replayable);
  for (;;) {
    const upstream = attempt.upstream!;
    if (!background) {
      c.env.upstream = upstream;
      c.env.attempts = attempt.count;
    }
    try {
      const response = await pool.forwarder.forward(upstream, {
        request,
        body,
        pathAndQuery: c.env.pathAndQuery,
        headers,
        deadline,
        delivery: background ? undefined : c.env.info,
        requestId,
      });
      attempt.answered(response.status);
      // Not on cache fetches: a stored response must not carry one client's pin to every other client.
      if (attempt.setCookie !== undefined && variant.request === undefined) {
        response.headers.append("set-cookie", attempt.setCookie);
      }
      return response;
    } catch (error) {
      if (!(error instanceof ProxyError)) {
        attempt.abandoned();
        throw error;
      }
      if (!attempt.failed(error)) throw error;
      await attempt.backoff();
    }
  }
}

/** The request facts upstream selection works from (hash key inputs, sticky cookie, retry safety). */
export function requestFacts(c: Context<AppEnv>, method: string): RequestFacts {
  const pathAndQuery = c.env.pathAndQuery;
  const q = pathAndQuery.indexOf("?");
  return {
    method,
    headers: c.req.raw.headers,
    peerIp: c.env.peerIp,
    trustedProxies: c.env.trusted ? c.env.runtime.trustedProxies : undefined,
    path: q < 0 ? pathAndQuery : pathAndQuery.slice(0, q),
  };
}
