/**
 * The response cache on the request path (RFC 9111, RFC 5861, RFC 9211). Decisions live in
 * src/cache/http_cache.ts; this file moves bytes: it answers hits from memory, forwards misses and
 * revalidations itself (it must add conditional headers, see the identity body, and refresh in the
 * background, which the terminal forwardRequest handler cannot), and streams misses to the client while
 * capturing at most `max_object_size` bytes for the store.
 *
 * The store keeps the identity representation; gzip for the client is applied on the way out
 * (encodeForClient), as nginx's gzip filter runs after its cache.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { type Bytes, captureBody, readCapped } from "../cache/body_capture.ts";
import { contentRange, type RangeAnswer, rangeAnswer } from "../cache/byte_range.ts";
import type { CacheRuntime } from "../cache/cache_runtime.ts";
import type { CacheStatus, ForwardReason, XCache } from "../cache/cache_status.ts";
import { type HeaderPairs, headerValue } from "../cache/header_list.ts";
import {
  ageValue,
  type CacheEntry,
  type CacheLookup,
  type CacheRequest,
  type UpstreamResponse,
} from "../cache/http_cache.ts";
import { clientNotModified, NOT_MODIFIED_FIELDS } from "../cache/revalidation.ts";
import { staleOnErrorStatus, unreachableError } from "../cache/stale_on_error.ts";
import { surrogateCapability } from "../cache/surrogate_control.ts";
import type { CacheResult, ProxyMetrics } from "../metrics/proxy_metrics.ts";
import { encodeForClient } from "../proxy/compression.ts";
import { errorResponse } from "../errors.ts";
import type { HeaderRecord } from "../proxy/headers.ts";
import { appendField, fieldList, fieldValue } from "../proxy/field_list.ts";
import { forwardToPool } from "./forward_request.ts";

type Ctx = Context<AppEnv>;
type Revalidate = Extract<CacheLookup, { kind: "revalidate" }>;
/** Counts how the cache answered (`proxy_cache_requests_total`) and sets `cacheStatus` for the access log. */
type RecordResult = (c: Ctx, result: CacheResult) => void;

/** Methods that never invalidate (RFC 9111 §4.4). */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
/** Upstream statuses that let stale-if-error serve the stored response (RFC 5861 §4). */
const ERROR_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504]);
/** Statuses whose responses carry no body (Response() refuses one). */
const NULL_BODY: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);
const CONDITIONALS = ["if-none-match", "if-modified-since"];
const NO_HEADERS: Array<[string, string]> = [];
const ignore = (_stored: boolean) => {};

interface Fetched {
  readonly response: Response;
  /** Upstream response headers as stored (before Cache-Status and friends are added). */
  readonly head: UpstreamResponse;
}

export interface ResponseCacheOptions {
  /** Counts each request's result in `proxy_cache_requests_total{result}` and `/stats`. */
  metrics?: ProxyMetrics;
}

/**
 * Serves cacheable requests from `runtime.cache`; with no `cache:` section it only calls `next()`. Every
 * request it takes part in gets one {@linkcode CacheResult}: counted in the metrics and set as the
 * request state's `cacheStatus` (the access log's `cache` field), decided before anything goes upstream so a
 * failing forward is still counted.
 */
