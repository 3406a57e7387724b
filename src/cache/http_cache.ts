/**
 * The HTTP response cache the middleware calls: storage (bounded LRU), the RFC 9111 reuse decision, 304
 * merging, invalidation and purging. Pure module: plain data in and out, time from an injected `now()`.
 *
 * Keys: the primary key is the target URI (see cache_key.ts); each primary key remembers the header names its
 * latest response nominated in Vary, and each variant is stored under `primary + "\n" + varyKey`. A
 * response with `Vary: *` is not stored, since it can never be reused (RFC 9111 §4.1).
 */
import { type CacheControl, DELTA_SECONDS_MAX, deltaSeconds, parseCacheControl } from "./cache_control.ts";
import { CacheKey } from "./cache_key.ts";
import {
  type CacheStatus,
  cacheStatusName,
  formatCacheStatusAs,
  type ForwardReason,
  type XCache,
} from "./cache_status.ts";
import { currentAgeMs, freshnessLifetimeMs } from "./freshness.ts";
import { NOT_STORED } from "./header_list.ts";
import {
  type HeaderPairs,
  type HeaderSource,
  headerValue,
  splitList,
  withoutHeaders,
} from "./header_list.ts";
import { formatHttpDate } from "./http_date.ts";
import { invalidationTargets } from "./invalidation.ts";
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, Lru } from "./lru.ts";
import {
  clientNotModified,
  conditionalHeaders,
  mergeNotModified,
  notModifiedMatches,
} from "./revalidation.ts";
import { type NotStorableReason, storability } from "./storability.ts";
import { surrogateControl } from "./surrogate_control.ts";
import { targetedCacheControl } from "./targeted_fields.ts";
import { varyKey, varyNames } from "./vary.ts";

export interface CacheRequest {
  readonly method: string;
  /** Absolute URL as the client asked for it (scheme, Host, path, query). */
  readonly url: string | URL;
  readonly headers: HeaderSource;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: HeaderPairs;
  /** When the request was sent upstream, epoch ms (RFC 9111 §4.2.3 request_time). */
  readonly requestTime: number;
  /** When the response headers arrived, epoch ms (§4.2.3 response_time). */
  readonly responseTime: number;
}

export interface CacheEntry {
  /** Storage key: primary key + "\n" + vary key. */
  readonly key: string;
  readonly primaryKey: string;
  readonly status: number;
  readonly headers: HeaderPairs;
  /**
   * `headers` without Age, Cache-Status, X-Cache and X-Request-Id: what a response served from this entry
   * starts with before it adds its own four. Prepared once at store/revalidation time, so a hit copies no list.
   */
  readonly served: HeaderPairs;
  readonly body: Uint8Array<ArrayBuffer>;
  /**
   * `body` as a string when it is valid UTF-8 of at most {@linkcode TEXT_BODY_MAX_BYTES} bytes, else
   * undefined. A hit answers with it: Deno builds a Response from a string without copying it (≈ 0.07 µs,
   * against ≈ 0.9 µs for 1 KiB of bytes, `deno bench`) and writes it as the same UTF-8 bytes.
   */
  readonly text: string | undefined;
  readonly requestTime: number;
  readonly responseTime: number;
  /** Purge tags from Surrogate-Key (space-separated) and Cache-Tag (comma-separated). */
  readonly tags: readonly string[];
  readonly varyNames: readonly string[];
  readonly varyKey: string;
  readonly cacheControl: CacheControl;
  /** Freshness lifetime in ms (§4.2.1), fixed at store/revalidation time. */
  readonly lifetimeMs: number;
  /** Bytes charged against `maxBytes`: body, its text form, header text and a fixed overhead. */
  readonly size: number;
  /** corrected_initial_age (§4.2.3) in ms, computed once so lookups skip parsing Date and Age. */
  readonly initialAgeMs: number;
}

interface Reusable {
  readonly entry: CacheEntry;
  /** Current age (§4.2.3) in ms. */
  readonly ageMs: number;
  /** Remaining freshness in ms: lifetime − age; ≤ 0 when stale. */
  readonly ttlMs: number;
}

