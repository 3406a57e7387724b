import type { ConfigReader } from "./config_reader.ts";
import { jitterOf } from "./health_check_section.ts";
import type { ConfigPath } from "./yaml_source.ts";

/** `circuit_breaker:` of a pool — passive outlier detection on live traffic. On by default; `off` disables. */
export interface CircuitBreakerConfig {
  /** Open after this many failures in a row; 0 disables the rule. */
  readonly consecutiveFailures: number;
  /** Open when this share of requests in the window failed; 0 disables the rule. */
  readonly failureRatio: number;
  readonly windowMs: number;
  readonly minimumRequests: number;
  /** First open period; doubles with each consecutive opening. */
  readonly baseOpenMs: number;
  readonly maxOpenMs: number;
  readonly jitter: number;
  readonly halfOpenProbes: number;
  /** Closed this long, backoff starts again from the base period. */
  readonly healthyResetMs: number;
  readonly maxEjectionPercent: number;
  readonly panicThresholdPercent: number;
}

export const CIRCUIT_BREAKER_KEYS = [
  "consecutive_failures",
  "failure_ratio",
  "window",
  "minimum_requests",
  "base_open_time",
  "max_open_time",
  "jitter",
  "half_open_probes",
  "healthy_reset",
  "max_ejection_percent",
  "panic_threshold",
];

export function readCircuitBreaker(
  value: unknown,
  reader: ConfigReader,
  path: ConfigPath,
): CircuitBreakerConfig | undefined {
  if (value === false || value === "off") return undefined;
  const m = reader.mapping(value ?? {}, path, CIRCUIT_BREAKER_KEYS) ?? {};
  const baseOpenMs = reader.duration(m.base_open_time, [...path, "base_open_time"], {
    default: 5_000,
    min: 1,
  });
  const maxOpenMs = reader.duration(m.max_open_time, [...path, "max_open_time"], {
    default: 300_000,
    min: 1,
  });
  if (maxOpenMs < baseOpenMs) reader.fail([...path, "max_open_time"], "must be at least base_open_time");
  return {
    consecutiveFailures: reader.integer(m.consecutive_failures, [...path, "consecutive_failures"], {
      default: 5,
      min: 0,
    }),
    failureRatio: reader.percent(m.failure_ratio, [...path, "failure_ratio"], 0.5),
    windowMs: reader.duration(m.window, [...path, "window"], { default: 10_000, min: 100 }),
    minimumRequests: reader.integer(m.minimum_requests, [...path, "minimum_requests"], {
      default: 20,
      min: 1,
    }),
    baseOpenMs,
    maxOpenMs: Math.max(maxOpenMs, baseOpenMs),
    jitter: jitterOf(m.jitter, reader, [...path, "jitter"]),
    halfOpenProbes: reader.integer(m.half_open_probes, [...path, "half_open_probes"], { default: 1, min: 1 }),
    healthyResetMs: reader.duration(m.healthy_reset, [...path, "healthy_reset"], { default: 60_000, min: 1 }),
    maxEjectionPercent: reader.percent(m.max_ejection_percent, [...path, "max_ejection_percent"], 0.5) * 100,
    panicThresholdPercent: reader.percent(m.panic_threshold, [...path, "panic_threshold"], 0.5) * 100,
  };
}
