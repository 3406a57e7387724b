/**
 * `server.workers` > 1: the main isolate becomes the control plane and N `Worker` isolates serve traffic
 * on one port (SO_REUSEPORT: the Linux kernel spreads new connections over the listeners).
 *
 *   control plane: config load/validate/reload, health checks, admin listener, signals, worker restarts
 *      │ postMessage: config, health changes, admin requests, drain
 *      │ SharedArrayBuffer: rate-limit token buckets, in-flight counts per upstream
 *      ▼
 *   worker × N: Deno.serve(reusePort) → createApp (the same request path as a single-isolate proxy)
 */
import { Hono } from "hono";
import { adminAuth } from "../admin/admin_auth.ts";
import { reloadRoutes } from "../admin/reload_routes.ts";
import { ConfigError } from "../config/config_reader.ts";
import type { Config } from "../config/types.ts";
import { diffConfig } from "../lifecycle/config_diff.ts";
import { ConfigWatcher } from "../lifecycle/config_watcher.ts";
import type { ReloadResult } from "../lifecycle/reloader.ts";
import { GracefulShutdown } from "../lifecycle/shutdown.ts";
import { writeStdout } from "../log/line_writer.ts";
import { errorReason } from "../log/event_log.ts";
import { Counter } from "../metrics/counter.ts";
import { Gauge } from "../metrics/gauge.ts";
import { ProxyMetrics } from "../metrics/proxy_metrics.ts";
import { Registry } from "../metrics/registry.ts";
import type { Stats } from "../metrics/stats_types.ts";
import { TrustedProxies } from "../net/client_address.ts";
import { RateLimiter } from "../ratelimit/rate_limiter.ts";
import {
  createSharedRateLimitTable,
  releaseSharedLocks,
  SharedMemoryRateLimitStore,
  type SharedRateLimitTable,
} from "../ratelimit/store_shared_memory.ts";
import { stderrLog } from "../runtime.ts";
import { redirectListenOptions, redirectToHttps } from "../server_options.ts";
import type { RuntimeLog } from "../pool/pool_runtime.ts";
import { Upstream } from "../upstream/upstream.ts";
import { HealthPlane } from "./health_plane.ts";
import type { ConfigPayload, HealthState, SharedState } from "./messages.ts";
import { mergeExpositions } from "./metrics_merge.ts";
import { mergeStats } from "./stats_merge.ts";
import { InFlightAllocator } from "./shared_in_flight.ts";
import { WorkerHandle, type WorkerState } from "./worker_handle.ts";

export interface ControlPlaneOptions {
  /** The validated config the process started with. */
  config: Config;
  /** Worker isolates to run (≥ 2). */
  workers: number;
  /** Reads and validates the config again (SIGHUP, POST /reload, --watch-config). */
  load: () => Promise<Config>;
  /** The config file to watch; undefined: no watching. */
  watchFile?: string | undefined;
  /** Worker module (tests inject one). Default src/workers/worker_entry.ts. */
  entry?: URL;
  /** Structured log. Default JSON lines on stderr. */
  log?: RuntimeLog;
  /** Longest wait for one worker to apply a config or answer an admin request, ms. Default 10 000. */
  workerTimeoutMs?: number;
}

/** One worker's part of a reload. */
export interface WorkerReloadResult {
  readonly worker: number;
  readonly ok: boolean;
  readonly error?: string;
}

/** A reload across workers: ok only when every worker applied the config. */
export interface WorkersReloadResult extends ReloadResult {
  readonly workers: readonly WorkerReloadResult[];
}

/** Families `/metrics` takes from the control plane rather than summing over workers. */
const OWN_FAMILIES: ReadonlySet<string> = new Set([
  "proxy_config_reloads_total",
  "proxy_config_last_reload_success_timestamp_seconds",
  "proxy_workers",
  "proxy_worker_restarts_total",
]);

/** Restart delays after a worker dies: 100 ms doubling up to 10 s; back to 100 ms after 10 s of uptime. */
const RESTART_BASE_MS = 100;
const RESTART_MAX_MS = 10_000;
const STABLE_AFTER_MS = 10_000;
/** Access log bytes waiting for stdout past this are dropped (a stuck stdout must not eat memory). */
const MAX_PENDING_LOG_BYTES = 8 * 1024 * 1024;

const NO_STORE = { "cache-control": "no-store" };

