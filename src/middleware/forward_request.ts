import type { Context, Handler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { readCookie } from "../balancer/read_cookie.ts";
import { clientAddress } from "../net/client_address.ts";
import type { StickyPick } from "../balancer/sticky.ts";
import { CircuitBreaker } from "../breaker/circuit_breaker.ts";
import { isFailure, type UpstreamErrorReason } from "../breaker/is_failure.ts";
import { type FailureKind, ProxyError } from "../proxy/errors.ts";
import { requestHasBody } from "../proxy/forward.ts";
import { type HeaderRecord, upstreamRequestHeaderRecord } from "../proxy/headers.ts";
import { replayableBody } from "../retry/replayable_body.ts";
import { backoffMs, isRetryable } from "../retry/retry_policy.ts";
import type { PoolRuntime } from "../pool/pool_runtime.ts";
import type { Upstream } from "../upstream/upstream.ts";

/** Failure kinds from the forwarder, in the breaker's and retry policy's vocabulary. */
const ERROR_REASON: Partial<Record<FailureKind, UpstreamErrorReason>> = {
  timeout: "timeout",
  refused: "refused",
  reset: "reset",
  bad_response: "reset",
  upstream_error: "reset",
};

/**
 * The terminal handler: picks an upstream of the route's pool (hash key, sticky cookie, backups, breakers),
 * forwards, feeds the outcome to the upstream's breaker, and retries on another upstream when that is safe
 * (see src/retry/retry_policy.ts) and the pool's retry budget allows.
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
  const runtime = c.get("runtime");
  const route = c.get("route");
  const requestId = c.get("requestId");
  const pool = route.pool;
  const client = c.req.raw;
  const request = variant.request ?? client;
  const background = variant.background ?? false;
  const headers = upstreamRequestHeaderRecord(client.headers, {
    clientIp: c.get("peerIp"),
    trusted: c.get("trusted"),
    proto: runtime.proto,
    host: client.headers.get("host") ?? "",
    requestId,
    via: runtime.via,
  });
  variant.editHeaders?.(headers);

  const timeoutMs = runtime.config.server.timeoutMs;
  const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : undefined;
  const retries = pool.config.retries.attempts;
  const budget = pool.retryBudget;
  budget?.recordRequest();
  let body: ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer> | null = requestHasBody(request)
    ? request.body
    : null;
  let replayable = body === null;
  if (retries > 0 && body !== null) {
    // Only a body of known, small size is buffered for replay; a chunked upload keeps streaming.
    const length = Number(request.headers.get("content-length") ?? NaN);
    if (length <= pool.config.retries.maxBufferedBodyBytes) {
      const buffered = await replayableBody(body as ReadableStream<Uint8Array>, {
        capBytes: pool.config.retries.maxBufferedBodyBytes,
      });
      body = (buffered.replayable ? buffered.bytes : buffered.body) as typeof body;
      replayable = buffered.replayable;
    }
  }

  let setCookie: string | undefined;
  let tried: Set<Upstream> | undefined;
  let lastError: ProxyError | undefined;
  for (let attempt = 0;; attempt++) {
    let upstream: Upstream | undefined;
    if (attempt === 0) {
      const picked = pickFirst(c, pool);
      upstream = picked.upstream;
      setCookie = picked.setCookie;
    } else {
      upstream = pickAnother(pool, tried!);
      // Sticky: pin the client to the upstream that serves it, not to the one that just failed.
      if (upstream !== undefined && pool.balancer.stickyCookieName !== undefined) {
        setCookie = pool.balancer.setCookieFor(upstream);
      }
    }
    upstream ??= pool.pickPanic(tried);
    if (upstream === undefined) {
      if (attempt > 0) throw lastError!;
      throw new ProxyError("no_upstream", `pool "${pool.name}"`, pool.retryAfterMs());
    }
    // A half-open breaker admits a limited number of probes: reserve one. Outcomes are reported only for a
    // reservation (a panic pick past an open breaker has none).
    const breaker = upstream.gate instanceof CircuitBreaker && upstream.gate.reserve()
      ? upstream.gate
      : undefined;
    if (!background) {
      c.set("upstream", upstream);
      c.set("attempts", attempt + 1);
    }
    try {
      const response = await pool.forwarder.forward(upstream, {
        request,
        body,
        pathAndQuery: c.get("pathAndQuery"),
        headers,
        deadline,
        completed: background ? undefined : c.env?.completed,
      });
      if (breaker !== undefined) {
        if (isFailure({ kind: "response", status: response.status })) breaker.recordFailure();
        else breaker.recordSuccess();
      }
      response.headers.set("x-request-id", requestId);
      // Not on cache fetches: a stored response must not carry one client's pin to every other client.
      if (setCookie !== undefined && variant.request === undefined) {
        response.headers.append("set-cookie", setCookie);
      }
      return response;
    } catch (error) {
      if (!(error instanceof ProxyError)) throw error;
      // Neither is the upstream's fault: no breaker failure, no retry (a full pool is our own limit).
      if (error.kind === "client_closed" || error.kind === "pool_full") {
        breaker?.release();
        throw error;
      }
      const reason = ERROR_REASON[error.kind] ?? "reset";
      breaker?.recordFailure();
      lastError = error;
      const retry = attempt < retries &&
        isRetryable({
          method: request.method,
          hasIdempotencyKey: client.headers.has("idempotency-key"),
          failure: { kind: "error", reason },
          bodyReplayable: replayable,
          responseStarted: false,
        }) &&
        budget !== undefined && budget.tryRetry();
      if (!retry) throw error;
      (tried ??= new Set()).add(upstream);
      const wait = backoffMs(attempt + 1, { baseMs: pool.config.retries.backoffMs });
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** First pick: sticky cookie and consistent-hash key when the pool uses them, else a plain pick. */
function pickFirst(
  c: Context<AppEnv>,
  pool: PoolRuntime,
): StickyPick {
  const balancer = pool.balancer;
  const cookieName = balancer.stickyCookieName;
  const needsKey = balancer.algorithm === "consistent_hash";
  if (cookieName === undefined && !needsKey) return { upstream: balancer.pick(), setCookie: undefined };
  const request = c.req.raw;
  const key = needsKey
    ? balancer.keyFor({
      // Behind trusted proxies every request comes from a proxy: hash the client they forward for.
      clientIp: c.get("trusted") && balancer.hashKey === "client_ip"
        ? clientAddress({
          peer: c.get("peerIp"),
          xForwardedFor: request.headers.get("x-forwarded-for"),
          trusted: c.get("runtime").trustedProxies,
        })
        : c.get("peerIp"),
      headers: request.headers,
      path: pathOf(c.get("pathAndQuery")),
    })
    : undefined;
  const context = key === undefined ? undefined : { key };
  if (cookieName === undefined) return { upstream: balancer.pick(context), setCookie: undefined };
  return balancer.pickWithCookie(readCookie(request.headers.get("cookie"), cookieName), context);
}

/** A retry goes to an available upstream not tried yet: the balancer's choice if fresh, else the first fresh one. */
function pickAnother(pool: PoolRuntime, tried: ReadonlySet<Upstream>): Upstream | undefined {
  const choice = pool.balancer.pick();
  if (choice !== undefined && !tried.has(choice)) return choice;
  for (const upstream of pool.upstreams) {
    if (upstream.available && !tried.has(upstream) && !upstream.backup) return upstream;
  }
  for (const upstream of pool.upstreams) if (upstream.available && !tried.has(upstream)) return upstream;
  return undefined;
}

function pathOf(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf("?");
  return q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
}
