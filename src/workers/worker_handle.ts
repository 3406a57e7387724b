import type { ConfigPayload, FromWorker, ToWorker } from "./messages.ts";

/** The state of one worker slot, as `GET /workers` reports it. */
export type WorkerState = "starting" | "running" | "restarting" | "draining" | "stopped";

export interface WorkerHandleOptions {
  /** The module the `Worker` runs. Default src/workers/worker_entry.ts. */
  entry?: URL;
  /** Called once per death (uncaught error in the worker, failed start, or `terminate()`), with the reason. */
  onExit: (handle: WorkerHandle, reason: string) => void;
  /** Access log bytes from the worker. */
  onLog: (bytes: Uint8Array) => void;
}

type Reply = Extract<FromWorker, { seq: number }>;

const DEFAULT_ENTRY = new URL("./worker_entry.ts", import.meta.url);

/**
 * One data-plane worker slot (worker id 1…N) and the isolate currently in it: starts the `Worker`, sends it
 * requests and matches the replies, and notices its death. An uncaught error inside a worker is fatal to
 * that worker only: the error event is cancelled here (else it would reach and stop the main isolate) and
 * reported through `onExit`, so the control plane can restart the slot.
 */
export class WorkerHandle {
  readonly id: number;
  readonly #entry: URL;
  readonly #onExit: WorkerHandleOptions["onExit"];
  readonly #onLog: WorkerHandleOptions["onLog"];
  #worker: Worker | undefined;
  #state: WorkerState = "stopped";
  #seq = 0;
  readonly #pending = new Map<number, PromiseWithResolvers<Reply>>();
  #drained: PromiseWithResolvers<void> | undefined;
  #startedAt = 0;
  /** Starts of this slot (1 after the first start; each restart adds one). */
  starts = 0;

  constructor(id: number, options: WorkerHandleOptions) {
    this.id = id;
    this.#entry = options.entry ?? DEFAULT_ENTRY;
    this.#onExit = options.onExit;
    this.#onLog = options.onLog;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** When the latest isolate started (performance.now()). */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** Starts an isolate and resolves with the port it listens on; rejects (after `onExit`) when it cannot. */
  start(port: number, payload: ConfigPayload): Promise<number> {
    const worker = new Worker(this.#entry, { type: "module", name: `proxy-worker-${this.id}` });
    this.#worker = worker;
    this.#state = "starting";
    this.#startedAt = performance.now();
    this.starts++;
    const listening = Promise.withResolvers<number>();
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      const reason = event.message || String(event.error);
      listening.reject(new Error(reason));
      this.#died(worker, `uncaught error: ${reason}`);
    });
    worker.addEventListener("messageerror", () => this.#died(worker, "unreadable message"));
    worker.addEventListener("message", (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      switch (message.type) {
        case "listening":
          if (this.#state === "starting") this.#state = "running";
          listening.resolve(message.port);
          break;
        case "start_failed":
          listening.reject(new Error(message.error));
          this.#died(worker, `start failed: ${message.error}`);
          break;
        case "log":
          this.#onLog(message.bytes);
          break;
        case "drained":
          this.#drained?.resolve();
          break;
        default: {
          const waiting = this.#pending.get(message.seq);
          this.#pending.delete(message.seq);
          waiting?.resolve(message);
        }
      }
    });
    worker.postMessage({ type: "start", workerId: this.id, port, payload } satisfies ToWorker);
    return listening.promise;
  }

  /** Sends a config; resolves with the worker's verdict (a dead or silent worker is a failure too). */
  async applyConfig(payload: ConfigPayload, timeoutMs: number): Promise<{ ok: boolean; error?: string }> {
    if (this.#state !== "running") return { ok: false, error: `worker ${this.id} is ${this.#state}` };
    try {
      const reply = await this.#request((seq) => ({ type: "config", seq, payload }), timeoutMs);
      if (reply.type !== "applied") return { ok: false, error: "unexpected reply" };
      return reply.ok ? { ok: true } : { ok: false, error: reply.error ?? "failed" };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Runs an admin request on the worker's own admin app (not listening anywhere). */
  async admin(
    method: string,
    path: string,
    headers: [string, string][],
    body: string | null,
    timeoutMs: number,
  ): Promise<{ status: number; headers: readonly (readonly [string, string])[]; body: string }> {
    if (this.#state !== "running") throw new Error(`worker ${this.id} is ${this.#state}`);
    const reply = await this.#request(
      (seq) => ({ type: "admin", seq, method, path, headers, body }),
      timeoutMs,
    );
    if (reply.type !== "admin_response") throw new Error("unexpected reply");
    return reply;
  }

  /** Posts without waiting for an answer (health changes). */
  post(message: ToWorker): void {
    if (this.#state === "running" || this.#state === "starting") this.#worker?.postMessage(message);
  }

  /**
   * Stops accepting and waits for in-flight requests (what `Deno.HttpServer.shutdown` does, inside the
   * worker), so a handle can be tracked by `GracefulShutdown` like a listener. Resolves at once when no
   * isolate runs.
   */
  shutdown(): Promise<void> {
    if (this.#worker === undefined || (this.#state !== "running" && this.#state !== "starting")) {
      this.#state = "stopped";
      return Promise.resolve();
    }
    this.#state = "draining";
    this.#drained = Promise.withResolvers();
    this.#worker.postMessage({ type: "drain" } satisfies ToWorker);
    return this.#drained.promise;
  }

  /** Ends the isolate at once. `reason` set: reported as a death (the control plane restarts the slot). */
  terminate(reason?: string): void {
    const worker = this.#worker;
    if (worker === undefined) return;
    if (reason === undefined) {
      this.#worker = undefined;
      this.#state = "stopped";
      worker.terminate();
      this.#failPending(`worker ${this.id} stopped`);
      return;
    }
    this.#died(worker, reason);
  }

  /** Marks the slot for a restart (the control plane schedules it). */
  markRestarting(): void {
    this.#state = "restarting";
  }

  #died(worker: Worker, reason: string): void {
    if (this.#worker !== worker) return; // already handled
    this.#worker = undefined;
    worker.terminate();
    const wasDraining = this.#state === "draining";
    this.#state = "stopped";
    this.#failPending(`worker ${this.id} died: ${reason}`);
    this.#drained?.resolve();
    if (!wasDraining) this.#onExit(this, reason);
  }

  #failPending(reason: string): void {
    for (const waiting of this.#pending.values()) waiting.reject(new Error(reason));
    this.#pending.clear();
  }

  #request(make: (seq: number) => ToWorker, timeoutMs: number): Promise<Reply> {
    const worker = this.#worker;
    if (worker === undefined) return Promise.reject(new Error(`worker ${this.id} is not running`));
    const seq = ++this.#seq;
    const waiting = Promise.withResolvers<Reply>();
    this.#pending.set(seq, waiting);
    const timer = setTimeout(() => {
      this.#pending.delete(seq);
      waiting.reject(new Error(`worker ${this.id} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.postMessage(make(seq));
    return waiting.promise.finally(() => clearTimeout(timer));
  }
}
