import type { Config } from "../config/types.ts";
import { ConfigWatcher } from "./config_watcher.ts";
import { type MutableRuntimeSource, Reloader, type ReloadResult } from "./reloader.ts";
import { type Drainable, GracefulShutdown } from "./shutdown.ts";

export interface LifecycleOptions {
  /** Reads and validates the config (the same function that loaded it at start). */
  load: () => Promise<Config>;
  /** The config file to watch (`--watch-config`); undefined: no watching. */
  watchFile?: string | undefined;
  /** Counted by metrics. */
  onReload?: (result: ReloadResult) => void;
  /** Last step of the shutdown, after the runtimes are disposed (flush the access log). */
  afterStop?: () => Promise<void>;
}

export interface Lifecycle {
  readonly reloader: Reloader;
  readonly shutdown: GracefulShutdown;
}

/**
 * Wires reload and shutdown for `main.ts`: SIGHUP (and the watched file) → `reloader.reload()`; SIGTERM/SIGINT
 * → drain `servers` for `server.shutdown_timeout`, then stop the watcher, the replaced and the current runtime.
 * `await lifecycle.shutdown.done` gives the exit code. More listeners (admin): `shutdown.track(server)`.
 */
export function startLifecycle(
  source: MutableRuntimeSource,
  servers: readonly Drainable[],
  options: LifecycleOptions,
): Lifecycle {
  const reloader = new Reloader(source, {
    load: options.load,
    ...(options.onReload && { onReload: options.onReload }),
  });
  const reload = () => void reloader.reload();
  const watcher = options.watchFile === undefined
    ? undefined
    : new ConfigWatcher(options.watchFile, reload).start();
  const hangup = Deno.build.os === "windows" ? undefined : "SIGHUP";
  if (hangup) Deno.addSignalListener(hangup, reload);
  const shutdown = new GracefulShutdown({
    timeoutMs: () => source.current.config.server.shutdownTimeoutMs,
    log: (event, fields) => source.current.log(event, fields),
    async cleanup() {
      if (hangup) Deno.removeSignalListener(hangup, reload);
      await watcher?.[Symbol.asyncDispose]();
      await reloader[Symbol.asyncDispose]();
      await source.current[Symbol.asyncDispose]();
      await options.afterStop?.();
      shutdown[Symbol.dispose]();
    },
  }).track(...servers).listen();
  return { reloader, shutdown };
}
