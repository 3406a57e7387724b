import type { BalancerAlgorithm } from "../balancer/balancer.ts";
import { isValidCidr } from "../net/cidr.ts";
import { type ConfigReader, describe } from "./config_reader.ts";
import type {
  AdminConfig,
  BackendConfig,
  CacheConfig,
  Config,
  HealthCheckConfig,
  PoolConfig,
  RateLimitConfig,
  RouteConfig,
  ServerConfig,
} from "./types.ts";
import type { ConfigPath } from "./yaml_source.ts";

export const DEFAULT_POOL = "default";

const TOP_KEYS = [
  "server",
  "admin",
  "backends",
  "load_balancer",
  "health_check",
  "upstreams",
  "routes",
  "rate_limit",
  "cache",
] as const;

const ALGORITHMS: readonly BalancerAlgorithm[] = ["round_robin"];

const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/** Turns the parsed YAML into a typed `Config`, recording every problem in `reader`. */
export function validateConfig(value: unknown, reader: ConfigReader, source: string): Config {
  const root = reader.mapping(value ?? {}, [], TOP_KEYS) ?? {};
  const server = validateServer(root.server, reader);
  const admin = validateAdmin(root.admin, reader);

  const pools = new Map<string, PoolConfig>();
  if (root.backends !== undefined && root.backends !== null) {
    pools.set(
      DEFAULT_POOL,
      validatePool(
        DEFAULT_POOL,
        {
          backends: root.backends,
          load_balancer: root.load_balancer,
          health_check: root.health_check,
        },
        reader,
        [],
      ),
    );
  } else {
    if (root.load_balancer !== undefined) {
      reader.fail(["load_balancer"], "has no effect without top-level backends");
    }
    if (root.health_check !== undefined) {
      reader.fail(["health_check"], "has no effect without top-level backends");
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
    const section = reader.mapping(pool, path, ["backends", "load_balancer", "health_check"]);
    if (!section) {
      if (pool === null || pool === undefined) reader.fail(path, "expected a mapping with backends");
      continue;
    }
    pools.set(name, validatePool(name, section, reader, path));
  }

  const routes = validateRoutes(root.routes, reader, pools);
  if (pools.size === 0) {
    reader.fail([], "no backends: define top-level backends or upstreams with routes");
  }

  return {
    source,
    server,
    admin,
    pools,
    routes,
    rateLimit: validateRateLimit(root.rate_limit, reader),
    cache: validateCache(root.cache, reader),
  };
}

function validateServer(value: unknown, reader: ConfigReader): ServerConfig {
  const path = ["server"];
  const m = reader.mapping(value, path, [
    "host",
    "port",
    "timeout",
    "first_byte_timeout",
    "trusted_proxies",
    "name",
    "compression",
    "max_response_header_size",
  ]) ?? {};
  const timeoutMs = reader.duration(m.timeout, [...path, "timeout"], { default: 30_000, min: 0 });
  const trusted: string[] = [];
  reader.list(m.trusted_proxies, [...path, "trusted_proxies"])?.forEach((cidr, i) => {
    const p = [...path, "trusted_proxies", i];
    if (typeof cidr !== "string" || !isValidCidr(cidr)) {
      reader.fail(p, `not an IP address or CIDR: ${describe(cidr)}`);
    } else trusted.push(cidr);
  });
  const name = reader.string(m.name, [...path, "name"], { default: "proxy" });
  if (!/^[\x21-\x7e]+$/.test(name)) reader.fail([...path, "name"], "must be a single token without spaces");
  return {
    host: reader.string(m.host, [...path, "host"], { default: "0.0.0.0" }),
    port: reader.integer(m.port, [...path, "port"], { default: 8080, min: 0, max: 65535 }),
    timeoutMs,
    firstByteTimeoutMs: reader.duration(m.first_byte_timeout, [...path, "first_byte_timeout"], {
      default: timeoutMs,
      min: 1,
    }),
    trustedProxies: trusted,
    name,
    compression: reader.boolean(m.compression, [...path, "compression"], true),
    maxResponseHeaderBytes: reader.integer(
      m.max_response_header_size,
      [...path, "max_response_header_size"],
      {
        default: 65_536,
        min: 1024,
      },
    ),
  };
}

function validateAdmin(value: unknown, reader: ConfigReader): AdminConfig {
  const m = reader.mapping(value, ["admin"], ["host", "port"]) ?? {};
  return {
    host: reader.string(m.host, ["admin", "host"], { default: "127.0.0.1" }),
    port: reader.integer(m.port, ["admin", "port"], { default: 9090, min: 0, max: 65535 }),
  };
}

function validatePool(
  name: string,
  section: Readonly<Record<string, unknown>>,
  reader: ConfigReader,
  path: ConfigPath,
): PoolConfig {
  const backendsPath = [...path, "backends"];
  const list = reader.list(section.backends, backendsPath);
  if (!list || list.length === 0) reader.fail(backendsPath, "needs at least one backend");
  const backends: BackendConfig[] = [];
  const seen = new Set<string>();
  (list ?? []).forEach((item, i) => {
    const p = [...backendsPath, i];
    const m = reader.mapping(typeof item === "string" ? { url: item } : item, p, ["url", "weight", "backup"]);
    if (!m) return;
    const url = reader.string(m.url, [...p, "url"]);
    if (url === undefined) {
      reader.fail([...p, "url"], "is required");
      return;
    }
    if (!isHttpUrl(url)) {
      reader.fail([...p, "url"], `not an http(s) URL: ${describe(url)}`);
      return;
    }
    const normalized = new URL(url).href;
    if (seen.has(normalized)) {
      reader.fail([...p, "url"], `duplicate backend ${describe(url)} in pool "${name}"`);
    }
    seen.add(normalized);
    backends.push({
      url,
      weight: reader.integer(m.weight, [...p, "weight"], { default: 1, min: 1, max: 1_000_000 }),
      backup: reader.boolean(m.backup, [...p, "backup"], false),
    });
  });
  const lbPath = [...path, "load_balancer"];
  const lb = reader.mapping(section.load_balancer, lbPath, ["algorithm"]) ?? {};
  return {
    name,
    backends,
    loadBalancer: {
      algorithm: reader.string(lb.algorithm, [...lbPath, "algorithm"], {
        default: "round_robin",
        oneOf: ALGORITHMS,
      }),
    },
    healthCheck: validateHealthCheck(section.health_check, reader, [...path, "health_check"]),
  };
}

function validateHealthCheck(
  value: unknown,
  reader: ConfigReader,
  path: ConfigPath,
): HealthCheckConfig | undefined {
  const m = reader.mapping(value, path, ["interval", "timeout", "path"]);
  if (!m) return undefined;
  const intervalMs = reader.duration(m.interval, [...path, "interval"], { default: 10_000, min: 1 });
  const timeoutMs = reader.duration(m.timeout, [...path, "timeout"], { default: 5_000, min: 1 });
  const probePath = reader.string(m.path, [...path, "path"], { default: "/health" });
  if (!probePath.startsWith("/")) {
    reader.fail([...path, "path"], `must start with "/": ${describe(probePath)}`);
  }
  return { intervalMs, timeoutMs, path: probePath };
}

function validateRoutes(
  value: unknown,
  reader: ConfigReader,
  pools: ReadonlyMap<string, PoolConfig>,
): RouteConfig[] {
  const routes: RouteConfig[] = [];
  reader.list(value, ["routes"])?.forEach((item, i) => {
    const p = ["routes", i];
    const m = reader.mapping(item, p, ["name", "match", "upstream"]);
    if (!m) return;
    const match = reader.mapping(m.match, [...p, "match"], ["host", "path", "path_prefix", "methods"]) ?? {};
    const host = reader.string(match.host, [...p, "match", "host"])?.toLowerCase();
    if (host !== undefined && !/^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(host)) {
      reader.fail([...p, "match", "host"], `not a host name or *.suffix pattern: ${describe(host)}`);
    }
    const exact = reader.string(match.path, [...p, "match", "path"]);
    const prefix = reader.string(match.path_prefix, [...p, "match", "path_prefix"]);
    for (const [key, v] of [["path", exact], ["path_prefix", prefix]] as const) {
      if (v !== undefined && !v.startsWith("/")) {
        reader.fail([...p, "match", key], `must start with "/": ${describe(v)}`);
      }
    }
    if (exact !== undefined && prefix !== undefined) {
      reader.fail([...p, "match"], "use either path or path_prefix, not both");
    }
    let methods: string[] | undefined;
    const methodList = reader.list(match.methods, [...p, "match", "methods"]);
    if (methodList) {
      methods = [];
      methodList.forEach((method, j) => {
        const upper = typeof method === "string" ? method.toUpperCase() : "";
        if (!HTTP_METHODS.includes(upper)) {
          reader.fail([...p, "match", "methods", j], `not a proxied HTTP method: ${describe(method)}`);
        } else methods!.push(upper);
      });
    }
    const upstream = reader.string(m.upstream, [...p, "upstream"]);
    if (upstream === undefined) reader.fail([...p, "upstream"], "is required");
    else if (!pools.has(upstream)) {
      const known = [...pools.keys()].join(", ") || "none defined";
      reader.fail([...p, "upstream"], `no pool named "${upstream}" (known: ${known})`);
    }
    routes.push({
      name: reader.string(m.name, [...p, "name"], { default: `routes[${i}]` }),
      match: {
        host,
        path: exact,
        pathPrefix: prefix === "/" ? undefined : prefix?.replace(/\/+$/, ""),
        methods,
      },
      upstream: upstream ?? "",
    });
  });
  return routes;
}

function validateRateLimit(value: unknown, reader: ConfigReader): RateLimitConfig | undefined {
  const m = reader.mapping(value, ["rate_limit"], ["requests_per_second", "burst"]);
  if (!m) return undefined;
  const requestsPerSecond = reader.number(m.requests_per_second, ["rate_limit", "requests_per_second"], {
    min: Number.MIN_VALUE,
  });
  if (requestsPerSecond === undefined && m.requests_per_second === undefined) {
    reader.fail(["rate_limit", "requests_per_second"], "is required");
  }
  const rps = requestsPerSecond ?? 1;
  return {
    requestsPerSecond: rps,
    burst: reader.integer(m.burst, ["rate_limit", "burst"], { default: Math.max(1, Math.ceil(rps)), min: 1 }),
  };
}

function validateCache(value: unknown, reader: ConfigReader): CacheConfig | undefined {
  const m = reader.mapping(value, ["cache"], ["max_size", "ttl"]);
  if (!m) return undefined;
  return {
    maxSize: reader.integer(m.max_size, ["cache", "max_size"], { default: 1000, min: 1 }),
    ttlMs: reader.duration(m.ttl, ["cache", "ttl"], { default: 300_000, min: 0 }),
  };
}

function isHttpUrl(text: string): boolean {
  if (!/^https?:\/\//i.test(text)) return false;
  try {
    const url = new URL(text);
    return url.hostname !== "" && url.search === "" && url.hash === "" && url.username === "";
  } catch {
    return false;
  }
}
