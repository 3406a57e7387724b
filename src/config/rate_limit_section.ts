import type { ForwardedHeaderKind } from "../net/client_address.ts";
import { parseRateLimitKeySpec, type RateLimitKeySpec } from "../ratelimit/rate_limit_key.ts";
import type {
  RateLimitConfig,
  RateLimitHeadersMode,
  RateLimitStoreConfig,
  RouteRateLimitConfig,
} from "../ratelimit/rate_limit_settings.ts";
import type { FailureMode } from "../ratelimit/store_redis.ts";
import { type ConfigReader, describe } from "./config_reader.ts";
import type { ConfigPath } from "./yaml_source.ts";

export type {
  RateLimitConfig,
  RateLimitHeadersMode,
  RateLimitPolicyConfig,
  RateLimitStoreConfig,
  RouteRateLimitConfig,
} from "../ratelimit/rate_limit_settings.ts";

export const RATE_LIMIT_KEYS = [
  "requests_per_second",
  "burst",
  "key",
  "policy",
  "headers",
  "forwarded_header",
  "max_keys",
  "store",
  "failure_mode",
];
export const ROUTE_RATE_LIMIT_KEYS = ["requests_per_second", "burst", "key", "policy"];
const STORE_KEYS = ["redis", "timeout", "key_prefix"];

/** Defaults that the README documents. */
export const RATE_LIMIT_DEFAULTS = {
  policy: "default",
  key: "client_ip",
  headers: "all",
  forwardedHeader: "x-forwarded-for",
  maxKeys: 100_000,
  redisTimeoutMs: 100,
  redisKeyPrefix: "rl:",
  failureMode: "open",
} as const;

export function readRateLimit(value: unknown, reader: ConfigReader): RateLimitConfig | undefined {
  const path = ["rate_limit"];
  const m = reader.mapping(value, path, RATE_LIMIT_KEYS);
  if (!m) return undefined;
  const { requestsPerSecond, burst } = readRateAndBurst(m, reader, path);
  return {
    policy: readPolicyName(m.policy, reader, [...path, "policy"]) ?? RATE_LIMIT_DEFAULTS.policy,
    requestsPerSecond,
    burst,
    key: readKey(m.key, reader, [...path, "key"]) ?? { kind: "client_ip" },
    headers: reader.string<RateLimitHeadersMode>(m.headers, [...path, "headers"], {
      default: RATE_LIMIT_DEFAULTS.headers,
      oneOf: ["all", "limited", "none"],
    }),
    forwardedHeader: reader.string<ForwardedHeaderKind>(m.forwarded_header, [...path, "forwarded_header"], {
      default: RATE_LIMIT_DEFAULTS.forwardedHeader,
      oneOf: ["x-forwarded-for", "forwarded"],
    }),
    maxKeys: reader.integer(m.max_keys, [...path, "max_keys"], {
      default: RATE_LIMIT_DEFAULTS.maxKeys,
      min: 1,
      max: 10_000_000,
    }),
    store: readStore(m.store, reader, [...path, "store"]),
    failureMode: reader.string<FailureMode>(m.failure_mode, [...path, "failure_mode"], {
      default: RATE_LIMIT_DEFAULTS.failureMode,
      oneOf: ["open", "closed"],
    }),
  };
}

/** Reads `routes[i].rate_limit`: `off`, a mapping of limits, or absent (the top-level section applies). */
export function readRouteRateLimit(
  value: unknown,
  reader: ConfigReader,
  path: ConfigPath,
): RouteRateLimitConfig | "off" | undefined {
  if (value === undefined || value === null) return undefined;
  // YAML 1.1 readers turn a bare `off` into false; accept both spellings.
  if (value === "off" || value === false) return "off";
  if (typeof value !== "object" || Array.isArray(value)) {
    reader.fail(path, `expected off or a mapping with requests_per_second, got ${describe(value)}`);
    return undefined;
  }
  const m = reader.mapping(value, path, ROUTE_RATE_LIMIT_KEYS);
  if (!m) return undefined;
  return {
    ...readRateAndBurst(m, reader, path),
    key: readKey(m.key, reader, [...path, "key"]),
    policy: readPolicyName(m.policy, reader, [...path, "policy"]),
  };
}

function readRateAndBurst(
  m: Readonly<Record<string, unknown>>,
  reader: ConfigReader,
  path: ConfigPath,
): { requestsPerSecond: number; burst: number } {
  const rps = reader.number(m.requests_per_second, [...path, "requests_per_second"], {
    min: Number.MIN_VALUE,
  });
  if (rps === undefined && m.requests_per_second === undefined) {
    reader.fail([...path, "requests_per_second"], "is required");
  }
  const rate = rps ?? 1;
  return {
    requestsPerSecond: rate,
    burst: reader.integer(m.burst, [...path, "burst"], { default: Math.max(1, Math.ceil(rate)), min: 1 }),
  };
}

function readKey(value: unknown, reader: ConfigReader, path: ConfigPath): RateLimitKeySpec | undefined {
  const text = reader.string(value, path);
  if (text === undefined) return undefined;
  try {
    return parseRateLimitKeySpec(text);
  } catch {
    reader.fail(path, `expected client_ip, global or header:NAME, got ${describe(text)}`);
    return undefined;
  }
}

function readPolicyName(value: unknown, reader: ConfigReader, path: ConfigPath): string | undefined {
  const name = reader.string(value, path);
  if (name !== undefined && !/^[\x20-\x7e]{1,64}$/.test(name)) {
    reader.fail(path, `must be 1-64 printable ASCII characters, got ${describe(name)}`);
    return undefined;
  }
  return name;
}

function readStore(value: unknown, reader: ConfigReader, path: ConfigPath): RateLimitStoreConfig {
  if (value === undefined || value === null || value === "memory") return { kind: "memory" };
  if (typeof value === "string") {
    reader.fail(path, `expected memory or { redis: "redis://host:port" }, got ${describe(value)}`);
    return { kind: "memory" };
  }
  const m = reader.mapping(value, path, STORE_KEYS);
  if (!m) return { kind: "memory" };
  const url = reader.string(m.redis, [...path, "redis"]);
  if (url === undefined) {
    if (m.redis === undefined) reader.fail([...path, "redis"], "is required (a redis:// or rediss:// URL)");
    return { kind: "memory" };
  }
  if (!/^rediss?:\/\/[^/\s]+/.test(url)) {
    reader.fail([...path, "redis"], `not a redis:// or rediss:// URL: ${describe(url)}`);
  }
  return {
    kind: "redis",
    url,
    timeoutMs: reader.duration(m.timeout, [...path, "timeout"], {
      default: RATE_LIMIT_DEFAULTS.redisTimeoutMs,
      min: 1,
      max: 10_000,
    }),
    keyPrefix: reader.string(m.key_prefix, [...path, "key_prefix"], {
      default: RATE_LIMIT_DEFAULTS.redisKeyPrefix,
    }),
  };
}
