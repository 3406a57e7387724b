/**
 * The response cache's per-process state: the store, the coalescer for concurrent misses, and the set of
 * background revalidations (stale-while-revalidate). A Runtime holds one; a reload hands it to the next
 * Runtime when the cache section (and the name shown in Cache-Status) is unchanged, so entries survive.
 */
import { type CacheConfig, sameCacheConfig } from "../config/cache_section.ts";
import { HttpCache } from "./http_cache.ts";
import { RequestCoalescer } from "./request_coalescer.ts";

export interface CacheRuntimeOptions {
  /** Name in Cache-Status (server.name). */
  cacheName: string;
  /** Coalesced requests wait at most this long when cache.lock_timeout is unset (server.timeout), ms. */
  defaultLockTimeoutMs: number;
  /** Clock in epoch ms. Default Date.now. */
  now?: () => number;
}

const FALLBACK_LOCK_TIMEOUT_MS = 30_000;

export class CacheRuntime {
  readonly config: CacheConfig;
  readonly http: HttpCache;
  /** Keyed by primary cache key; the value says whether the leader stored a response. */
  readonly coalescer: RequestCoalescer<boolean>;
  readonly now: () => number;
  readonly #background = new Set<Promise<void>>();
  #backgroundFailures = 0;

  constructor(config: CacheConfig, options: CacheRuntimeOptions) {
    const { cacheName, defaultLockTimeoutMs, now = Date.now } = options;
    this.config = config;
    this.now = now;
    this.http = new HttpCache({
      maxEntries: config.maxSize,
      maxBytes: config.maxBytes,
      maxObjectBytes: config.maxObjectBytes,
      defaultTtlMs: config.ttlMs,
      ignoredQueryParams: config.ignoredQueryParams,
      sortQuery: config.sortQuery,
      cacheName,
      targetedFields: config.targetedFields,
      serveStaleOnErrorMs: config.serveStaleOnErrorMs,
      now,
    });
    const lock = config.lockTimeoutMs ??
      (defaultLockTimeoutMs > 0 ? defaultLockTimeoutMs : FALLBACK_LOCK_TIMEOUT_MS);
    this.coalescer = new RequestCoalescer<boolean>({ maxWaitMs: lock });
  }

  /** The previous runtime's cache when it is configured the same way, else a new (empty) one. */
  static reuseOrCreate(
    config: CacheConfig | undefined,
    options: CacheRuntimeOptions,
    previous: CacheRuntime | undefined,
  ): CacheRuntime | undefined {
    if (config === undefined) return undefined;
    if (
      previous !== undefined && sameCacheConfig(previous.config, config) &&
      previous.http.cacheName === options.cacheName
    ) {
      return previous;
    }
    return new CacheRuntime(config, options);
  }

  /** Revalidations running in the background. */
  get backgroundTasks(): number {
    return this.#background.size;
  }

  /** Background revalidations that failed (the stale entry stayed). */
  get backgroundFailures(): number {
    return this.#backgroundFailures;
  }

  recordBackgroundFailure(): void {
    this.#backgroundFailures++;
  }

  /** Tracks a background task until it settles; it must not reject (callers catch). */
  track(task: Promise<void>): void {
    this.#background.add(task);
    const done = () => void this.#background.delete(task);
    task.then(done, done);
  }

  /** Resolves when every background revalidation started so far has finished. */
  async settled(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }
}
