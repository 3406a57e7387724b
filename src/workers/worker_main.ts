/**
 * One data-plane isolate: the same app (src/app.ts) as a single-isolate proxy, on a listener that shares
 * its port with the other workers (SO_REUSEPORT). It loads nothing and watches nothing itself: the control
 * plane sends the validated config, the shared memory and the health verdicts, and asks it to drain.
 */
import { createAdminApp } from "../admin/admin_app.ts";
import { cachePurgeRoutes } from "../admin/cache_purge_routes.ts";
import { upstreamSnapshots } from "../admin/upstream_snapshots.ts";
import { createApp } from "../app.ts";
import type { Config } from "../config/types.ts";
import { Reloader } from "../lifecycle/reloader.ts";
import { BufferedLineWriter } from "../log/line_writer.ts";
import { ProxyMetrics } from "../metrics/proxy_metrics.ts";
import { Registry } from "../metrics/registry.ts";
import type { MemoryPolicySettings } from "../ratelimit/rate_limiter.ts";
import { MemoryRateLimitStore } from "../ratelimit/store_memory.ts";
import { SharedMemoryRateLimitStore } from "../ratelimit/store_shared_memory.ts";
import { Runtime, stderrLog } from "../runtime.ts";
import { type ProxyListener, serveProxy } from "../edge/serve_proxy.ts";
import { errorReason, stderrEventLog } from "../log/event_log.ts";
import type { ConfigPayload, FromWorker, HealthState, ToWorker } from "./messages.ts";
import { SharedInFlightCell } from "./shared_in_flight.ts";

/** The part of a worker's global scope this module uses (`self` inside a `Worker`). */
export interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
}

/** Builds a runtime wired to the shared memory and health of `payload` (no health checks of its own). */
function buildRuntime(
  workerId: number,
  payload: ConfigPayload,
  previous: Runtime | undefined,
): Runtime {
  const { shared } = payload;
  const log = (event: string, fields: Readonly<Record<string, unknown>>) =>
    stderrLog(event, { worker: workerId, ...fields });
  const runtime = new Runtime(payload.config, {
    previous,
    log,
    memoryRateLimitStore: (settings: MemoryPolicySettings) => {
      const table = shared.rateLimitTables.get(settings.signature);
      if (table === undefined) {
        // Cannot happen while the control plane builds the tables from the same config; stay safe.
        log("worker_rate_limit_unshared", { policy: settings.name, message: "policy limited per worker" });
        return new MemoryRateLimitStore(settings);
      }
      return new SharedMemoryRateLimitStore(table, { ...settings, owner: workerId });
    },
  });
  const views = shared.inFlight.buffers.map((buffer) => new Int32Array(buffer));
  for (const pool of runtime.pools.values()) {
    for (const upstream of pool.upstreams) {
      if (upstream.sharesInFlight) continue; // carried over from the previous runtime
      const slot = shared.inFlight.slots.get(`${pool.name}\n${upstream.id}`);
      if (slot === undefined) continue;
      upstream.shareInFlight(new SharedInFlightCell(views[slot[0]]!, workerId, slot[1], shared.inFlight));
    }
  }
  for (const state of payload.health) applyHealth(runtime, state);
  return runtime; // not started: health checks run once, in the control plane
}

function applyHealth(runtime: Runtime, state: HealthState): void {
  const pool = runtime.pools.get(state.pool);
  if (pool?.config.healthCheck === undefined) return;
  for (const upstream of pool.upstreams) {
    if (upstream.id === state.upstream) upstream.setHealthy(state.healthy);
  }
}

