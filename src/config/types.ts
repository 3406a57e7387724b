import type { AccessLogConfig } from "./access_log_section.ts";
import type { AdminConfig } from "./admin_section.ts";
import type { CacheConfig } from "./cache_section.ts";
import type { LimitsConfig } from "./limits_section.ts";
import type { PoolConfig } from "./pool_section.ts";
import type { RateLimitConfig } from "./rate_limit_section.ts";
import type { RouteConfig } from "./routes_section.ts";
import type { ServerConfig } from "./server_section.ts";
import type { WebSocketConfig } from "./websocket_section.ts";

export type { AccessLogConfig, AccessLogFormat } from "./access_log_section.ts";
export type { AdminConfig } from "./admin_section.ts";
export type { CacheConfig } from "./cache_section.ts";
export type { HealthCheckConfig } from "./health_check_section.ts";
export type { LimitsConfig, UnderscoreHeaders } from "./limits_section.ts";
export type { LoadBalancerConfig } from "./load_balancer_section.ts";
export type { BackendConfig, PoolConfig } from "./pool_section.ts";
export type { RateLimitConfig, RouteRateLimitConfig } from "./rate_limit_section.ts";
export type { RouteConfig, RouteMatchConfig } from "./routes_section.ts";
export type { ServerConfig } from "./server_section.ts";
export type { WebSocketConfig } from "./websocket_section.ts";

/**
 * Validated configuration, one section per file (`*_section.ts`: type + reader). Every duration is in
 * milliseconds, every size in bytes. Readonly throughout; replaced whole on reload.
 */
export interface Config {
  /** Where it came from (`config.yaml`, `<embedded config.yaml>`), for messages. */
  readonly source: string;
  readonly server: ServerConfig;
  readonly admin: AdminConfig;
  /** Named pools; the top-level `backends` list becomes the pool named `default`. */
  readonly pools: ReadonlyMap<string, PoolConfig>;
  /** Routes in config order; requests that match none go to `default` when that pool exists. */
  readonly routes: readonly RouteConfig[];
  readonly rateLimit: RateLimitConfig | undefined;
  readonly cache: CacheConfig | undefined;
  /** Format `"off"` when the section is absent. */
  readonly accessLog: AccessLogConfig;
  /** Request limits (always on; the section changes the defaults). */
  readonly limits: LimitsConfig;
  readonly websocket: WebSocketConfig;
}
