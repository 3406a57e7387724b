import { ConfigError } from "../config/config_reader.ts";
import type { Config } from "../config/types.ts";
import { Runtime } from "../runtime.ts";
import { diffConfig } from "./config_diff.ts";

/** The outcome of one reload, as logged, counted in metrics and answered by `POST /reload`. */
export interface ReloadResult {
  readonly ok: boolean;
  /** The config's source (file name). */
  readonly source: string;
  /** Every problem found, one `file:line:col key.path: message` per line (only when `ok` is false). */
  readonly error?: string;
  /** Sections that differ from the config served before: `server`, `routes`, `upstreams.api`, … */
  readonly changed: readonly string[];
  /** Changed settings that take effect only after a restart (listen addresses, TLS). */
  readonly restartRequired: readonly string[];
}

/** Where requests find the runtime to start on; the reloader replaces `current`. */
export interface MutableRuntimeSource {
  current: Runtime;
}

export interface ReloaderOptions {
  /** Reads and validates the config anew; throws ConfigError when it is invalid. */
  load: () => Promise<Config>;
  /** Called after every reload attempt (metrics count them). Exceptions are logged, not propagated. */
  onReload?: (result: ReloadResult) => void;
  /**
   * Longest wait for a replaced runtime's in-flight requests before it is disposed anyway, ms.
   * Default: the replaced config's `server.shutdown_timeout`.
   */
  drainTimeoutMs?: number;
  /** How often a replaced runtime is checked for in-flight requests, ms. Default 50. */
  pollMs?: number;
  /**
   * Builds and readies the runtime that replaces `previous`. Default: `new Runtime(config, { previous })`
   * with its health checks started. Worker isolates attach shared memory and the control plane's health
   * verdicts instead of starting checks of their own.
   */
  build?: (config: Config, previous: Runtime) => Runtime;
}

/** True when no request that started on `runtime` is still running (bodies still streaming included). */
export function runtimeIdle(runtime: Runtime): boolean {
  if (runtime.inFlight.count > 0) return false;
  for (const pool of runtime.pools.values()) if (pool.forwarder.active > 0) return false;
  return true;
}

interface Retired {
  readonly runtime: Runtime;
  readonly deadline: number;
}

/**
 * Hot reload: read → validate → build a new Runtime (routes, pools, balancers, health checkers; upstream
 * state carried over from the current one) → start it → swap `source.current` in one assignment. Requests
 * that already started keep the runtime they snapshotted; the replaced runtime's health checks stop at once,
 * and the rest of it (HTTP clients, deadline timers) is disposed once its in-flight requests are done, or
 * after the drain timeout.
 *
 * An invalid config changes nothing: the old runtime keeps serving and the result carries the error text.
 * Reloads are serialized: one triggered while another runs starts after it.
 *
 * The reloader owns the runtimes it replaces; the current runtime stays with whoever owns the source.
 */
