import type { ConfigReader } from "./config_reader.ts";
import type { ConfigPath } from "./yaml_source.ts";

/** `retries:` of a pool — safe retries on another upstream. `off` (or attempts: 0) disables. */
export interface RetriesConfig {
  /** Extra attempts after the first, each on a different upstream. */
  readonly attempts: number;
  /** Retries may be at most this share of recent requests (retry budget). */
  readonly budgetRatio: number;
  /** Retries always allowed per budget window regardless of the ratio. */
  readonly budgetMin: number;
  /** Largest request body kept in memory so it can be replayed; larger bodies are not retried. */
  readonly maxBufferedBodyBytes: number;
  /** Base of the jittered exponential backoff between attempts. */
  readonly backoffMs: number;
}

export const RETRIES_KEYS = ["attempts", "budget", "budget_min", "max_buffered_body", "backoff"];

export function readRetries(value: unknown, reader: ConfigReader, path: ConfigPath): RetriesConfig {
  if (value === false || value === "off") value = { attempts: 0 };
  const m = reader.mapping(value ?? {}, path, RETRIES_KEYS) ?? {};
  return {
    attempts: reader.integer(m.attempts, [...path, "attempts"], { default: 1, min: 0, max: 10 }),
    budgetRatio: reader.percent(m.budget, [...path, "budget"], 0.2),
    budgetMin: reader.integer(m.budget_min, [...path, "budget_min"], { default: 10, min: 0 }),
    maxBufferedBodyBytes: reader.integer(m.max_buffered_body, [...path, "max_buffered_body"], {
      default: 65_536,
      min: 0,
      max: 16 * 1024 * 1024,
    }),
    backoffMs: reader.duration(m.backoff, [...path, "backoff"], { default: 25, min: 0, max: 10_000 }),
  };
}
