import type { ConfigReader } from "./config_reader.ts";

/** `cache:` — the HTTP response cache; absent means off. */
export interface CacheConfig {
  readonly maxSize: number;
  readonly ttlMs: number;
}

export const CACHE_KEYS = ["max_size", "ttl"];

export function readCache(value: unknown, reader: ConfigReader): CacheConfig | undefined {
  const m = reader.mapping(value, ["cache"], CACHE_KEYS);
  if (!m) return undefined;
  return {
    maxSize: reader.integer(m.max_size, ["cache", "max_size"], { default: 1000, min: 1 }),
    ttlMs: reader.duration(m.ttl, ["cache", "ttl"], { default: 300_000, min: 0 }),
  };
}
