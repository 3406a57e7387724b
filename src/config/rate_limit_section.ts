import type { ConfigReader } from "./config_reader.ts";

/** `rate_limit:` — token buckets per client; absent means off. */
export interface RateLimitConfig {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

export const RATE_LIMIT_KEYS = ["requests_per_second", "burst"];

export function readRateLimit(value: unknown, reader: ConfigReader): RateLimitConfig | undefined {
  const m = reader.mapping(value, ["rate_limit"], RATE_LIMIT_KEYS);
  if (!m) return undefined;
  const rps = reader.number(m.requests_per_second, ["rate_limit", "requests_per_second"], {
    min: Number.MIN_VALUE,
  });
  if (rps === undefined && m.requests_per_second === undefined) {
    reader.fail(["rate_limit", "requests_per_second"], "is required");
  }
  const rate = rps ?? 1;
  return {
    requestsPerSecond: rate,
    burst: reader.integer(m.burst, ["rate_limit", "burst"], {
      default: Math.max(1, Math.ceil(rate)),
      min: 1,
    }),
  };
}
