import { isDeepStrictEqual } from "node:util";
import type { Config } from "../config/types.ts";
import { DEFAULT_POOL } from "../config/validate_config.ts";

/**
 * Settings read only when a listener starts: a reload cannot apply them (the listener keeps its socket and
 * certificate), so a change is reported as needing a restart instead of being silently ignored. Paths are
 * looked up structurally so a section another feature adds (TLS) is covered as soon as it exists.
 */
export const RESTART_PATHS: readonly (readonly string[])[] = [
  ["server", "host"],
  ["server", "port"],
  ["server", "tls"],
  ["server", "workers"],
  ["tls"],
  ["admin", "host"],
  ["admin", "port"],
  ["admin", "tls"],
];

export interface ConfigDiff {
  /** Sections that differ, in config-file spelling: `server`, `routes`, `upstreams.api`, `backends`, … */
  readonly changed: readonly string[];
  /** Of those, the settings that take effect only after a restart: `server.port`, `admin.host`, `tls`, … */
  readonly restartRequired: readonly string[];
}

/** What changed between two validated configs (the old one keeps serving the restart-only settings). */
export function diffConfig(before: Config, after: Config): ConfigDiff {
  const changed: string[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  keys.delete("source");
  for (const key of keys) {
    const a = field(before, [key]);
    const b = field(after, [key]);
    if (key === "pools") {
      const poolsA = a as Config["pools"];
      const poolsB = b as Config["pools"];
      for (const name of new Set([...poolsA.keys(), ...poolsB.keys()])) {
        if (!isDeepStrictEqual(poolsA.get(name), poolsB.get(name))) changed.push(poolLabel(name));
      }
    } else if (!isDeepStrictEqual(a, b)) changed.push(snakeCase(key));
  }
  const restartRequired = RESTART_PATHS
    .filter((path) => !isDeepStrictEqual(field(before, path), field(after, path)))
    .map((path) => path.join("."));
  return { changed, restartRequired };
}

function field(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function poolLabel(name: string): string {
  return name === DEFAULT_POOL ? "backends" : `upstreams.${name}`;
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