/** Resolves `server.workers` / `--workers`: "auto" is one worker per available core. */
export function resolveWorkerCount(workers: number | "auto"): number {
  return workers === "auto" ? Math.max(1, navigator.hardwareConcurrency || 1) : workers;
}

/** Runs the control plane and its workers until SIGTERM/SIGINT; resolves with the exit code. */
export async function runControlPlane(options: ControlPlaneOptions): Promise<number> {
  if (Deno.build.os !== "linux") {
    console.error(
      `proxy: server.workers > 1 needs Linux (SO_REUSEPORT spreads connections over the workers); ` +
        `this is ${Deno.build.os}: use workers: 1`,
    );
    return 2;
  }
  const plane = new ControlPlane(options);
  if (!await plane.start()) return 1;
  return await plane.done;
}

/**
 * The control plane of one process. `start()` starts the workers, the admin listener and the signal
 * handlers; `done` settles with the exit code once SIGTERM/SIGINT (or `shutdown()`) drained the workers.
 */
export class ControlPlane {
  readonly #options: ControlPlaneOptions;
  readonly #log: RuntimeLog;
  readonly #timeoutMs: number;
  readonly #handles: WorkerHandle[];
  readonly #inFlight: InFlightAllocator;
  readonly #registry = new Registry();
  readonly #metrics = new ProxyMetrics(this.#registry);
  readonly #restarts: Counter;
  readonly #restartTimers = new Map<WorkerHandle, ReturnType<typeof setTimeout>>();
  readonly #failures = new Map<WorkerHandle, number>();
  #config: Config;
  #tables = new Map<string, SharedRateLimitTable>();
  #shared: SharedState;
  #health: HealthPlane;
  #port = 0;
  #stopping = false;
  #queue: Promise<unknown> = Promise.resolve();
  #logChain: Promise<void> = Promise.resolve();
  #pendingLogBytes = 0;
  #droppedLogBytes = 0;
  #shutdown: GracefulShutdown | undefined;
  #started = false;

