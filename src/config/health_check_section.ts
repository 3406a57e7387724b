import { parseStatusRanges, type StatusRanges } from "../health/status_ranges.ts";
import { type ConfigReader, describe } from "./config_reader.ts";
import type { ConfigPath } from "./yaml_source.ts";

/** `health_check:` of a pool; absent means no active checks (upstreams count as healthy). */
export interface HealthCheckConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly path: string;
  /** As written, e.g. "200-399"; parsed form in `expectedRanges`. */
  readonly expectedStatus: string;
  readonly expectedRanges: StatusRanges;
  /** Consecutive passing probes that mark an unhealthy upstream healthy (rise). */
  readonly healthyThreshold: number;
  /** Consecutive failing probes that mark a healthy upstream unhealthy (fall). */
  readonly unhealthyThreshold: number;
  /** Relative spread of each interval, 0–1. */
  readonly jitter: number;
}

export const HEALTH_CHECK_KEYS = [
  "interval",
  "timeout",
  "path",
  "expected_status",
  "healthy_threshold",
  "unhealthy_threshold",
  "jitter",
];

export function readHealthCheck(
  value: unknown,
  reader: ConfigReader,
  path: ConfigPath,
): HealthCheckConfig | undefined {
  if (value === false || value === "off") return undefined;
  const m = reader.mapping(value, path, HEALTH_CHECK_KEYS);
  if (!m) return undefined;
  const intervalMs = reader.duration(m.interval, [...path, "interval"], { default: 10_000, min: 100 });
  // A probe must settle before the next one is due (HealthChecker requires timeout < interval).
  const timeoutMs = reader.duration(m.timeout, [...path, "timeout"], {
    default: Math.min(5_000, Math.floor(intervalMs / 2)),
    min: 1,
  });
  if (timeoutMs >= intervalMs) {
    reader.fail([...path, "timeout"], `must be less than interval (${m.interval ?? "10s"})`);
  }
  const probePath = reader.string(m.path, [...path, "path"], { default: "/health" });
  if (!probePath.startsWith("/")) {
    reader.fail([...path, "path"], `must start with "/": ${describe(probePath)}`);
  }
  const expectedStatus = reader.string(
    typeof m.expected_status === "number" ? String(m.expected_status) : m.expected_status,
    [...path, "expected_status"],
    { default: "200-399" },
  );
  let expectedRanges: StatusRanges = [[200, 399]];
  try {
    expectedRanges = parseStatusRanges(expectedStatus);
  } catch (error) {
    reader.fail([...path, "expected_status"], error instanceof Error ? error.message : String(error));
  }
  return {
    intervalMs,
    timeoutMs: timeoutMs < intervalMs ? timeoutMs : Math.floor(intervalMs / 2),
    path: probePath,
    expectedStatus,
    expectedRanges,
    healthyThreshold: reader.integer(m.healthy_threshold, [...path, "healthy_threshold"], {
      default: 2,
      min: 1,
    }),
    unhealthyThreshold: reader.integer(m.unhealthy_threshold, [...path, "unhealthy_threshold"], {
      default: 3,
      min: 1,
    }),
    jitter: jitterOf(m.jitter, reader, [...path, "jitter"]),
  };
}

/** A jitter percentage below 100 % (at 100 % an interval or open period could shrink to nothing). */
export function jitterOf(value: unknown, reader: ConfigReader, path: ConfigPath): number {
  const jitter = reader.percent(value, path, 0.1);
  if (jitter < 1) return jitter;
  reader.fail(path, `must be below 100%, got ${describe(value)}`);
  return 0.1;
}