/** The reuse decision for one request (RFC 9111 §4). */
export type CacheLookup =
  /**
   * Serve the stored response. `stale` when allowed by the client's max-stale. `notModified` when the
   * client's own conditional request is satisfied: answer 304 (§4.3.2). HEAD: send headers only.
   */
  | Reusable & { readonly kind: "hit"; readonly stale: boolean; readonly notModified: boolean }
  /** Serve the stale response now and revalidate in the background (RFC 5861 §3). */
  | Reusable & {
    readonly kind: "stale-while-revalidate";
    readonly notModified: boolean;
    readonly conditionalHeaders: Array<[string, string]>;
  }
  /**
   * Forward with `conditionalHeaders` added; on 304 call `revalidated()`, on 200 `store()`. When
   * `staleIfError` is true and the upstream fails or answers 500/502/503/504, serve the stale entry
   * (RFC 5861 §4). When `staleOnError` is true and the upstream cannot be reached (no response at all),
   * serve the stale entry (`cache.serve_stale_on_error`, RFC 9111 §4.2.4).
   */
  | Reusable & {
    readonly kind: "revalidate";
    readonly fwd: "stale" | "request";
    readonly conditionalHeaders: Array<[string, string]>;
    readonly staleIfError: boolean;
    readonly staleOnError: boolean;
  }
  /** Nothing usable stored: forward. */
  | { readonly kind: "miss"; readonly fwd: "uri-miss" | "vary-miss" | "method" }
  /** only-if-cached without a usable response: answer 504 (§5.2.1.7). */
  | { readonly kind: "unavailable" };

export type NotStoredReason = NotStorableReason | "vary-star" | "too-large" | "not-reusable";

export type StoreResult =
  | { readonly stored: true; readonly entry: CacheEntry }
  | { readonly stored: false; readonly reason: NotStoredReason };

export interface HttpCacheOptions {
  /** Maximum stored responses (variants count separately); integer ≥ 1. Default 1000. */
  maxEntries?: number;
  /** Maximum total size in bytes; > 0. Default 64 MiB. */
  maxBytes?: number;
  /** Responses with larger bodies are not stored, in bytes; > 0. Default 1 MiB. */
  maxObjectBytes?: number;
  /** Heuristic freshness budget in ms for responses without explicit expiration (freshness.ts). Default 0. */
  defaultTtlMs?: number;
  /** Shared-cache semantics (a reverse proxy is one). Default true. */
  shared?: boolean;
  /** Query parameters dropped from the key; `name*` matches a prefix. Default none. */
  ignoredQueryParams?: readonly string[];
  /** Sort query parameters in the key. Default false. */
  sortQuery?: boolean;
  /** Name in Cache-Status (RFC 9211 §2). Default "proxy". */
  cacheName?: string;
  /** Targeted cache-control fields in priority order (RFC 9213). Default ["cdn-cache-control"]. */
  targetedFields?: readonly string[];
  /**
   * How long past its freshness a stored response may be served when the upstream cannot be reached, in ms
   * (`cache.serve_stale_on_error`); 0 = off. Default 0.
   */
  serveStaleOnErrorMs?: number;
  /** Clock in epoch ms. Default Date.now. */
  now?: () => number;
  /** Called when an entry is evicted to make room (metrics). */
  onEvict?: (entry: CacheEntry) => void;
}

export const DEFAULT_MAX_OBJECT_BYTES = 1024 * 1024;

/** Fields each served response sets itself (the stored X-Request-Id is the one of the request that stored it). */
const SERVED_OWN: ReadonlySet<string> = new Set(["age", "cache-status", "x-cache", "x-request-id"]);

const ENTRY_OVERHEAD_BYTES = 256;
/** Largest body also kept as text (see {@linkcode CacheEntry.text}). */
export const TEXT_BODY_MAX_BYTES = 64 * 1024;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as a string when it is non-empty valid UTF-8 of at most TEXT_BODY_MAX_BYTES (encoding it gives it back). */
function textOf(body: Uint8Array): string | undefined {
  if (body.byteLength === 0 || body.byteLength > TEXT_BODY_MAX_BYTES) return undefined;
  try {
    return strictUtf8.decode(body);
  } catch {
    return undefined;
  }
}

