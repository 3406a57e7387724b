/** Runs the real proxy app in-process on a loopback port, from YAML text, for end-to-end tests. */
import { upstreamSnapshots } from "../../src/admin/upstream_snapshots.ts";
import { createApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load_config.ts";
import type { Config } from "../../src/config/types.ts";
import type { LineSink } from "../../src/log/line_writer.ts";
import { ProxyMetrics } from "../../src/metrics/proxy_metrics.ts";
import { Registry } from "../../src/metrics/registry.ts";
import { Runtime, type RuntimeLog } from "../../src/runtime.ts";
import type { TransportName } from "../../src/transport/transport.ts";
import { transportOverride } from "./transports.ts";
import { serveProxy } from "../../src/edge/serve_proxy.ts";

export interface TestProxy extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly source: { current: Runtime };
  readonly errors: unknown[];
  /** The proxy's metrics and their registry (what an admin app would expose). */
  readonly registry: Registry;
  readonly metrics: ProxyMetrics;
  close(): Promise<void>;
}

/**
 * `yaml` is a full config; `server.port` is ignored (port 0 is used). `log` receives the runtime's events.
 * `guard: true` serves through main.ts's listener with `limits.connection_guard: true` (src/edge/serve_proxy.ts,
 * the connection guard); otherwise Deno.serve directly.
 */
export function startProxy(
  yaml: string,
  options: {
    hostname?: string;
    accessLog?: LineSink;
    log?: RuntimeLog;
    transport?: TransportName;
    guard?: boolean;
  } = {},
): TestProxy {
  const parsed = parseConfig(yaml, "test.yaml");
  const config = withTransport(parsed, options.transport ?? transportOverride());
  const source = { current: new Runtime(config, options.log ? { log: options.log } : {}).start() };
  const errors: unknown[] = [];
  const registry = new Registry();
  const metrics = new ProxyMetrics(registry, { upstreams: () => upstreamSnapshots(source.current) });
  metrics.setFeatures({
    cache: config.cache !== undefined,
    rateLimit: source.current.rateLimiter !== undefined,
  });
  const app = createApp(source, {
    logError: (_message, error) => errors.push(error),
    metrics,
    ...(options.accessLog ? { accessLog: options.accessLog } : {}),
  });
  const hostname = options.hostname ?? "127.0.0.1";
  const server = options.guard
    ? serveProxy(
      {
        ...config,
        server: { ...config.server, host: hostname, port: 0 },
        limits: { ...config.limits, connectionGuard: true },
      },
      app.fetch,
      (error) => {
        errors.push(error);
        return new Response("500\n", { status: 500 });
      },
    )
    : Deno.serve({ hostname, port: 0, onListen() {} }, app.fetch);
  const port = server.addr.port;
  const close = async () => {
    await server.shutdown();
    await source.current[Symbol.asyncDispose]();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    source,
    errors,
    registry,
    metrics,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** `config` with every pool on `transport` (unchanged when `transport` is undefined). */
function withTransport(config: Config, transport: TransportName | undefined): Config {
  if (transport === undefined) return config;
  const pools = new Map([...config.pools].map(([name, pool]) => [name, { ...pool, transport }]));
  return { ...config, pools };
}

/** A one-pool config pointing at the given upstream URLs, with optional extra YAML for `server:`. */
export function poolConfig(urls: readonly string[], server = ""): string {
  return [
    `server: { port: 0${server ? `, ${server}` : ""} }`,
    "backends:",
    ...urls.map((url) => `  - url: "${url}"`),
  ].join("\n");
}