export function responseCache(options: ResponseCacheOptions = {}): MiddlewareHandler<AppEnv> {
  const { metrics } = options;
  const record: RecordResult = (c, result) => {
    c.env.cacheStatus = result;
    metrics?.cacheResult(result);
  };
  return async function responseCache(c, next) {
    const cache = c.env.runtime.cache;
    if (cache === undefined) return await next();
    const request = c.req.raw;
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") {
      record(c, "bypass");
      await next();
      const res = c.res;
      if (!SAFE_METHODS.has(method)) cache.http.invalidate(method, request.url, res.status, [...res.headers]);
      markForwarded(res, cache, "method");
      return;
    }
    // Never answer from, or store for, a request that carries a body: its response may depend on it.
    const length = fieldValue(request.headers, "content-length");
    if ((length !== null && length !== "0") || fieldValue(request.headers, "transfer-encoding") !== null) {
      record(c, "bypass");
      await next();
      markForwarded(c.res, cache, "bypass");
      return;
    }
    const creq: CacheRequest = { method, url: request.url, headers: request.headers };
    const found = cache.http.lookup(creq, cache.now());
    switch (found.kind) {
      case "hit":
        record(c, found.stale ? "stale" : "hit");
        return serveStored(c, cache, found.entry, found.ageMs, found.notModified, {
          hit: true,
          ttlSeconds: found.ttlMs / 1000,
          ...(found.stale ? { detail: "max-stale" } : {}),
        }, found.stale ? "STALE" : "HIT");
      case "stale-while-revalidate":
        record(c, "stale");
        refreshInBackground(c, cache, creq, found.entry, found.conditionalHeaders);
        return serveStored(c, cache, found.entry, found.ageMs, found.notModified, {
          hit: true,
          ttlSeconds: found.ttlMs / 1000,
          detail: "stale-while-revalidate",
        }, "STALE");
      case "unavailable":
        // RFC 9111 §5.2.1.7: only-if-cached and nothing usable stored.
        record(c, "miss");
        return errorResponse(504, "not in cache (only-if-cached)", c.env.requestId, {
          "cache-status": cache.http.forwardStatus("miss", { detail: "only-if-cached" }),
          "x-cache": "MISS",
        });
      case "revalidate":
        return await revalidate(c, cache, creq, found, record);
      case "miss":
        return await miss(c, cache, creq, found.fwd, record);
    }
  };
}

function markForwarded(res: Response, cache: CacheRuntime, fwd: ForwardReason): void {
  res.headers.set("cache-status", cache.http.forwardStatus(fwd, { fwdStatus: res.status }));
  res.headers.set("x-cache", "MISS");
}

/** A miss: forward (one request per key at a time when coalescing), stream back, store if allowed. */
async function miss(
  c: Ctx,
  cache: CacheRuntime,
  creq: CacheRequest,
  fwd: ForwardReason,
  record: RecordResult,
): Promise<Response> {
  const http = cache.http;
  let settle = ignore;
  if (cache.config.coalesce && creq.method === "GET") {
    const key = http.keyFor(creq.url);
    const waiting = cache.coalescer.follow(key);
    if (waiting !== undefined) {
      const outcome = await waiting;
      if (outcome.role === "follower" && outcome.value) {
        const again = http.lookup(creq, cache.now());
        if (again.kind === "hit") {
          record(c, "hit");
          return serveStored(c, cache, again.entry, again.ageMs, again.notModified, {
            hit: true,
            ttlSeconds: again.ttlMs / 1000,
            collapsed: true,
          }, "HIT");
        }
      }
    }
    // Lead unless another waiter already took over; those arriving later follow this request.
    if (!cache.coalescer.has(key)) {
      cache.coalescer.lead(key, new Promise<boolean>((resolve) => settle = resolve));
    }
  }
  record(c, "miss");
  let fetched: Fetched;
  try {
    fetched = await fetchUpstream(c, cache, creq.method, NO_HEADERS);
  } catch (error) {
    settle(false);
    throw error;
  }
  return respond(c, cache, creq, fetched, fwd, settle);
}

