/**
 * proxy — composition root: flags → config → runtime → listener; signals drain and stop.
 * `deno run --allow-net main.ts` serves the embedded config.yaml; `--config FILE` reads a file.
 */
import embeddedConfig from "./config.yaml" with { type: "text" };
import denoJson from "./deno.json" with { type: "json" };
import { createAdminApp } from "./src/admin/admin_app.ts";
import { upstreamSnapshots } from "./src/admin/upstream_snapshots.ts";
import { createApp } from "./src/app.ts";
import { parseArgs, USAGE, UsageError } from "./src/cli.ts";
import { ConfigError } from "./src/config/config_reader.ts";
import { loadConfigFile, parseConfig } from "./src/config/load_config.ts";
import type { Config } from "./src/config/types.ts";
import { BufferedLineWriter } from "./src/log/line_writer.ts";
import { ProxyMetrics } from "./src/metrics/proxy_metrics.ts";
import { Registry } from "./src/metrics/registry.ts";
import { startLifecycle } from "./src/lifecycle/lifecycle.ts";
import { reloadRoutes } from "./src/admin/reload_routes.ts";
import { cachePurgeRoutes } from "./src/admin/cache_purge_routes.ts";
import { Runtime } from "./src/runtime.ts";
import { reportUpstreams } from "./src/lifecycle/upstream_report.ts";
import { errorReason, stderrEventLog } from "./src/log/event_log.ts";
import { resolveWorkerCount, runControlPlane } from "./src/workers/control_plane.ts";
import { redirectListenOptions, redirectToHttps } from "./src/server_options.ts";
import { serveProxy } from "./src/edge/serve_proxy.ts";

const EMBEDDED = "<embedded config.yaml>";

async function readConfig(file: string | undefined): Promise<Config> {
  return file === undefined ? parseConfig(embeddedConfig, EMBEDDED) : await loadConfigFile(file);
}

export async function main(args: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseArgs(args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`proxy: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.version) {
    console.log(`proxy ${denoJson.version} (deno ${Deno.version.deno})`);
    return 0;
  }

  let config: Config;
  try {
    config = await readConfig(options.config);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  if (options.validate) {
    console.log(`${config.source}: valid`);
    return 0;
  }
  // N > 1: this isolate becomes the control plane of N worker isolates (src/workers/); 1 continues below.
  const workers = resolveWorkerCount(options.workers ?? config.server.workers);
  if (workers > 1) {
    const load = () => readConfig(options.config);
    return await runControlPlane({
      config,
      workers,
      load,
      watchFile: options.watchConfig ? options.config : undefined,
    });
  }

  const source = { current: new Runtime(config).start() };
  // One registry and one access log writer for the process lifetime, shared by the proxy and admin apps.
  const registry = new Registry();
  const metrics = new ProxyMetrics(registry, { upstreams: () => upstreamSnapshots(source.current) });
  // A route's own rate_limit works without a top-level section: ask the runtime, not the config.
  metrics.setFeatures({
    cache: config.cache !== undefined,
    rateLimit: source.current.rateLimiter !== undefined,
  });
  metrics.configReloaded("success");
  const accessLog = new BufferedLineWriter();
  const app = createApp(source, { metrics, accessLog });
  await source.current.rateLimiter?.ready(); // a Redis store: connected, or given up for now (fails open)
  const server = serveProxy(config, app.fetch, (error) => {
    stderrEventLog("unexpected_error", {
      message: "unhandled error while serving",
      reason: errorReason(error),
      stack: error instanceof Error ? error.stack : undefined,
    });
    return new Response("500 internal proxy error\n", { status: 500 });
  });
  // One line saying which upstreams are configured and whether they answer (also primes /readyz).
  void reportUpstreams(source.current.pools, source.current.log);
  const adminApp = createAdminApp({ source, registry, metrics });
  const admin = serveAdmin(config, adminApp.fetch);
  const redirectOptions = redirectListenOptions(config.server);
  const redirect = redirectOptions && Deno.serve({
    ...redirectOptions,
    onListen: ({ hostname, port }) => console.error(`proxy redirecting http://${hostname}:${port} to HTTPS`),
  }, redirectToHttps(server.addr.port));

  // SIGHUP / --watch-config → reload; SIGTERM / SIGINT → drain, dispose, exit 0 (see src/lifecycle/).
  const { reloader, shutdown } = startLifecycle(source, [server], {
    load: () => readConfig(options.config),
    watchFile: options.watchConfig ? options.config : undefined,
    onReload: (result) => {
      metrics.configReloaded(result.ok ? "success" : "failure");
      const current = source.current.config;
      metrics.setFeatures({
        cache: current.cache !== undefined,
        rateLimit: source.current.rateLimiter !== undefined,
      });
    },
    afterStop: () => accessLog[Symbol.asyncDispose](), // the last access log lines
  });
  adminApp.route("/", reloadRoutes(reloader));
  adminApp.route("/", cachePurgeRoutes(source));
  if (admin) shutdown.track(admin);
  if (redirect) shutdown.track(redirect);
  return await shutdown.done;
}

/**
 * Starts the admin listener. A port already taken is reported and the proxy keeps serving without it:
 * traffic matters more than its dashboard.
 */
function serveAdmin(config: Config, handler: Deno.ServeHandler): Deno.HttpServer | undefined {
  const { host, port } = config.admin;
  try {
    return Deno.serve({
      hostname: host,
      port,
      onListen: ({ hostname, port }) => console.error(`proxy admin on http://${hostname}:${port}/`),
    }, handler);
  } catch (error) {
    stderrEventLog("admin_listener_disabled", { host, port, reason: errorReason(error) });
    return undefined;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