export class Reloader implements AsyncDisposable {
  readonly #source: MutableRuntimeSource;
  readonly #load: () => Promise<Config>;
  readonly #onReload: ((result: ReloadResult) => void) | undefined;
  readonly #drainTimeoutMs: number | undefined;
  readonly #pollMs: number;
  readonly #build: (config: Config, previous: Runtime) => Runtime;
  readonly #retired = new Set<Retired>();
  readonly #disposals = new Set<Promise<void>>();
  #queue: Promise<unknown> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(source: MutableRuntimeSource, options: ReloaderOptions) {
    const {
      load,
      onReload,
      drainTimeoutMs,
      pollMs = 50,
      build = (config, previous) => new Runtime(config, { previous }).start(),
    } = options;
    if (typeof load !== "function") throw new TypeError("Reloader load must be a function");
    if (drainTimeoutMs !== undefined && !(drainTimeoutMs >= 0)) {
      throw new RangeError(`Reloader drainTimeoutMs must be ≥ 0, got ${drainTimeoutMs}`);
    }
    if (!(pollMs > 0)) throw new RangeError(`Reloader pollMs must be > 0, got ${pollMs}`);
    this.#source = source;
    this.#load = load;
    this.#onReload = onReload;
    this.#drainTimeoutMs = drainTimeoutMs;
    this.#pollMs = pollMs;
    this.#build = build;
  }

  /** Replaced runtimes still waiting for their in-flight requests. */
  get draining(): number {
    return this.#retired.size;
  }

  /** Reloads once the reloads before it have finished. Never rejects: failures are in the result. */
  reload(): Promise<ReloadResult> {
    const next = this.#queue.then(() => this.#reloadNow());
    this.#queue = next;
    return next;
  }

  async #reloadNow(): Promise<ReloadResult> {
    const old = this.#source.current;
    const result = await this.#attempt(old);
    const log = old.log;
    if (result.ok) {
      log("config_reload", {
        ok: true,
        source: result.source,
        changed: result.changed,
        restartRequired: result.restartRequired,
      });
      if (result.restartRequired.length > 0) {
        log("config_restart_required", {
          source: result.source,
          keys: result.restartRequired,
          message: `changed ${result.restartRequired.join(", ")}: restart the process to apply them; the ` +
            "listeners keep their current settings",
        });
      }
    } else {
      log("config_reload", { ok: false, source: result.source, error: result.error });
    }
    try {
      this.#onReload?.(result);
    } catch (error) {
      log("config_reload_callback_failed", { error: String(error) });
    }
    return result;
  }

  async #attempt(old: Runtime): Promise<ReloadResult> {
    const failure = (source: string, error: string): ReloadResult => ({
      ok: false,
      source,
      error,
      changed: [],
      restartRequired: [],
    });
    if (this.#disposed) return failure(old.config.source, "reloader disposed: the process is shutting down");
    let config: Config;
    try {
      config = await this.#load();
    } catch (error) {
      if (error instanceof ConfigError) return failure(old.config.source, error.message);
      return failure(old.config.source, `cannot load config: ${messageOf(error)}`);
    }
    if (this.#disposed) return failure(config.source, "reloader disposed: the process is shutting down");
    const { changed, restartRequired } = diffConfig(old.config, config);
    let fresh: Runtime;
    try {
      fresh = this.#build(config, old);
    } catch (error) {
      // Valid YAML and keys, yet a constructor refused it (a limit only the module checks): same as invalid.
      return failure(config.source, `${config.source}: cannot apply config: ${messageOf(error)}`);
    }
    this.#source.current = fresh; // the swap: requests starting from now on use `fresh`
    this.#retire(old);
    return { ok: true, source: config.source, changed, restartRequired };
  }

  #retire(old: Runtime): void {
    // Two health checkers on the same carried-over upstreams would both vote: stop the old one now.
    for (const pool of old.pools.values()) pool.healthChecker?.[Symbol.dispose]();
    const timeoutMs = this.#drainTimeoutMs ?? old.config.server.shutdownTimeoutMs;
    this.#retired.add({ runtime: old, deadline: performance.now() + timeoutMs });
    this.#sweep();
  }

  /** Disposes replaced runtimes that are idle or out of time; polls again while some remain. */
  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const retired of this.#retired) {
      const idle = runtimeIdle(retired.runtime);
      if (idle || now >= retired.deadline) {
        if (!idle) {
          retired.runtime.log("config_drain_timeout", {
            source: retired.runtime.config.source,
            message: "requests still running on the replaced config; closing its upstream clients",
          });
        }
        this.#dispose(retired);
      }
    }
    if (this.#retired.size > 0 && !this.#disposed) {
      this.#timer = setTimeout(() => this.#sweep(), this.#pollMs);
    }
  }

  #dispose(retired: Retired): void {
    this.#retired.delete(retired);
    const done: Promise<void> = retired.runtime[Symbol.asyncDispose]().catch((error) =>
      retired.runtime.log("runtime_dispose_failed", { error: String(error) })
    ).finally(() => this.#disposals.delete(done));
    this.#disposals.add(done);
  }

  /**
   * Waits for a running reload, then disposes every replaced runtime at once (call after the listener has
   * drained). The current runtime is left to the source's owner.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#queue.catch(() => {});
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const retired of this.#retired) this.#dispose(retired);
    await Promise.all(this.#disposals);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