/** A stored response needs validation (RFC 9111 §4.3) before it may be used. */
async function revalidate(
  c: Ctx,
  cache: CacheRuntime,
  creq: CacheRequest,
  found: Revalidate,
  record: RecordResult,
): Promise<Response> {
  const http = cache.http;
  const conditional = found.conditionalHeaders;
  let fetched: Fetched;
  try {
    fetched = await fetchUpstream(c, cache, creq.method, conditional, false, true);
  } catch (error) {
    if (found.staleIfError) {
      record(c, "stale");
      return serveStale(c, cache, creq, found.entry, found.fwd);
    }
    const unreachable = found.staleOnError ? unreachableError(error) : undefined;
    if (unreachable !== undefined) {
      record(c, "stale");
      const { fwdStatus, detail } = staleOnErrorStatus(unreachable);
      return serveStale(c, cache, creq, found.entry, found.fwd, fwdStatus, detail);
    }
    record(c, "miss");
    throw error;
  }
  const { response, head } = fetched;
  if (conditional.length > 0 && response.status === 304) {
    await response.body?.cancel();
    const fresh = http.revalidated(found.entry, head);
    if (fresh === undefined) return await miss(c, cache, creq, found.fwd, record);
    record(c, "revalidated");
    const { ageMs, ttlMs } = http.ageOf(fresh, cache.now());
    return serveStored(
      c,
      cache,
      fresh,
      ageMs,
      clientNotModified(creq.headers, fresh.headers) && hasConditional(creq),
      {
        fwd: found.fwd,
        fwdStatus: 304,
        ttlSeconds: ttlMs / 1000,
      },
      "HIT",
    );
  }
  if (found.staleIfError && ERROR_STATUSES.has(response.status)) {
    await response.body?.cancel();
    record(c, "stale");
    return serveStale(c, cache, creq, found.entry, found.fwd, response.status);
  }
  record(c, "miss");
  return respond(c, cache, creq, fetched, found.fwd, ignore);
}

function serveStale(
  c: Ctx,
  cache: CacheRuntime,
  creq: CacheRequest,
  entry: CacheEntry,
  fwd: ForwardReason,
  fwdStatus?: number,
  detail = "stale-if-error",
): Response {
  const { ageMs, ttlMs } = cache.http.ageOf(entry, cache.now());
  return serveStored(
    c,
    cache,
    entry,
    ageMs,
    hasConditional(creq) && clientNotModified(creq.headers, entry.headers),
    {
      fwd,
      ...(fwdStatus === undefined ? {} : { fwdStatus }),
      ttlSeconds: ttlMs / 1000,
      detail,
    },
    "STALE",
  );
}

/** RFC 5861 §3: the stale response went out; fetch a fresh one once per entry, off the request path. */
function refreshInBackground(
  c: Ctx,
  cache: CacheRuntime,
  creq: CacheRequest,
  entry: CacheEntry,
  conditional: ReadonlyArray<[string, string]>,
): void {
  if (cache.coalescer.has(entry.key)) return;
  const http = cache.http;
  const getRequest: CacheRequest = { ...creq, method: "GET" };
  const task = (async () => {
    const { response, head } = await fetchUpstream(c, cache, "GET", conditional, true);
    if (conditional.length > 0 && response.status === 304) {
      await response.body?.cancel();
      http.revalidated(entry, head);
      return;
    }
    if (http.refusal(getRequest, head) !== undefined || response.body === null) {
      await response.body?.cancel();
      return;
    }
    const bytes = await readCapped(response.body, http.maxObjectBytes);
    if (bytes !== undefined && lengthMatches(head.headers, bytes)) http.store(getRequest, head, bytes);
  })().catch(() => {
    // The stale entry stays until it is revalidated or evicted; the failure shows up in upstream metrics.
    cache.recordBackgroundFailure();
  });
  cache.coalescer.lead(entry.key, task.then(() => true));
  cache.track(task);
}

/** Sends the upstream's response to the client, capturing the body for the store when it is storable. */
function respond(
  c: Ctx,
  cache: CacheRuntime,
  creq: CacheRequest,
  fetched: Fetched,
  fwd: ForwardReason,
  settle: (stored: boolean) => void,
): Response {
  const http = cache.http;
  const { response, head } = fetched;
  const status = response.status;
  const storable = http.refusal(creq, head) === undefined;
  const headers = response.headers;
  headers.set("cache-status", http.forwardStatus(fwd, { fwdStatus: status, stored: storable }));
  headers.set("x-cache", "MISS");
  headers.set("x-request-id", c.env.requestId);
  let body = response.body;
  if (!storable) settle(false);
  else if (body === null) {
    settle(http.store(creq, head, new Uint8Array(0)).stored);
  } else {
    const declared = headers.get("content-length");
    body = captureBody(body, http.maxObjectBytes, (bytes) => {
      settle(
        bytes !== undefined && lengthMatches(head.headers, bytes) && http.store(creq, head, bytes).stored,
      );
    }, declared === null ? undefined : Number(declared));
  }
  const out = encodeForClient(
    creq.method,
    status,
    headers,
    body,
    fieldValue(c.req.raw.headers, "accept-encoding"),
    c.env.runtime.config.server.compression,
  );
  return new Response(out, { status, statusText: response.statusText, headers });
}

