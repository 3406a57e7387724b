import type { ConfigReader } from "./config_reader.ts";
import type { ConfigPath } from "./yaml_source.ts";

/** What to do with request header names that contain `_` (CGI maps `-` and `_` alike: smuggling risk). */
export type UnderscoreHeaders = "allow" | "drop" | "reject";

/**
 * `limits:` — bounds on what a client may send. Always on; the section only changes the defaults, which follow
 * Envoy/nginx practice. Sizes are bytes.
 */
export interface LimitsConfig {
  /** Sum of `name: value\r\n` over the request's header fields; larger → 431. */
  readonly maxHeaderBytes: number;
  /** Number of header fields; more → 431. */
  readonly maxHeaderCount: number;
  /** Length of the request target (path and query); longer → 414. */
  readonly maxUriBytes: number;
  /** Request body size, enforced while streaming; larger → 413. Routes may override. */
  readonly maxBodyBytes: number;
  readonly underscoreHeaders: UnderscoreHeaders;
  /** Connection guard in front of the plain-HTTP listener (src/edge/connection_guard.ts). */
  readonly connectionGuard: boolean;
  /** From accepting a connection, or from the first byte of a later request, to its complete head; then 408. */
  readonly headerTimeoutMs: number;
  /** After a response, no byte received for this long: the keep-alive connection is closed. */
  readonly idleTimeoutMs: number;
  /** Open client connections; the next one gets 503 and is closed. 0 = no cap. */
  readonly maxConnections: number;
  /** Open client connections from one IP address; 0 = no cap. */
  readonly maxConnectionsPerClient: number;
}

export const LIMITS_KEYS = [
  "max_header_size",
  "max_header_count",
  "max_uri_size",
  "max_body_size",
  "underscore_headers",
  "connection_guard",
  "header_timeout",
  "idle_timeout",
  "max_connections",
  "max_connections_per_client",
];

export const DEFAULT_LIMITS: LimitsConfig = {
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxUriBytes: 8_000,
  maxBodyBytes: 10 * 1024 * 1024,
  underscoreHeaders: "drop",
  connectionGuard: false,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  maxConnections: 4096,
  maxConnectionsPerClient: 256,
};

export function readLimits(value: unknown, reader: ConfigReader): LimitsConfig {
  const path = ["limits"];
  const m = reader.mapping(value, path, LIMITS_KEYS) ?? {};
  const d = DEFAULT_LIMITS;
  return {
    maxHeaderBytes: reader.integer(m.max_header_size, [...path, "max_header_size"], {
      default: d.maxHeaderBytes,
      min: 1024,
    }),
    maxHeaderCount: reader.integer(m.max_header_count, [...path, "max_header_count"], {
      default: d.maxHeaderCount,
      min: 1,
    }),
    maxUriBytes: reader.integer(m.max_uri_size, [...path, "max_uri_size"], {
      default: d.maxUriBytes,
      min: 1,
    }),
    maxBodyBytes: readBodySize(m.max_body_size, reader, [...path, "max_body_size"]) ?? d.maxBodyBytes,
    underscoreHeaders: reader.string<UnderscoreHeaders>(
      m.underscore_headers,
      [...path, "underscore_headers"],
      {
        default: d.underscoreHeaders,
        oneOf: ["allow", "drop", "reject"],
      },
    ),
    connectionGuard: reader.boolean(m.connection_guard, [...path, "connection_guard"], d.connectionGuard),
    headerTimeoutMs: reader.duration(m.header_timeout, [...path, "header_timeout"], {
      default: d.headerTimeoutMs,
      min: 1,
    }),
    idleTimeoutMs: reader.duration(m.idle_timeout, [...path, "idle_timeout"], {
      default: d.idleTimeoutMs,
      min: 1,
    }),
    maxConnections: reader.integer(m.max_connections, [...path, "max_connections"], {
      default: d.maxConnections,
      min: 0,
    }),
    maxConnectionsPerClient: reader.integer(
      m.max_connections_per_client,
      [...path, "max_connections_per_client"],
      { default: d.maxConnectionsPerClient, min: 0 },
    ),
  };
}

/** `max_body_size`: bytes, ≥ 0 (0 refuses every request body). Shared with the per-route override. */
export function readBodySize(value: unknown, reader: ConfigReader, path: ConfigPath): number | undefined {
  return reader.integer(value, path, { min: 0 });
}
