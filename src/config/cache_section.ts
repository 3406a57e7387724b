import { type ConfigReader, describe } from "./config_reader.ts";

/** `cache:` — the HTTP response cache (RFC 9111); absent means off. Sizes in bytes, durations in ms. */
export interface CacheConfig {
  /** Most stored responses (each Vary variant counts). */
  readonly maxSize: number;
  /**
   * Heuristic freshness lifetime for cacheable responses without explicit freshness (no s-maxage, max-age
   * or Expires); never overrides what the origin said. 0 disables heuristic caching.
   */
  readonly ttlMs: number;
  /** Bound on the sum of stored bodies plus headers. */
  readonly maxBytes: number;
  /** Responses with larger bodies stream through uncached. */
  readonly maxObjectBytes: number;
  /** Query parameters left out of the cache key; `name*` matches a prefix (`utm_*`). */
  readonly ignoredQueryParams: readonly string[];
  /** Sort query parameters in the key (`?b=1&a=2` and `?a=2&b=1` share an entry). */
  readonly sortQuery: boolean;
  /** Concurrent misses for one URL share one upstream request. */
  readonly coalesce: boolean;
  /** Longest a coalesced request waits for the first one; undefined = server.timeout. */
  readonly lockTimeoutMs: number | undefined;
  /** Targeted cache-control fields (RFC 9213) in priority order; empty disables. */
  readonly targetedFields: readonly string[];
  /**
   * How long past its freshness a stored response may still be served when the upstream cannot be reached
   * (refused, reset or closed before a complete head, timed out, no upstream available); 0 = off.
   */
  readonly serveStaleOnErrorMs: number;
}

export const CACHE_KEYS = [
  "max_size",
  "ttl",
  "max_bytes",
  "max_object_size",
  "ignored_query_params",
  "sort_query",
  "coalesce",
  "lock_timeout",
  "targeted_fields",
  "serve_stale_on_error",
];

const MIB = 1024 * 1024;
const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1000 ** 2,
  mib: MIB,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Bytes from an integer or a string with a unit: `65536`, `512KiB`, `64MiB`, `1GB`. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const factor = UNITS[(match?.[2] || "b").toLowerCase()];
  if (!match || factor === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function byteSize(reader: ConfigReader, value: unknown, key: string, fallback: number, min: number): number {
  if (value === undefined || value === null) return fallback;
  const path = ["cache", key];
  const bytes = parseByteSize(value);
  if (bytes === undefined) {
    reader.fail(path, `expected a size in bytes like 65536, 512KiB or 64MiB, got ${describe(value)}`);
    return fallback;
  }
  if (bytes < min) {
    reader.fail(path, `must be at least ${min} bytes, got ${value}`);
    return fallback;
  }
  return bytes;
}

export function readCache(value: unknown, reader: ConfigReader): CacheConfig | undefined {
  const m = reader.mapping(value, ["cache"], CACHE_KEYS);
  if (!m) return undefined;
  const maxBytes = byteSize(reader, m.max_bytes, "max_bytes", 64 * MIB, 1024);
  const maxObjectBytes = byteSize(reader, m.max_object_size, "max_object_size", MIB, 1);
  if (maxObjectBytes > maxBytes) {
    reader.fail(["cache", "max_object_size"], `must not exceed max_bytes (${maxBytes} bytes)`);
  }
  const ignored: string[] = [];
  reader.list(m.ignored_query_params, ["cache", "ignored_query_params"])?.forEach((name, i) => {
    if (typeof name !== "string" || name === "" || name === "*") {
      reader.fail(["cache", "ignored_query_params", i], `expected a parameter name, got ${describe(name)}`);
    } else ignored.push(name);
  });
  let targeted: string[] = ["CDN-Cache-Control"];
  if (m.targeted_fields !== undefined && m.targeted_fields !== null) {
    targeted = [];
    reader.list(m.targeted_fields, ["cache", "targeted_fields"])?.forEach((name, i) => {
      if (typeof name !== "string" || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
        reader.fail(["cache", "targeted_fields", i], `expected a header field name, got ${describe(name)}`);
      } else targeted.push(name);
    });
  }
  return {
    targetedFields: targeted,
    maxSize: reader.integer(m.max_size, ["cache", "max_size"], { default: 1000, min: 1 }),
    ttlMs: reader.duration(m.ttl, ["cache", "ttl"], { default: 300_000, min: 0 }),
    maxBytes,
    maxObjectBytes,
    ignoredQueryParams: ignored,
    sortQuery: reader.boolean(m.sort_query, ["cache", "sort_query"], false),
    coalesce: reader.boolean(m.coalesce, ["cache", "coalesce"], true),
    lockTimeoutMs: reader.duration(m.lock_timeout, ["cache", "lock_timeout"], { min: 1 }),
    serveStaleOnErrorMs: reader.duration(m.serve_stale_on_error, ["cache", "serve_stale_on_error"], {
      default: 0,
      min: 0,
    }),
  };
}

/** Whether two cache sections configure the same cache (then its entries survive a reload). */
export function sameCacheConfig(a: CacheConfig | undefined, b: CacheConfig | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.maxSize === b.maxSize && a.ttlMs === b.ttlMs && a.maxBytes === b.maxBytes &&
    a.maxObjectBytes === b.maxObjectBytes && a.sortQuery === b.sortQuery && a.coalesce === b.coalesce &&
    a.lockTimeoutMs === b.lockTimeoutMs && a.serveStaleOnErrorMs === b.serveStaleOnErrorMs &&
    a.targetedFields.join("\n").toLowerCase() === b.targetedFields.join("\n").toLowerCase() &&
    a.ignoredQueryParams.length === b.ignoredQueryParams.length &&
    a.ignoredQueryParams.every((name, i) => name === b.ignoredQueryParams[i]);
}