/**
 * Builds the client response from a stored one (RFC 9111 §4): Age, Cache-Status, X-Cache, X-Request-Id; 304
 * or HEAD. Hot path: the stored fields were prepared at store time (`entry.served`) and are appended to the
 * new Response's own Headers, which costs about a third of passing them as `HeadersInit` (Deno converts and
 * validates an init list through WebIDL, and a `Headers` init through its slow iterator).
 */
function serveStored(
  c: Ctx,
  cache: CacheRuntime,
  entry: CacheEntry,
  ageMs: number,
  notModified: boolean,
  status: CacheStatus,
  xCache: XCache,
): Response {
  const age = ageValue(ageMs);
  const cacheStatus = cache.http.statusValue(status);
  const requestId = c.env.requestId;
  if (notModified) {
    // RFC 9110 §15.4.5: a 304 carries the validator and caching fields a 200 would have.
    const response = new Response(null, { status: 304 });
    const headers = response.headers;
    const list = fieldList(headers);
    for (const [name, value] of entry.served) {
      if (NOT_MODIFIED_FIELDS.has(name) || !isRepresentationField(name)) {
        appendField(headers, list, name, value);
      }
    }
    appendOwn(headers, list, age, cacheStatus, xCache, requestId);
    return response;
  }
  const method = c.req.raw.method;
  if (method === "GET" && entry.status === 200) {
    const range = fieldValue(c.req.raw.headers, "range");
    if (range !== null) {
      const answer = rangeAnswer(
        range,
        fieldValue(c.req.raw.headers, "if-range"),
        entry.served,
        entry.body.byteLength,
      );
      if (answer.kind !== "full") return servePartial(entry, answer, age, cacheStatus, xCache, requestId);
    }
  }
  const bodyless = method === "HEAD" || NULL_BODY.has(entry.status);
  if (!bodyless && entry.body.byteLength > 0 && c.env.runtime.config.server.compression) {
    const acceptEncoding = fieldValue(c.req.raw.headers, "accept-encoding");
    if (acceptEncoding !== null) {
      const headers = new Headers();
      const list = fieldList(headers);
      for (const [name, value] of entry.served) appendField(headers, list, name, value);
      appendOwn(headers, list, age, cacheStatus, xCache, requestId);
      const stream = bodyStream(entry.body);
      const body = encodeForClient(method, entry.status, headers, stream, acceptEncoding, true);
      // Re-encoded (gzip, or decoded for a client that cannot read the stored coding): stream it. Otherwise
      // fall through and send the bytes, which Deno.serve writes without a JS stream.
      if (body !== stream) return new Response(body, { status: entry.status, headers });
      discard(stream);
    }
  }
  // The text form when there is one: a Response from a string costs a tenth of one from bytes. Deno then adds
  // its own `content-type: text/plain;charset=UTF-8`, dropped here: only the stored fields go out.
  const text = bodyless ? undefined : entry.text;
  const response = new Response(bodyless ? null : text ?? entry.body, { status: entry.status });
  const headers = response.headers;
  const list = fieldList(headers);
  if (text !== undefined) {
    if (list !== undefined) list.length = 0;
    else headers.delete("content-type");
  }
  for (const [name, value] of entry.served) appendField(headers, list, name, value);
  appendOwn(headers, list, age, cacheStatus, xCache, requestId);
  return response;
}