/** Memory of a V8 string: one byte a char when every char is below 256, else two. */
function stringBytes(text: string | undefined): number {
  if (text === undefined) return 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 255) return text.length * 2;
  return text.length;
}

const UNAVAILABLE: CacheLookup = { kind: "unavailable" };
const MISS_METHOD: CacheLookup = { kind: "miss", fwd: "method" };
const MISS_URI: CacheLookup = { kind: "miss", fwd: "uri-miss" };
const MISS_VARY: CacheLookup = { kind: "miss", fwd: "vary-miss" };
const PRAGMA_NO_CACHE: CacheControl = new Map([["no-cache", true]]);

interface Variants {
  names: readonly string[];
  readonly keys: Set<string>;
}

export class HttpCache {
  readonly maxObjectBytes: number;
  readonly defaultTtlMs: number;
  readonly shared: boolean;
  readonly cacheName: string;
  readonly serveStaleOnErrorMs: number;
  readonly #targetedFields: readonly string[];
  /** `cacheName` as Cache-Status writes it (token or quoted string), formatted once. */
  readonly #statusName: string;
  readonly #lru: Lru<string, CacheEntry>;
  readonly #key: CacheKey;
  readonly #now: () => number;
  readonly #variants = new Map<string, Variants>();
  readonly #tags = new Map<string, Set<string>>();
  readonly #onEvict: ((entry: CacheEntry) => void) | undefined;

