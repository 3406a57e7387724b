import { readAccessLog } from "./access_log_section.ts";
import { readAdmin } from "./admin_section.ts";
import { readCache } from "./cache_section.ts";
import type { ConfigReader } from "./config_reader.ts";
import { readLimits } from "./limits_section.ts";
import { POOL_KEYS, type PoolConfig, readPool } from "./pool_section.ts";
import { readRateLimit } from "./rate_limit_section.ts";
import { readRoutes } from "./routes_section.ts";
import { readServer } from "./server_section.ts";
import type { Config } from "./types.ts";
import { readWebSocket } from "./websocket_section.ts";

export const DEFAULT_POOL = "default";

/** Top-level sections. Pool keys at the top level configure the `default` pool. */
const TOP_KEYS = [
  "server",
  "admin",
  ...POOL_KEYS,
  "upstreams",
  "routes",
  "rate_limit",
  "cache",
  "access_log",
  "limits",
  "websocket",
];

/** Turns the parsed YAML into a typed `Config`, recording every problem in `reader`. */
export function validateConfig(value: unknown, reader: ConfigReader, source: string): Config {
  const root = reader.mapping(value ?? {}, [], TOP_KEYS) ?? {};
  const pools = readPools(root, reader);
  return {
    source,
    server: readServer(root.server, reader),
    admin: readAdmin(root.admin, reader),
    pools,
    routes: readRoutes(root.routes, reader, pools),
    rateLimit: readRateLimit(root.rate_limit, reader),
    cache: readCache(root.cache, reader),
    accessLog: readAccessLog(root.access_log, reader),
    limits: readLimits(root.limits, reader),
    websocket: readWebSocket(root.websocket, reader),
  };
}

function readPools(root: Readonly<Record<string, unknown>>, reader: ConfigReader): Map<string, PoolConfig> {
  const pools = new Map<string, PoolConfig>();
  if (root.backends !== undefined && root.backends !== null) {
    pools.set(DEFAULT_POOL, readPool(DEFAULT_POOL, root, reader, []));
  } else {
    for (const key of POOL_KEYS) {
      if (key !== "backends" && root[key] !== undefined) {
        reader.fail([key], "has no effect without top-level backends");
      }
    }
  }
  const upstreams = reader.mapping(root.upstreams, ["upstreams"], Object.keys(root.upstreams ?? {}));
  for (const [name, pool] of Object.entries(upstreams ?? {})) {
    const path = ["upstreams", name];
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
      reader.fail(path, "pool names may use letters, digits, _ . - only", "key");
    }
    if (name === DEFAULT_POOL && pools.has(DEFAULT_POOL)) {
      reader.fail(path, `"${DEFAULT_POOL}" is taken by the top-level backends`, "key");
    }
    const section = reader.mapping(pool, path, POOL_KEYS);
    if (!section) {
      reader.fail(path, "expected a mapping with backends");
      continue;
    }
    pools.set(name, readPool(name, section, reader, path));
  }
  if (pools.size === 0) reader.fail([], "no backends: define top-level backends or upstreams with routes");
  return pools;
}
