import { type ConfigReader, describe } from "./config_reader.ts";
import { readBodySize } from "./limits_section.ts";
import type { PoolConfig } from "./pool_section.ts";
import { readRouteRateLimit, type RouteRateLimitConfig } from "./rate_limit_section.ts";

export interface RouteMatchConfig {
  /** Exact host (`api.example.com`) or suffix wildcard (`*.example.com`); case-insensitive, port ignored. */
  readonly host: string | undefined;
  /** Exact path. */
  readonly path: string | undefined;
  /** Segment-aware prefix: `/api` matches `/api` and `/api/x`, not `/apix`. */
  readonly pathPrefix: string | undefined;
  /** Upper-case methods; undefined means any. */
  readonly methods: readonly string[] | undefined;
}

export interface RouteConfig {
  /** `routes[i]` unless named. */
  readonly name: string;
  readonly match: RouteMatchConfig;
  readonly upstream: string;
  /** `off`, the route's own limits, or absent (the top-level `rate_limit` applies). */
  readonly rateLimit?: RouteRateLimitConfig | "off";
  /** Overrides `limits.max_body_size` for this route (bytes). */
  readonly maxBodyBytes?: number;
}

export const ROUTE_KEYS = ["name", "match", "upstream", "rate_limit", "max_body_size"];

const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

export function readRoutes(
  value: unknown,
  reader: ConfigReader,
  pools: ReadonlyMap<string, PoolConfig>,
): RouteConfig[] {
  const routes: RouteConfig[] = [];
  const names = new Set<string>();
  reader.list(value, ["routes"])?.forEach((item, i) => {
    const p = ["routes", i];
    const m = reader.mapping(item, p, ROUTE_KEYS);
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
    const name = reader.string(m.name, [...p, "name"], { default: `routes[${i}]` });
    if (names.has(name)) reader.fail([...p, "name"], `duplicate route name "${name}"`);
    names.add(name);
    const rateLimit = readRouteRateLimit(m.rate_limit, reader, [...p, "rate_limit"]);
    const maxBodyBytes = readBodySize(m.max_body_size, reader, [...p, "max_body_size"]);
    routes.push({
      name,
      match: {
        host,
        path: exact,
        pathPrefix: prefix === "/" ? undefined : prefix?.replace(/\/+$/, ""),
        methods,
      },
      upstream: upstream ?? "",
      ...(rateLimit !== undefined && { rateLimit }),
      ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
    });
  });
  return routes;
}