/** RFC 9110 §14: one range of a stored 200 as 206, or 416 when it lies past the end. Never re-encoded. */
function servePartial(
  entry: CacheEntry,
  answer: Exclude<RangeAnswer, { kind: "full" }>,
  age: string,
  cacheStatus: string,
  xCache: XCache,
  requestId: string,
): Response {
  if (answer.kind === "unsatisfiable") {
    const response = new Response(null, { status: 416 });
    response.headers.set("content-range", contentRange(answer));
    appendOwn(response.headers, undefined, age, cacheStatus, xCache, requestId);
    return response;
  }
  // Deno.serve sets Content-Length from the slice.
  const response = new Response(entry.body.subarray(answer.start, answer.end + 1), { status: 206 });
  const headers = response.headers;
  for (const [name, value] of entry.served) {
    if (name !== "content-length" && name !== "content-range") headers.append(name, value);
  }
  headers.set("content-range", contentRange(answer));
  appendOwn(headers, undefined, age, cacheStatus, xCache, requestId);
  return response;
}

/** Age, Cache-Status, X-Cache and X-Request-Id; through `list` (field_list.ts) when there is one. */
function appendOwn(
  headers: Headers,
  list: Array<[string, string]> | undefined,
  age: string,
  cacheStatus: string,
  xCache: XCache,
  requestId: string,
): void {
  appendField(headers, list, "age", age);
  appendField(headers, list, "cache-status", cacheStatus);
  appendField(headers, list, "x-cache", xCache);
  appendField(headers, list, "x-request-id", requestId);
}

/** Drops a body stream that was built but not sent (nothing reads it; cancel releases its queue at once). */
function discard(stream: ReadableStream<Bytes>): void {
  stream.cancel().catch(() => {});
}

/** Fields describing the body, left out of a 304 (RFC 9110 §15.4.5). */
function isRepresentationField(name: string): boolean {
  return name.startsWith("content-") || name === "accept-ranges" || name === "transfer-encoding";
}

function bodyStream(bytes: Bytes): ReadableStream<Bytes> {
  return new ReadableStream<Bytes>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

function hasConditional(creq: CacheRequest): boolean {
  return headerValue(creq.headers, "if-none-match") !== undefined ||
    headerValue(creq.headers, "if-modified-since") !== undefined;
}

/** A body shorter or longer than its Content-Length was truncated or mis-framed: never store it. */
function lengthMatches(headers: HeaderPairs, bytes: Uint8Array): boolean {
  for (const [name, value] of headers) {
    if (name === "content-length") return Number(value) === bytes.byteLength;
  }
  return true;
}

/**
 * Forwards to an upstream of the route's pool, as forwardRequest does, but asks for the identity body
 * (the store keeps one representation and encodes per client) and sends `conditional` instead of the
 * client's own validators when given. `whole` (revalidations and background refreshes of a stored entry)
 * drops the client's Range and If-Range: the store needs the complete response and serves ranges from it.
 * A miss keeps them, so a range of a large object stays a 206 from the origin (relayed, never stored).
 */
async function fetchUpstream(
  c: Ctx,
  cache: CacheRuntime,
  method: string,
  conditional: ReadonlyArray<readonly [string, string]>,
  background = false,
  whole = background,
): Promise<Fetched> {
  const requestTime = cache.now();
  const response = await forwardToPool(c, {
    // A request without Accept-Encoding: the forwarder then hands back the identity body.
    request: new Request(c.req.raw.url, { method }),
    editHeaders(headers: HeaderRecord) {
      const capability = surrogateCapability(cache.http.cacheName);
      const prior = headers["surrogate-capability"];
      headers["surrogate-capability"] = prior === undefined ? capability : `${prior}, ${capability}`;
      if (whole) {
        delete headers["range"];
        delete headers["if-range"];
      }
      if (conditional.length > 0) {
        for (const name of CONDITIONALS) delete headers[name];
        for (const [name, value] of conditional) headers[name] = value;
      }
    },
    background,
  });
  const head: UpstreamResponse = {
    status: response.status,
    headers: [...response.headers],
    requestTime,
    responseTime: cache.now(),
  };
  return { response, head };
}