  constructor(options: ControlPlaneOptions) {
    this.#options = options;
    this.#log = options.log ?? stderrLog;
    this.#timeoutMs = options.workerTimeoutMs ?? 10_000;
    this.#config = options.config;
    this.#inFlight = new InFlightAllocator(options.workers);
    this.#handles = Array.from({ length: options.workers }, (_, i) =>
      new WorkerHandle(i + 1, {
        ...(options.entry && { entry: options.entry }),
        onExit: (handle, reason) => this.#onExit(handle, reason),
        onLog: (bytes) => this.#writeLog(bytes),
      }));
    this.#restarts = this.#registry.register(
      new Counter("proxy_worker_restarts_total", { help: "Worker isolates restarted after they died." }),
    );
    const handles = this.#handles;
    this.#registry.register(
      new Gauge("proxy_workers", {
        help: "Worker isolates by state (starting, running, restarting, draining, stopped).",
        labelNames: ["state"],
        collect: (emit) => {
          const counts = new Map<WorkerState, number>(
            (["starting", "running", "restarting", "draining", "stopped"] as const).map((s) => [s, 0]),
          );
          for (const handle of handles) counts.set(handle.state, (counts.get(handle.state) ?? 0) + 1);
          for (const [state, count] of counts) emit([state], count);
        },
      }),
    );
    this.#shared = this.#sharedFor(this.#config);
    this.#health = this.#healthFor(this.#config, undefined);
  }

  /** The port every worker listens on (known once `start()` resolved). */
  get port(): number {
    return this.#port;
  }

  /** Settles with the exit code after the drain (start() must have succeeded). */
  get done(): Promise<number> {
    return this.#shutdown?.done ?? Promise.resolve(1);
  }

  /** What SIGTERM does: drain every worker within `server.shutdown_timeout`, then stop. */
  shutdown(): Promise<number> {
    return this.#shutdown?.shutdown("requested") ?? Promise.resolve(1);
  }

  /** The slots' states and start counts (what `GET /workers` answers). */
  workers(): { worker: number; state: WorkerState; starts: number }[] {
    return this.#handles.map((handle) => ({ worker: handle.id, state: handle.state, starts: handle.starts }));
  }

  /** Starts workers and listeners; false (after logging why) when the workers could not start. */
  async start(): Promise<boolean> {
    const config = this.#config;
    this.#health.start();
    const [first, ...rest] = this.#handles;
    try {
      // The first worker binds the configured port (0: any); the others join the port it got.
      this.#port = await first!.start(config.server.port, this.#payload());
      await Promise.all(rest.map((handle) => handle.start(this.#port, this.#payload())));
      this.#started = true;
    } catch (error) {
      stderrLog("workers_failed", { reason: errorReason(error) });
      this.#stopping = true;
      for (const handle of this.#handles) handle.terminate();
      await this.#health[Symbol.asyncDispose]();
      return false;
    }
    this.#metrics.configReloaded("success");
    const admin = this.#serveAdmin();
    const redirectOptions = redirectListenOptions(config.server);
    const redirect = redirectOptions && Deno.serve({
      ...redirectOptions,
      onListen: ({ hostname, port }) =>
        console.error(`proxy redirecting http://${hostname}:${port} to HTTPS`),
    }, redirectToHttps(this.#port));

    const reload = () => void this.reload();
    const watcher = this.#options.watchFile === undefined
      ? undefined
      : new ConfigWatcher(this.#options.watchFile, reload).start();
    Deno.addSignalListener("SIGHUP", reload);
    const shutdown = new GracefulShutdown({
      timeoutMs: () => this.#config.server.shutdownTimeoutMs,
      log: this.#log,
      cleanup: async () => {
        Deno.removeSignalListener("SIGHUP", reload);
        await watcher?.[Symbol.asyncDispose]();
        await this.#queue.catch(() => {});
        for (const handle of this.#handles) handle.terminate();
        await this.#health[Symbol.asyncDispose]();
        await this.#logChain;
        shutdown[Symbol.dispose]();
      },
    });
    // First in the list, so restarts stop before the workers are asked to drain.
    shutdown.track({ shutdown: () => this.#stop() }, ...this.#handles);
    if (admin) shutdown.track(admin);
    if (redirect) shutdown.track(redirect);
    shutdown.listen();
    this.#shutdown = shutdown;
    // Last: whoever waits for this line may send SIGHUP/SIGTERM at once, and the handlers are in place.
    const scheme = config.server.tls ? "https" : "http";
    console.error(
      `proxy listening on ${scheme}://${config.server.host}:${this.#port} (${config.source}, ` +
        `${this.#handles.length} workers)`,
    );
    return true;
  }

  /** Reloads once the reloads before it have finished. Never rejects. */
  reload(): Promise<WorkersReloadResult> {
    const next = this.#queue.then(() => this.#reloadNow());
    this.#queue = next;
    return next;
  }

  async #reloadNow(): Promise<WorkersReloadResult> {
    const old = this.#config;
    const failure = (source: string, error: string): WorkersReloadResult => ({
      ok: false,
      source,
      error,
      changed: [],
      restartRequired: [],
      workers: [],
    });
    let result: WorkersReloadResult;
    let config: Config | undefined;
    try {
      config = await this.#options.load();
    } catch (error) {
      result = failure(
        old.source,
        error instanceof ConfigError ? error.message : `cannot load config: ${error}`,
      );
    }
    if (config !== undefined) {
      try {
        result = await this.#apply(old, config);
      } catch (error) {
        result = failure(config.source, `${config.source}: cannot apply config: ${error}`);
      }
    }
    result = result!;
    this.#log("config_reload", {
      ok: result.ok,
      source: result.source,
      ...(result.ok
        ? { changed: result.changed, restartRequired: result.restartRequired }
        : { error: result.error }),
      workers: result.workers,
    });
    if (result.ok && result.restartRequired.length > 0) {
      this.#log("config_restart_required", {
        source: result.source,
        keys: result.restartRequired,
        message: `changed ${result.restartRequired.join(", ")}: restart the process to apply them; the ` +
          "listeners keep their current settings",
      });
    }
    this.#metrics.configReloaded(result.ok ? "success" : "failure");
    return result;
  }

  async #apply(old: Config, config: Config): Promise<WorkersReloadResult> {
    const { changed, restartRequired } = diffConfig(old, config);
    // Build everything first: a constructor that refuses the config leaves the old state in place.
    const shared = this.#sharedFor(config);
    const previousHealth = this.#health;
    const health = this.#healthFor(config, previousHealth);
    previousHealth.stop();
    void previousHealth[Symbol.asyncDispose]();
    this.#health = health.start();
    this.#shared = shared;
    // Adopted even when a worker fails, so restarted workers and the next reload start from it.
    this.#config = config;
    const payload = this.#payload();
    const workers = await Promise.all(
      this.#handles.map(async (handle): Promise<WorkerReloadResult> => {
        const outcome = await handle.applyConfig(payload, this.#timeoutMs);
        return outcome.ok
          ? { worker: handle.id, ok: true }
          : { worker: handle.id, ok: false, error: outcome.error ?? "failed" };
      }),
    );
    const failed = workers.filter((w) => !w.ok);
    if (failed.length === 0) return { ok: true, source: config.source, changed, restartRequired, workers };
    return {
      ok: false,
      source: config.source,
      error: failed.map((w) => `worker ${w.worker}: ${w.error}`).join("\n"),
      changed,
      restartRequired,
      workers,
    };
  }

  /** Shared memory for `config`: rate-limit tables of unchanged policies and in-flight columns carry over. */
  #sharedFor(config: Config): SharedState {
    const tables = new Map<string, SharedRateLimitTable>();
    if ((config.rateLimit?.store.kind ?? "memory") === "memory") {
      // The same code the workers run decides which policies exist; here it only allocates their tables.
      RateLimiter.build({
        config: config.rateLimit,
        routes: config.routes,
        trustedProxies: new TrustedProxies(config.server.trustedProxies),
        memoryStore: (settings) => {
          const table = this.#tables.get(settings.signature) ?? tables.get(settings.signature) ??
            createSharedRateLimitTable(settings.maxKeys);
          tables.set(settings.signature, table);
          return new SharedMemoryRateLimitStore(table, settings);
        },
      });
    }
    this.#tables = tables;
    const keys: string[] = [];
    for (const [name, pool] of config.pools) {
      for (const backend of pool.backends) keys.push(`${name}\n${new Upstream(backend.url).id}`);
    }
    return { rateLimitTables: tables, inFlight: this.#inFlight.assign(keys) };
  }

  #healthFor(config: Config, previous: HealthPlane | undefined): HealthPlane {
    return new HealthPlane(config, {
      previous,
      log: this.#log,
      onChange: (state: HealthState) => {
        for (const handle of this.#handles) handle.post({ type: "health", ...state });
      },
    });
  }

  #payload(): ConfigPayload {
    return { config: this.#config, shared: this.#shared, health: this.#health.snapshot() };
  }

  #stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#restartTimers.values()) clearTimeout(timer);
    this.#restartTimers.clear();
    return Promise.resolve();
  }

  #onExit(handle: WorkerHandle, reason: string): void {
    // Its unfinished requests will never release their in-flight counts, nor a lock it held when it ended.
    this.#inFlight.clearRow(handle.id);
    for (const table of this.#tables.values()) releaseSharedLocks(table, handle.id);
    if (this.#stopping || !this.#started) {
      // Shutting down, or still starting (a worker that cannot start fails the start instead).
      this.#log("worker_exit", { worker: handle.id, reason });
      return;
    }
    const uptime = performance.now() - handle.startedAt;
    const failures = uptime >= STABLE_AFTER_MS ? 0 : (this.#failures.get(handle) ?? 0) + 1;
    this.#failures.set(handle, failures);
    const delayMs = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** Math.max(0, failures - 1));
    this.#log("worker_exit", { worker: handle.id, reason, restartInMs: delayMs });
    handle.markRestarting();
    this.#restartTimers.set(
      handle,
      setTimeout(() => {
        this.#restartTimers.delete(handle);
        if (this.#stopping) return;
        this.#restarts.inc();
        handle.start(this.#port, this.#payload()).then(
          () => this.#log("worker_restarted", { worker: handle.id, starts: handle.starts }),
          () => {}, // reported through onExit, which schedules the next attempt
        );
      }, delayMs),
    );
  }

  #writeLog(bytes: Uint8Array): void {
    if (this.#pendingLogBytes + bytes.length > MAX_PENDING_LOG_BYTES) {
      // Once per episode: the first drop is logged; the total when stdout drains again.
      if (this.#droppedLogBytes === 0) {
        this.#log("access_log_dropped", { message: "stdout is not keeping up; dropping access log lines" });
      }
      this.#droppedLogBytes += bytes.length;
      return;
    }
    if (this.#droppedLogBytes > 0) {
      this.#log("access_log_dropped", { bytes: this.#droppedLogBytes, message: "stdout keeps up again" });
      this.#droppedLogBytes = 0;
    }
    this.#pendingLogBytes += bytes.length;
    this.#logChain = this.#logChain.then(() => writeStdout(bytes)).catch((error) => {
      stderrLog("access_log_error", { reason: errorReason(error) });
    }).finally(() => {
      this.#pendingLogBytes -= bytes.length;
    });
  }

  #running(): WorkerHandle[] {
    return this.#handles.filter((handle) => handle.state === "running");
  }

  /** The admin listener: control-plane routes here, the rest answered by a worker's own admin app. */
  #serveAdmin(): Deno.HttpServer | undefined {
    const app = new Hono();
    app.use(adminAuth(() => this.#config.admin.token));
    const forwardHeaders = (request: Request): [string, string][] => {
      const headers: [string, string][] = [];
      request.headers.forEach((value, name) => headers.push([name, value]));
      return headers;
    };
    app.get("/metrics", async (c) => {
      const headers = forwardHeaders(c.req.raw);
      const texts = await Promise.all(
        this.#running().map((handle) =>
          handle.admin("GET", "/metrics", headers, null, this.#timeoutMs).then((r) => r.body, () => "")
        ),
      );
      const body = mergeExpositions(texts, this.#registry.expose(), OWN_FAMILIES);
      return c.body(body, 200, { ...NO_STORE, "content-type": Registry.contentType });
    });
    app.get("/stats", async (c) => {
      const headers = forwardHeaders(c.req.raw);
      const replies = await Promise.all(
        this.#running().map((handle) =>
          handle.admin("GET", "/stats", headers, null, this.#timeoutMs).then(
            (r) => r.status === 200 ? JSON.parse(r.body) as Stats : undefined,
            () => undefined,
          )
        ),
      );
      const stats = replies.filter((s): s is Stats => s !== undefined);
      if (stats.length === 0) return c.text("503 no worker is running\n", 503);
      return c.json(mergeStats(stats, this.#metrics.stats()), 200, NO_STORE);
    });
    app.get("/workers", (c) => c.json(this.workers(), 200, NO_STORE));
    app.post("/workers/:id/terminate", (c) => {
      const handle = this.#handles.find((h) => String(h.id) === c.req.param("id"));
      if (handle === undefined) return c.json({ error: `no worker ${c.req.param("id")}` }, 404);
      if (handle.state !== "running") return c.json({ error: `worker ${handle.id} is ${handle.state}` }, 409);
      handle.terminate(`terminated by POST /workers/${handle.id}/terminate`);
      return c.json({ worker: handle.id, terminated: true });
    });
    app.route("/", reloadRoutes({ reload: () => this.reload() }));
    // A purge must reach every worker's cache: run it on each and add up what they removed.
    const purgeAll = async (request: Request, path: string) => {
      const body = request.method === "POST" ? await request.text() : null;
      const headers = forwardHeaders(request);
      const replies = await Promise.all(
        this.#running().map((handle) => handle.admin(request.method, path, headers, body, this.#timeoutMs)),
      );
      const bad = replies.find((reply) => reply.status !== 200);
      if (bad) {
        return new Response(bad.body, {
          status: bad.status,
          headers: [...bad.headers] as [string, string][],
        });
      }
      let purged = 0;
      for (const reply of replies) purged += (JSON.parse(reply.body) as { purged: number }).purged;
      return Response.json({ purged, workers: replies.length }, { headers: NO_STORE });
    };
    app.on(["POST", "DELETE"], ["/cache", "/cache/*"], (c) => {
      const url = new URL(c.req.url);
      return purgeAll(c.req.raw, url.pathname + url.search);
    });
    // Everything else (dashboard, /readyz, /explain, /healthz): the lowest-numbered running worker.
    app.all("*", async (c) => {
      const handle = this.#running()[0];
      if (handle === undefined) return c.text("503 no worker is running\n", 503);
      const url = new URL(c.req.url);
      const body = c.req.method === "GET" || c.req.method === "HEAD" ? null : await c.req.text();
      const reply = await handle.admin(
        c.req.method,
        url.pathname + url.search,
        forwardHeaders(c.req.raw),
        body,
        this.#timeoutMs,
      );
      return new Response(reply.body, {
        status: reply.status,
        headers: [...reply.headers] as [string, string][],
      });
    });
    app.onError((error, c) => {
      stderrLog("admin_error", { method: c.req.method, path: c.req.path, reason: errorReason(error) });
      return c.text("500 internal admin error\n", 500);
    });
    const { host, port } = this.#config.admin;
    try {
      return Deno.serve({
        hostname: host,
        port,
        onListen: ({ hostname, port }) => console.error(`proxy admin on http://${hostname}:${port}/`),
      }, app.fetch);
    } catch (error) {
      stderrLog("admin_listener_disabled", { host, port, reason: errorReason(error) });
      return undefined;
    }
  }
}