/** Runs the worker: waits for `start`, then serves until `drain`. */
export function runWorker(scope: WorkerScope): void {
  let workerId = 0;
  let source: { current: Runtime } | undefined;
  let reloader: Reloader | undefined;
  let server: ProxyListener | undefined;
  let accessLog: BufferedLineWriter | undefined;
  let admin: { fetch(request: Request): Response | Promise<Response> } | undefined;
  // Configs waiting for the (serialized) reloader: each reload's load() takes the next one.
  const queued: ConfigPayload[] = [];
  let building: ConfigPayload | undefined;

  const start = async (id: number, port: number, payload: ConfigPayload) => {
    workerId = id;
    const config = payload.config;
    source = { current: buildRuntime(id, payload, undefined) };
    const live = source;
    const registry = new Registry();
    const metrics = new ProxyMetrics(registry, { upstreams: () => upstreamSnapshots(live.current) });
    // A route's own rate_limit works without a top-level section: ask the runtime, not the config.
    metrics.setFeatures({
      cache: config.cache !== undefined,
      rateLimit: live.current.rateLimiter !== undefined,
    });
    const writer = new BufferedLineWriter({
      // Lines go to the control plane, which owns stdout; the bytes are moved, not copied.
      write: (bytes) => {
        const copy = bytes.slice();
        scope.postMessage({ type: "log", bytes: copy }, [copy.buffer]);
        return Promise.resolve();
      },
    });
    accessLog = writer;
    // JSON access log lines name the worker that served them; other formats are left as they are.
    const tag = `{"worker":${id},`;
    const app = createApp(live, {
      metrics,
      accessLog: { write: (line) => writer.write(line.startsWith("{") ? tag + line.slice(1) : line) },
    });
    reloader = new Reloader(live, {
      load: (): Promise<Config> => {
        building = queued.shift();
        return building ? Promise.resolve(building.config) : Promise.reject(new Error("no config to apply"));
      },
      build: (_config, previous) => buildRuntime(id, building!, previous),
      onReload: (result) => {
        if (!result.ok) return;
        metrics.setFeatures({
          cache: live.current.config.cache !== undefined,
          rateLimit: live.current.rateLimiter !== undefined,
        });
      },
    });
    const adminApp = createAdminApp({ source: live, registry, metrics });
    adminApp.route("/", cachePurgeRoutes(live));
    admin = adminApp;
    await live.current.rateLimiter?.ready();
    // The connection guard per worker (SO_REUSEPORT): each worker enforces its own caps and timeouts.
    server = serveProxy(config, app.fetch, (error) => {
      stderrEventLog("unexpected_error", {
        message: "unhandled error while serving",
        worker: id,
        reason: errorReason(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
      return new Response("500 internal proxy error\n", { status: 500 });
    }, {
      port,
      onListen: ({ hostname, port }) => scope.postMessage({ type: "listening", hostname, port }),
    });
  };

  const drain = async () => {
    await server?.shutdown();
    await reloader?.[Symbol.asyncDispose]();
    await source?.current[Symbol.asyncDispose]();
    await accessLog?.[Symbol.asyncDispose]();
    scope.postMessage({ type: "drained" });
  };

  scope.addEventListener("message", (event) => {
    const message = event.data;
    switch (message.type) {
      case "start":
        start(message.workerId, message.port, message.payload).catch((error) => {
          scope.postMessage({ type: "start_failed", error: messageOf(error) });
        });
        break;
      case "config": {
        if (reloader === undefined) {
          scope.postMessage({ type: "applied", seq: message.seq, ok: false, error: "not started" });
          break;
        }
        const { seq, payload } = message;
        queued.push(payload);
        void reloader.reload().then((result) => {
          scope.postMessage(
            result.ok
              ? { type: "applied", seq, ok: true }
              : { type: "applied", seq, ok: false, error: result.error ?? "failed" },
          );
        });
        break;
      }
      case "health":
        if (source) applyHealth(source.current, message);
        break;
      case "admin": {
        const { seq } = message;
        const target = admin;
        const answer = async () => {
          if (target === undefined) throw new Error("not started");
          const response = await target.fetch(
            new Request(`http://admin${message.path}`, {
              method: message.method,
              headers: message.headers as [string, string][],
              body: message.body,
            }),
          );
          const headers: [string, string][] = [];
          response.headers.forEach((value, name) => headers.push([name, value]));
          return { status: response.status, headers, body: await response.text() };
        };
        answer().then(
          (reply) => scope.postMessage({ type: "admin_response", seq, ...reply }),
          (error) =>
            scope.postMessage({
              type: "admin_response",
              seq,
              status: 500,
              headers: [],
              body: `worker ${workerId}: ${messageOf(error)}\n`,
            }),
        );
        break;
      }
      case "drain":
        void drain();
        break;
    }
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
