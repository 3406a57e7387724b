import type { BalancerAlgorithm } from "../balancer/balancer.ts";

/** Validated configuration. Every duration is in milliseconds, every size in bytes. Readonly throughout. */
export interface Config {
  /** Where it came from (`config.yaml`, `<embedded>`), for messages. */
  readonly source: string;
  readonly server: ServerConfig;
  readonly admin: AdminConfig;
  /** Named pools; the top-level `backends` list becomes the pool named `default`. */
  readonly pools: ReadonlyMap<string, PoolConfig>;
  /** Routes in config order; requests that match none go to `default` when that pool exists. */
  readonly routes: readonly RouteConfig[];
  readonly rateLimit: RateLimitConfig | undefined;
  readonly cache: CacheConfig | undefined;
}

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Overall deadline for one upstream exchange, headers and body; 0 disables. */
  readonly timeoutMs: number;
  /** Deadline for the upstream's response headers (includes connecting). */
  readonly firstByteTimeoutMs: number;
  /** CIDRs whose X-Forwarded-*, Forwarded and X-Request-Id headers are believed. */
  readonly trustedProxies: readonly string[];
  /** Pseudonym in `Via: 1.1 <name>`. */
  readonly name: string;
  /** Compress responses for clients that accept gzip (see README, "Compression"). */
  readonly compression: boolean;
  /** Largest upstream response header block accepted, in bytes; larger → 502. */
  readonly maxResponseHeaderBytes: number;
}

export interface AdminConfig {
  readonly host: string;
  readonly port: number;
}

export interface BackendConfig {
  readonly url: string;
  readonly weight: number;
  readonly backup: boolean;
}

export interface LoadBalancerConfig {
  readonly algorithm: BalancerAlgorithm;
}

export interface HealthCheckConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly path: string;
}

export interface PoolConfig {
  readonly name: string;
  readonly backends: readonly BackendConfig[];
  readonly loadBalancer: LoadBalancerConfig;
  readonly healthCheck: HealthCheckConfig | undefined;
}

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
}

export interface RateLimitConfig {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

export interface CacheConfig {
  readonly maxSize: number;
  readonly ttlMs: number;
}
