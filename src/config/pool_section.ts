import { type CircuitBreakerConfig, readCircuitBreaker } from "./circuit_breaker_section.ts";
import { type ConfigReader, describe } from "./config_reader.ts";
import { type HealthCheckConfig, readHealthCheck } from "./health_check_section.ts";
import { type LoadBalancerConfig, readLoadBalancer } from "./load_balancer_section.ts";
import { readRetries, type RetriesConfig } from "./retries_section.ts";
import { readPemFile } from "./pem_file.ts";
import type { ConfigPath } from "./yaml_source.ts";
import { TRANSPORT_NAMES, type TransportName } from "../transport/transport.ts";

export interface BackendConfig {
  readonly url: string;
  readonly weight: number;
  readonly backup: boolean;
}

/** One upstream pool: the top-level `backends` (pool `default`) or an entry of `upstreams:`. */
export interface PoolConfig {
  readonly name: string;
  readonly backends: readonly BackendConfig[];
  readonly loadBalancer: LoadBalancerConfig;
  readonly healthCheck: HealthCheckConfig | undefined;
  /** Passive outlier detection; undefined when `circuit_breaker: off`. */
  readonly circuitBreaker: CircuitBreakerConfig | undefined;
  readonly retries: RetriesConfig;
  /** Trust roots (PEM text) for this pool's https/wss backends, instead of the system store. */
  readonly tls?: { readonly ca: string };
  /** Upstream client: the HTTP/1.1 client (default) or Deno's fetch. */
  readonly transport: TransportName;
  /** Connection pool of the http1 transport (per upstream of the pool). */
  readonly connectionPool: ConnectionPoolConfig;
}

/** `connection_pool:` of a pool; durations in ms. */
export interface ConnectionPoolConfig {
  /** Idle keep-alive connections kept per upstream. Default 64. */
  readonly maxIdleConnections: number;
  /** Open connections per upstream; 0 = unlimited (default). */
  readonly maxConnections: number;
  /** Wait for a free connection at maxConnections before a 503. Default 1 s. */
  readonly queueTimeoutMs: number;
  /** An idle connection is closed after this long. Default 4 s. */
  readonly idleTimeoutMs: number;
  /** Connecting (TCP and TLS) must finish within this, else 504. Default 5 s. */
  readonly connectTimeoutMs: number;
}

/** Keys of a pool; at the top level they apply to the `default` pool. */
export const POOL_KEYS = [
  "backends",
  "load_balancer",
  "health_check",
  "circuit_breaker",
  "retries",
  "tls",
  "transport",
  "connection_pool",
];

export function readPool(
  name: string,
  section: Readonly<Record<string, unknown>>,
  reader: ConfigReader,
  path: ConfigPath,
): PoolConfig {
  const tls = reader.mapping(section.tls, [...path, "tls"], ["ca"]);
  const ca = tls ? readPemFile(tls.ca, reader, [...path, "tls", "ca"], "CERTIFICATE") : undefined;
  return {
    name,
    backends: readBackends(name, section.backends, reader, [...path, "backends"]),
    loadBalancer: readLoadBalancer(section.load_balancer, reader, [...path, "load_balancer"]),
    healthCheck: readHealthCheck(section.health_check, reader, [...path, "health_check"]),
    circuitBreaker: readCircuitBreaker(section.circuit_breaker, reader, [...path, "circuit_breaker"]),
    retries: readRetries(section.retries, reader, [...path, "retries"]),
    ...(ca === undefined ? {} : { tls: { ca } }),
    transport: reader.string<TransportName>(section.transport, [...path, "transport"], {
      default: "http1",
      oneOf: TRANSPORT_NAMES,
    }),
    connectionPool: readConnectionPool(section.connection_pool, reader, [...path, "connection_pool"]),
  };
}

function readConnectionPool(value: unknown, reader: ConfigReader, path: ConfigPath): ConnectionPoolConfig {
  const m = reader.mapping(value, path, [
    "max_idle_connections",
    "max_connections",
    "queue_timeout",
    "idle_timeout",
    "connect_timeout",
  ]) ?? {};
  return {
    maxIdleConnections: reader.integer(m.max_idle_connections, [...path, "max_idle_connections"], {
      default: 64,
      min: 0,
      max: 100_000,
    }),
    maxConnections: reader.integer(m.max_connections, [...path, "max_connections"], {
      default: 0,
      min: 0,
      max: 100_000,
    }),
    queueTimeoutMs: reader.duration(m.queue_timeout, [...path, "queue_timeout"], { default: 1_000, min: 0 }),
    idleTimeoutMs: reader.duration(m.idle_timeout, [...path, "idle_timeout"], { default: 4_000, min: 1 }),
    connectTimeoutMs: reader.duration(m.connect_timeout, [...path, "connect_timeout"], {
      default: 5_000,
      min: 1,
    }),
  };
}

function readBackends(name: string, value: unknown, reader: ConfigReader, path: ConfigPath): BackendConfig[] {
  const list = reader.list(value, path);
  if (!list || list.length === 0) reader.fail(path, "needs at least one backend");
  const backends: BackendConfig[] = [];
  const seen = new Set<string>();
  (list ?? []).forEach((item, i) => {
    const p = [...path, i];
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
      weight: reader.integer(m.weight, [...p, "weight"], { default: 1, min: 1, max: 1000 }),
      backup: reader.boolean(m.backup, [...p, "backup"], false),
    });
  });
  return backends;
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
