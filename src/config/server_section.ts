import { TrustedProxies } from "../net/client_address.ts";
import { type ConfigReader, describe } from "./config_reader.ts";
import { readPemFile } from "./pem_file.ts";

/** `server:` — the proxy listener and how it talks to upstreams. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Deadline for the response head from the request's arrival, across retries; 0 disables. */
  readonly timeoutMs: number;
  /** Deadline for one attempt's response head (includes connecting). */
  readonly firstByteTimeoutMs: number;
  /** Deadline for the response body after its head; 0 disables. */
  readonly bodyTimeoutMs: number;
  /** Longest wait between two reads of the response body from the upstream; 0 disables. */
  readonly bodyIdleTimeoutMs: number;
  /** CIDRs (or "loopback", "private") whose X-Forwarded-*, Forwarded and X-Request-Id headers are believed. */
  readonly trustedProxies: readonly string[];
  /** Pseudonym in `Via: 1.1 <name>`. */
  readonly name: string;
  /** Compress responses for clients that accept gzip (see README, "Compression"). */
  readonly compression: boolean;
  /** Largest upstream response header block accepted, in bytes; larger → 502. */
  readonly maxResponseHeaderBytes: number;
  /** Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with this certificate chain and key, PEM text. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** A plain-HTTP listener on this port that redirects every request to HTTPS (needs `tls`). */
  readonly redirectHttpPort?: number;
  /** On SIGTERM/SIGINT, how long in-flight requests may take to finish before the process exits anyway. */
  readonly shutdownTimeoutMs: number;
  /**
   * Data-plane isolates: 1 serves in the main isolate (no Worker, no shared memory); N > 1 runs N `Worker`
   * isolates on the same port (SO_REUSEPORT) behind a control plane; "auto" = `navigator.hardwareConcurrency`.
   */
  readonly workers: number | "auto";
}

export const SERVER_KEYS = [
  "host",
  "port",
  "timeout",
  "first_byte_timeout",
  "body_timeout",
  "body_idle_timeout",
  "trusted_proxies",
  "name",
  "compression",
  "max_response_header_size",
  "tls",
  "redirect_http_port",
  "shutdown_timeout",
  "workers",
];

/** Most worker isolates accepted in `server.workers` / `--workers`. */
export const MAX_WORKERS = 256;

export function readServer(value: unknown, reader: ConfigReader): ServerConfig {
  const path = ["server"];
  const m = reader.mapping(value, path, SERVER_KEYS) ?? {};
  const timeoutMs = reader.duration(m.timeout, [...path, "timeout"], { default: 30_000, min: 0 });
  const trusted: string[] = [];
  reader.list(m.trusted_proxies, [...path, "trusted_proxies"])?.forEach((cidr, i) => {
    if (typeof cidr !== "string" || !isTrustedProxyEntry(cidr)) {
      reader.fail([...path, "trusted_proxies", i], `not an IP address or CIDR: ${describe(cidr)}`);
    } else trusted.push(cidr);
  });
  const name = reader.string(m.name, [...path, "name"], { default: "proxy" });
  if (!/^[\x21-\x7e]+$/.test(name)) reader.fail([...path, "name"], "must be a single token without spaces");
  const tls = readTls(m.tls, reader);
  const redirectHttpPort = reader.integer(m.redirect_http_port, [...path, "redirect_http_port"], {
    min: 0,
    max: 65535,
  });
  if (redirectHttpPort !== undefined && m.tls === undefined) {
    reader.fail([...path, "redirect_http_port"], "redirects to HTTPS, so it needs server.tls");
  }
  return {
    host: reader.string(m.host, [...path, "host"], { default: "0.0.0.0" }),
    port: reader.integer(m.port, [...path, "port"], { default: 8080, min: 0, max: 65535 }),
    timeoutMs,
    firstByteTimeoutMs: reader.duration(m.first_byte_timeout, [...path, "first_byte_timeout"], {
      default: timeoutMs === 0 ? 30_000 : timeoutMs,
      min: 1,
    }),
    bodyTimeoutMs: reader.duration(m.body_timeout, [...path, "body_timeout"], { default: 0, min: 0 }),
    bodyIdleTimeoutMs: reader.duration(m.body_idle_timeout, [...path, "body_idle_timeout"], {
      default: 0,
      min: 0,
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
    ...(tls ? { tls } : {}),
    ...(redirectHttpPort === undefined ? {} : { redirectHttpPort }),
    shutdownTimeoutMs: reader.duration(m.shutdown_timeout, [...path, "shutdown_timeout"], {
      default: 30_000,
      min: 0,
    }),
    workers: readWorkers(m.workers, reader),
  };
}

function readWorkers(value: unknown, reader: ConfigReader): number | "auto" {
  const path = ["server", "workers"];
  if (value === undefined) return 1;
  if (value === "auto") return "auto";
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_WORKERS) {
    return value;
  }
  reader.fail(path, `must be an integer from 1 to ${MAX_WORKERS} or "auto", got ${describe(value)}`);
  return 1;
}

/** A CIDR block, a bare address, or one of the names "loopback" and "private". */
function isTrustedProxyEntry(entry: string): boolean {
  try {
    new TrustedProxies([entry]);
    return true;
  } catch {
    return false;
  }
}

function readTls(value: unknown, reader: ConfigReader): ServerConfig["tls"] {
  const path = ["server", "tls"];
  const m = reader.mapping(value, path, ["cert", "key"]);
  if (!m) return undefined;
  const cert = readPemFile(m.cert, reader, [...path, "cert"], "CERTIFICATE");
  const key = readPemFile(m.key, reader, [...path, "key"], "PRIVATE KEY");
  return cert !== undefined && key !== undefined ? { cert, key } : undefined;
}
