import { type ConfigReader, describe } from "./config_reader.ts";
import type { ConfigPath } from "./yaml_source.ts";

/** `health_check:` of a pool; absent means no active checks. */
export interface HealthCheckConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly path: string;
}

export const HEALTH_CHECK_KEYS = ["interval", "timeout", "path"];

export function readHealthCheck(
  value: unknown,
  reader: ConfigReader,
  path: ConfigPath,
): HealthCheckConfig | undefined {
  const m = reader.mapping(value, path, HEALTH_CHECK_KEYS);
  if (!m) return undefined;
  const intervalMs = reader.duration(m.interval, [...path, "interval"], { default: 10_000, min: 1 });
  const timeoutMs = reader.duration(m.timeout, [...path, "timeout"], { default: 5_000, min: 1 });
  const probePath = reader.string(m.path, [...path, "path"], { default: "/health" });
  if (!probePath.startsWith("/")) {
    reader.fail([...path, "path"], `must start with "/": ${describe(probePath)}`);
  }
  return { intervalMs, timeoutMs, path: probePath };
}