  constructor(options: HttpCacheOptions = {}) {
    const {
      maxEntries = DEFAULT_MAX_ENTRIES,
      maxBytes = DEFAULT_MAX_BYTES,
      maxObjectBytes = DEFAULT_MAX_OBJECT_BYTES,
      defaultTtlMs = 0,
      shared = true,
      ignoredQueryParams = [],
      sortQuery = false,
      cacheName = "proxy",
      targetedFields = ["cdn-cache-control"],
      serveStaleOnErrorMs = 0,
      now = Date.now,
      onEvict,
    } = options;
    if (!(maxObjectBytes > 0) || !Number.isFinite(maxObjectBytes)) {
      throw new RangeError(`HttpCache maxObjectBytes must be a finite number > 0, got ${maxObjectBytes}`);
    }
    if (!(defaultTtlMs >= 0) || !Number.isFinite(defaultTtlMs)) {
      throw new RangeError(`HttpCache defaultTtlMs must be a finite number ≥ 0, got ${defaultTtlMs}`);
    }
    if (!(serveStaleOnErrorMs >= 0)) {
      throw new RangeError(`HttpCache serveStaleOnErrorMs must be ≥ 0, got ${serveStaleOnErrorMs}`);
    }
    if (typeof cacheName !== "string" || cacheName === "") {
      throw new TypeError("HttpCache cacheName must be a non-empty string");
    }
    if (typeof now !== "function") throw new TypeError("HttpCache now must be a function");
    this.maxObjectBytes = maxObjectBytes;
    this.defaultTtlMs = defaultTtlMs;
    this.shared = shared;
    this.cacheName = cacheName;
    this.serveStaleOnErrorMs = serveStaleOnErrorMs;
    this.#targetedFields = targetedFields.map((name) => name.toLowerCase());
    this.#statusName = cacheStatusName(cacheName);
    this.#now = now;
    this.#onEvict = onEvict;
    this.#key = new CacheKey({ ignoredQueryParams, sortQuery });
    this.#lru = new Lru<string, CacheEntry>({
      maxEntries,
      maxBytes,
      onEvict: (_key, entry, reason) => {
        // A replaced entry is re-indexed by the caller; every other removal drops it from the indexes.
        if (reason !== "replaced") this.#unindex(entry);
        if (reason === "capacity") this.#onEvict?.(entry);
      },
    });
  }

  /** Stored responses (variants count separately). */
  get size(): number {
    return this.#lru.size;
  }

  /** Bytes charged against maxBytes. */
  get bytes(): number {
    return this.#lru.bytes;
  }

  /** The primary cache key for a URL (also the coalescing key for misses). */
  keyFor(url: string | URL): string {
    return this.#key.for(url);
  }

  /** Decides how to answer `request` from the cache (RFC 9111 §4, RFC 5861). */
  lookup(request: CacheRequest, now: number = this.#now()): CacheLookup {
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") return MISS_METHOD;
    const reqCc = requestCacheControl(request.headers);
    const onlyIfCached = reqCc.has("only-if-cached");
    const primaryKey = this.#key.for(request.url);
    const variants = this.#variants.get(primaryKey);
    if (variants === undefined) return onlyIfCached ? UNAVAILABLE : MISS_URI;
    const entry = this.#lru.get(`${primaryKey}\n${varyKey(variants.names, request.headers)}`);
    if (entry === undefined) return onlyIfCached ? UNAVAILABLE : MISS_VARY;

    const ageMs = entry.initialAgeMs + Math.max(0, now - entry.responseTime);
    const ttlMs = entry.lifetimeMs - ageMs;
    const resCc = entry.cacheControl;
    const stalenessMs = -ttlMs;
    // §5.2.2.2 must-revalidate, §5.2.2.8 proxy-revalidate and §5.2.2.10 s-maxage (shared caches): once
    // stale, never reuse without successful validation, whatever the client or RFC 5861 would allow.
    const mustRevalidate = resCc.has("must-revalidate") ||
      (this.shared && (resCc.has("proxy-revalidate") || resCc.has("s-maxage")));
    const revalidate = (fwd: "stale" | "request"): CacheLookup => {
      if (onlyIfCached) return UNAVAILABLE;
      // RFC 5861 §4: stale-if-error from the response or the request; invalid values count as absent.
      const window = Math.max(
        validOr(deltaSeconds(resCc, "stale-if-error"), -1),
        validOr(deltaSeconds(reqCc, "stale-if-error"), -1),
      );
      const staleAllowed = !mustRevalidate && !resCc.has("no-cache");
      const staleIfError = staleAllowed && window >= 0 && Math.max(0, stalenessMs) <= window * 1000;
      // RFC 9111 §4.2.4: serving stale while disconnected, never against an explicit directive.
      const staleOnError = staleAllowed && this.serveStaleOnErrorMs > 0 &&
        Math.max(0, stalenessMs) <= this.serveStaleOnErrorMs;
      return {
        kind: "revalidate",
        entry,
        ageMs,
        ttlMs,
        fwd,
        conditionalHeaders: conditionalHeaders(entry.headers),
        staleIfError,
        staleOnError,
      };
    };

    // §5.2.2.4 response no-cache: every reuse needs validation.
    if (resCc.has("no-cache")) return revalidate("stale");
    // §5.2.1.4 request no-cache (or Pragma: no-cache without Cache-Control, §5.4).
    if (reqCc.has("no-cache")) return revalidate("request");
    // §5.2.1.1 request max-age: the client refuses responses older than this (invalid → refuse).
    const maxAge = deltaSeconds(reqCc, "max-age");
    if (maxAge !== undefined && !(ageMs <= maxAge * 1000)) return revalidate("request");

    const notModified = hasConditional(request.headers) && clientNotModified(request.headers, entry.headers);
    if (ttlMs > 0) {
      // §5.2.1.3 min-fresh: the client wants the response to stay fresh at least this long.
      const minFresh = deltaSeconds(reqCc, "min-fresh");
      if (minFresh !== undefined && !(ttlMs >= minFresh * 1000)) return revalidate("request");
      return { kind: "hit", entry, ageMs, ttlMs, stale: false, notModified };
    }
    if (!mustRevalidate) {
      // §5.2.1.2 max-stale: without a value any staleness is accepted.
      const maxStale = reqCc.get("max-stale");
      if (maxStale !== undefined) {
        const limit = maxStale === true ? Infinity : deltaSeconds(reqCc, "max-stale")!;
        if (stalenessMs <= limit * 1000) {
          return { kind: "hit", entry, ageMs, ttlMs, stale: true, notModified };
        }
      }
      // RFC 5861 §3 stale-while-revalidate.
      const swr = deltaSeconds(resCc, "stale-while-revalidate");
      if (swr !== undefined && stalenessMs <= swr * 1000) {
        return {
          kind: "stale-while-revalidate",
          entry,
          ageMs,
          ttlMs,
          notModified,
          conditionalHeaders: conditionalHeaders(entry.headers),
        };
      }
    }
    return revalidate("stale");
  }

  /**
   * Stores a GET response whose whole body was read (the middleware stops buffering past maxObjectBytes
   * and then does not call this). Responses to HEAD are not stored: the key is method-independent and a
   * HEAD response has no body to serve a later GET.
   */
  store(request: CacheRequest, response: UpstreamResponse, body: Uint8Array<ArrayBuffer>): StoreResult {
    const refused = this.refusal(request, response);
    if (refused !== undefined) return { stored: false, reason: refused };
    const responseCc = this.#responseCacheControl(response.headers);
    const names = varyNames(response.headers) as readonly string[];
    if (body.byteLength > this.maxObjectBytes) return { stored: false, reason: "too-large" };

    const headers = storedHeaders(response.headers, response.responseTime);
    const lifetimeMs = freshnessLifetimeMs(response.status, headers, {
      shared: this.shared,
      heuristicTtlMs: this.defaultTtlMs,
      responseTime: response.responseTime,
      cacheControl: responseCc,
    });
    // A response that is stale on arrival, has no validator and allows no stale use (RFC 5861) can never
    // be reused, so storing it would only evict useful entries.
    if (
      lifetimeMs <= 0 && headerValue(headers, "etag") === undefined &&
      headerValue(headers, "last-modified") === undefined && !responseCc.has("stale-while-revalidate") &&
      !responseCc.has("stale-if-error")
    ) {
      return { stored: false, reason: "not-reusable" };
    }

    const primaryKey = this.#key.for(request.url);
    const vKey = varyKey(names, request.headers);
    const entry = makeEntry({
      primaryKey,
      status: response.status,
      headers,
      body,
      requestTime: response.requestTime,
      responseTime: response.responseTime,
      varyNames: names,
      varyKey: vKey,
      cacheControl: responseCc,
      lifetimeMs,
    });
    // When the origin changed which headers it varies on, older variants use stale secondary keys.
    const existing = this.#variants.get(primaryKey);
    if (existing !== undefined && !sameNames(existing.names, names)) this.purgeUrl(request.url);
    if (!this.#put(entry)) return { stored: false, reason: "too-large" };
    return { stored: true, entry };
  }

  /**
   * Why a response could not be stored, judged from its head alone (so the middleware knows before reading
   * the body whether to buffer it): method, storability, Vary: *, a Content-Length over maxObjectBytes.
   * Undefined means `store()` may still accept it once the whole body has arrived.
   */
  refusal(
    request: CacheRequest,
    response: Pick<UpstreamResponse, "status" | "headers">,
  ): NotStoredReason | undefined {
    if (request.method !== "GET") return "method";
    const verdict = storability({
      method: request.method,
      requestHeaders: request.headers,
      status: response.status,
      responseHeaders: response.headers,
      shared: this.shared,
      requestCacheControl: requestCacheControl(request.headers),
      responseCacheControl: this.#responseCacheControl(response.headers),
    });
    if (!verdict.storable) return verdict.reason;
    if (varyNames(response.headers) === "*") return "vary-star";
    const length = headerValue(response.headers, "content-length");
    if (length !== undefined && Number(length) > this.maxObjectBytes) return "too-large";
    return undefined;
  }

  /**
   * Applies a 304 received while revalidating `entry` (RFC 9111 §4.3.3, §4.3.4): merges its headers into
   * the stored ones and restarts the age clock. Returns the freshened entry, or undefined when the 304's
   * validators do not select this entry (then forward the request unconditionally).
   */
  revalidated(entry: CacheEntry, response: UpstreamResponse): CacheEntry | undefined {
    if (response.status !== 304 || !notModifiedMatches(entry.headers, response.headers)) return undefined;
    const headers = storedHeaders(mergeNotModified(entry.headers, response.headers), response.responseTime);
    const cacheControl = this.#responseCacheControl(headers);
    const fresh = makeEntry({
      primaryKey: entry.primaryKey,
      status: entry.status,
      headers,
      body: entry.body,
      requestTime: response.requestTime,
      responseTime: response.responseTime,
      varyNames: entry.varyNames,
      varyKey: entry.varyKey,
      cacheControl,
      lifetimeMs: freshnessLifetimeMs(entry.status, headers, {
        shared: this.shared,
        heuristicTtlMs: this.defaultTtlMs,
        responseTime: response.responseTime,
        cacheControl,
      }),
    });
    const current = this.#variants.get(entry.primaryKey);
    // Re-store only if the variant set still uses the same Vary names (it may have been purged meanwhile).
    if (current === undefined || sameNames(current.names, entry.varyNames)) this.#put(fresh);
    return fresh;
  }

  /** Current age and remaining freshness of an entry, in ms. */
  ageOf(entry: CacheEntry, now: number = this.#now()): { ageMs: number; ttlMs: number } {
    const ageMs = entry.initialAgeMs + Math.max(0, now - entry.responseTime);
    return { ageMs, ttlMs: entry.lifetimeMs - ageMs };
  }

  /**
   * Headers for a response served from `entry`: stored headers with Age (RFC 9111 §5.1, whole seconds),
   * Cache-Status (RFC 9211) and X-Cache replaced, and the stored X-Request-Id left out (the caller adds the
   * serving request's own). The middleware's hot path appends {@linkcode CacheEntry.served} and the three
   * values from {@linkcode ageValue} and {@linkcode statusValue} instead of building this list.
   */
  servedHeaders(
    entry: CacheEntry,
    ageMs: number,
    status: CacheStatus,
    xCache: XCache,
  ): Array<[string, string]> {
    const out: Array<[string, string]> = entry.served.map(([name, value]) => [name, value]);
    out.push(["age", ageValue(ageMs)]);
    out.push(["cache-status", this.statusValue(status)]);
    out.push(["x-cache", xCache]);
    return out;
  }

  /** Cache-Status value for a response served from the cache, e.g. `proxy; hit; ttl=42`. */
  statusValue(status: CacheStatus): string {
    return formatCacheStatusAs(this.#statusName, status);
  }

  /** Cache-Status value for a forwarded response, e.g. `proxy; fwd=uri-miss; fwd-status=200; stored`. */
  forwardStatus(fwd: ForwardReason, details: Omit<CacheStatus, "fwd" | "hit"> = {}): string {
    return formatCacheStatusAs(this.#statusName, { fwd, ...details });
  }

  /** Invalidates after a response to an unsafe method (RFC 9111 §4.4). Returns entries removed. */
  invalidate(method: string, url: string | URL, status: number, responseHeaders: HeaderPairs): number {
    let removed = 0;
    for (const target of invalidationTargets(method, url, status, responseHeaders)) {
      removed += this.purgeUrl(target);
    }
    return removed;
  }

  /** Removes every variant stored for this URL (after key normalization). Returns entries removed. */
  purgeUrl(url: string | URL): number {
    const variants = this.#variants.get(this.#key.for(url));
    if (variants === undefined) return 0;
    let removed = 0;
    for (const key of [...variants.keys]) if (this.#lru.delete(key)) removed++;
    return removed;
  }

  /**
   * Removes every entry whose primary key starts with `prefix`: an absolute URL prefix
   * (`https://example.com/img/`) or, starting with `/`, a path prefix on every host (`/img/`).
   */
  purgePrefix(prefix: string): number {
    const pathOnly = prefix.startsWith("/");
    let removed = 0;
    for (const [primary, variants] of [...this.#variants]) {
      const subject = pathOnly ? primary.slice(primary.indexOf("/", primary.indexOf("//") + 2)) : primary;
      if (!subject.startsWith(prefix)) continue;
      for (const key of [...variants.keys]) if (this.#lru.delete(key)) removed++;
    }
    return removed;
  }

  /** Removes every entry tagged `tag` by Surrogate-Key or Cache-Tag. */
  purgeTag(tag: string): number {
    const keys = this.#tags.get(tag);
    if (keys === undefined) return 0;
    let removed = 0;
    for (const key of [...keys]) if (this.#lru.delete(key)) removed++;
    return removed;
  }

  clear(): void {
    this.#lru.clear();
  }

  /**
   * A targeted field (RFC 9213, targeted_fields.ts) first, then Surrogate-Control directives addressed to us
   * (surrogate_control.ts); either replaces Cache-Control.
   */
  #responseCacheControl(headers: HeaderPairs): CacheControl {
    return targetedCacheControl(headers, this.#targetedFields) ?? surrogateControl(headers, this.cacheName) ??
      parseCacheControl(headerValue(headers, "cache-control"));
  }

  #put(entry: CacheEntry): boolean {
    if (!this.#lru.set(entry.key, entry, entry.size)) return false;
    let variants = this.#variants.get(entry.primaryKey);
    if (variants === undefined) {
      variants = { names: entry.varyNames, keys: new Set() };
      this.#variants.set(entry.primaryKey, variants);
    }
    variants.names = entry.varyNames;
    variants.keys.add(entry.key);
    for (const tag of entry.tags) {
      let keys = this.#tags.get(tag);
      if (keys === undefined) this.#tags.set(tag, keys = new Set());
      keys.add(entry.key);
    }
    return true;
  }

  #unindex(entry: CacheEntry): void {
    const variants = this.#variants.get(entry.primaryKey);
    if (variants !== undefined) {
      variants.keys.delete(entry.key);
      if (variants.keys.size === 0) this.#variants.delete(entry.primaryKey);
    }
    for (const tag of entry.tags) {
      const keys = this.#tags.get(tag);
      if (keys === undefined) continue;
      keys.delete(entry.key);
      if (keys.size === 0) this.#tags.delete(tag);
    }
  }
}

/** Request Cache-Control, or Pragma: no-cache when Cache-Control is absent (RFC 9111 §5.4). */
function requestCacheControl(headers: HeaderSource): CacheControl {
  const value = headerValue(headers, "cache-control");
  if (value !== undefined) return parseCacheControl(value);
  const pragma = headerValue(headers, "pragma");
  if (pragma !== undefined && splitList(pragma).some((p) => p.toLowerCase() === "no-cache")) {
    return PRAGMA_NO_CACHE;
  }
  return parseCacheControl(undefined);
}

function validOr(seconds: number | undefined, fallback: number): number {
  return seconds === undefined || Number.isNaN(seconds) ? fallback : seconds;
}

function hasConditional(headers: HeaderSource): boolean {
  return headerValue(headers, "if-none-match") !== undefined ||
    headerValue(headers, "if-modified-since") !== undefined;
}

/** Headers as stored: §3.1 fields removed, Date added when missing (RFC 9110 §6.6.1). */
function storedHeaders(headers: HeaderPairs, responseTime: number): Array<[string, string]> {
  const out = withoutHeaders(headers, NOT_STORED);
  if (headerValue(out, "date") === undefined) out.push(["date", formatHttpDate(responseTime)]);
  return out;
}

function tagsOf(headers: HeaderPairs): string[] {
  const tags = new Set<string>();
  for (const tag of (headerValue(headers, "surrogate-key") ?? "").split(/[\s,]+/)) {
    if (tag !== "") tags.add(tag);
  }
  for (const tag of splitList(headerValue(headers, "cache-tag"))) tags.add(tag);
  return [...tags];
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/** The Age field value (RFC 9111 §5.1): whole seconds, capped at 2^31. */
export function ageValue(ageMs: number): string {
  return String(Math.min(DELTA_SECONDS_MAX, Math.floor(Math.max(0, ageMs) / 1000)));
}

function makeEntry(
  fields: Omit<CacheEntry, "key" | "tags" | "size" | "initialAgeMs" | "served" | "text">,
): CacheEntry {
  let headerBytes = 0;
  for (const [name, value] of fields.headers) headerBytes += name.length + value.length + 4;
  const text = textOf(fields.body);
  return {
    ...fields,
    text,
    key: `${fields.primaryKey}\n${fields.varyKey}`,
    served: withoutHeaders(fields.headers, SERVED_OWN),
    tags: tagsOf(fields.headers),
    size: fields.body.byteLength + stringBytes(text) + headerBytes + ENTRY_OVERHEAD_BYTES,
    initialAgeMs: currentAgeMs(fields.headers, fields, fields.responseTime),
  };
}
