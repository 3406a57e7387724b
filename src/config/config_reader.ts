import { parseDuration } from "./duration.ts";
import { type ConfigPath, formatPath, type YamlSource } from "./yaml_source.ts";

export interface ConfigIssue {
  readonly path: ConfigPath;
  readonly message: string;
  readonly where: "key" | "value";
}

/** Thrown by `loadConfig` with every problem found, each formatted `file:line:col key.path: message`. */
export class ConfigError extends Error {
  constructor(readonly file: string, readonly lines: readonly string[]) {
    super(lines.join("\n"));
    this.name = "ConfigError";
  }
}

type Mapping = Readonly<Record<string, unknown>>;

/**
 * Reads typed values out of the parsed YAML, recording an issue (and returning the default) for each bad one,
 * so one validation pass reports every problem. Each reader takes the value and its path.
 */
export class ConfigReader {
  readonly issues: ConfigIssue[] = [];

  fail(path: ConfigPath, message: string, where: "key" | "value" = "value"): void {
    this.issues.push({ path, message, where });
  }

  /** A mapping with only the allowed keys (unknown keys are typos until proven otherwise). */
  mapping(value: unknown, path: ConfigPath, allowed: readonly string[]): Mapping | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) {
      this.fail(path, `expected a mapping, got ${describe(value)}`);
      return undefined;
    }
    const mapping = value as Mapping;
    for (const key of Object.keys(mapping)) {
      if (!allowed.includes(key)) {
        const hint = closest(key, allowed);
        this.fail(
          [...path, key],
          `unknown key${hint ? ` (did you mean "${hint}"?)` : `; allowed: ${allowed.join(", ")}`}`,
          "key",
        );
      }
    }
    return mapping;
  }

  list(value: unknown, path: ConfigPath): readonly unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) {
      this.fail(path, `expected a list, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  string<T extends string = string>(
    value: unknown,
    path: ConfigPath,
    options: { default: T; oneOf?: readonly T[] },
  ): T;
  string<T extends string = string>(
    value: unknown,
    path: ConfigPath,
    options?: { oneOf?: readonly T[] },
  ): T | undefined;
  string<T extends string>(
    value: unknown,
    path: ConfigPath,
    options: { default?: T; oneOf?: readonly T[] } = {},
  ) {
    if (value === undefined || value === null) return options.default;
    if (typeof value !== "string") {
      this.fail(path, `expected a string, got ${describe(value)}`);
      return options.default;
    }
    if (options.oneOf && !options.oneOf.includes(value as T)) {
      this.fail(path, `must be one of ${options.oneOf.join(", ")}; got "${value}"`);
      return options.default;
    }
    return value as T;
  }

  integer(value: unknown, path: ConfigPath, options: { default: number; min?: number; max?: number }): number;
  integer(value: unknown, path: ConfigPath, options: { min?: number; max?: number }): number | undefined;
  integer(value: unknown, path: ConfigPath, options: { default?: number; min?: number; max?: number }) {
    return this.#number(value, path, options, true);
  }

  number(value: unknown, path: ConfigPath, options: { default: number; min?: number; max?: number }): number;
  number(value: unknown, path: ConfigPath, options: { min?: number; max?: number }): number | undefined;
  number(value: unknown, path: ConfigPath, options: { default?: number; min?: number; max?: number }) {
    return this.#number(value, path, options, false);
  }

  boolean(value: unknown, path: ConfigPath, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") {
      this.fail(path, `expected true or false, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  /** A duration with a unit (`250ms`, `30s`, `5m`, `1h`), returned in milliseconds. */
  duration(
    value: unknown,
    path: ConfigPath,
    options: { default: number; min?: number; max?: number },
  ): number;
  duration(value: unknown, path: ConfigPath, options?: { min?: number; max?: number }): number | undefined;
  duration(value: unknown, path: ConfigPath, options: { default?: number; min?: number; max?: number } = {}) {
    if (value === undefined || value === null) return options.default;
    const ms = typeof value === "string" ? parseDuration(value) : undefined;
    if (
      ms === undefined && typeof value === "string" && parseDuration(value.replace(/^\s*-/, "")) !== undefined
    ) {
      this.fail(path, `must not be negative, got ${describe(value)}`);
      return options.default;
    }
    if (ms === undefined) {
      const hint = typeof value === "number" ? ` (add a unit: "${value}s" or "${value}ms")` : "";
      this.fail(path, `expected a duration like 250ms, 30s or 5m, got ${describe(value)}${hint}`);
      return options.default;
    }
    if (options.min !== undefined && ms < options.min) {
      this.fail(path, `must be at least ${options.min}ms, got ${value}`);
      return options.default;
    }
    if (options.max !== undefined && ms > options.max) {
      this.fail(path, `must be at most ${options.max}ms, got ${value}`);
      return options.default;
    }
    return ms;
  }

  /** A percentage written `10%` (or a plain number 0–100), returned as a fraction 0–1. */
  percent(value: unknown, path: ConfigPath, fallback: number): number {
    if (value === undefined || value === null) return fallback;
    const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
    const match = /^(\d+(?:\.\d+)?)%?$/.exec(text);
    const n = match ? Number(match[1]) : NaN;
    if (!(n >= 0 && n <= 100)) {
      this.fail(path, `expected a percentage from 0% to 100%, got ${describe(value)}`);
      return fallback;
    }
    return n / 100;
  }

  #number(
    value: unknown,
    path: ConfigPath,
    options: { default?: number; min?: number; max?: number },
    integer: boolean,
  ): number | undefined {
    if (value === undefined || value === null) return options.default;
    if (typeof value !== "number" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      this.fail(path, `expected ${integer ? "an integer" : "a number"}, got ${describe(value)}`);
      return options.default;
    }
    if (options.min !== undefined && value < options.min) {
      this.fail(path, `must be at least ${options.min}, got ${value}`);
      return options.default;
    }
    if (options.max !== undefined && value > options.max) {
      this.fail(path, `must be at most ${options.max}, got ${value}`);
      return options.default;
    }
    return value;
  }

  /** Formats every issue as `file:line:col path: message`, in document order. */
  format(file: string, source: YamlSource): string[] {
    return this.issues
      .map((issue) => {
        const pos = source.positionOf(issue.path, issue.where);
        return {
          pos,
          line: `${file}:${pos ? `${pos.line}:${pos.column}` : "1:1"} ${
            formatPath(issue.path) || "(root)"
          }: ${issue.message}`,
        };
      })
      .sort((a, b) => (a.pos?.line ?? 0) - (b.pos?.line ?? 0) || (a.pos?.column ?? 0) - (b.pos?.column ?? 0))
      .map((entry) => entry.line);
  }
}

/** Why a file could not be read, in words for a config error (missing, no permission, or the OS's reason). */
export function readFailureReason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return "read permission denied (run with --allow-read)";
  }
  return error instanceof Error ? error.message : String(error);
}

/** Short, quoted description of a bad value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "a mapping";
  return String(value);
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
