import type { RuntimeLog } from "../pool/pool_runtime.ts";

/** A listener that can stop accepting and wait for its in-flight requests (`Deno.HttpServer`). */
export interface Drainable {
  shutdown(): Promise<void>;
}

export interface GracefulShutdownOptions {
  /** Longest wait for in-flight requests, ms; read when the signal arrives (so a reload can change it). */
  timeoutMs: () => number;
  /** Runs after the listeners drained (or timed out): stop timers, close clients. */
  cleanup: () => Promise<void>;
  log: RuntimeLog;
  /** Signals that start the drain. Default SIGTERM and SIGINT. */
  signals?: readonly Deno.Signal[];
  /** Leaves at once on a second signal. Default `Deno.exit`. */
  exit?: (code: number) => void;
}

/**
 * Graceful shutdown: the first SIGTERM/SIGINT stops every listener accepting (new connections are refused),
 * lets requests in flight finish for up to `timeoutMs`, then runs `cleanup` (timers, health checks, HTTP
 * clients) and resolves `done` with exit code 0. A second signal exits at once with code 1.
 */
export class GracefulShutdown implements Disposable {
  readonly #servers: Drainable[] = [];
  readonly #timeoutMs: () => number;
  readonly #cleanup: () => Promise<void>;
  readonly #log: RuntimeLog;
  readonly #signals: readonly Deno.Signal[];
  readonly #exit: (code: number) => void;
  readonly #done: PromiseWithResolvers<number> = Promise.withResolvers();
  readonly #handlers = new Map<Deno.Signal, () => void>();
  #started = false;

  constructor(options: GracefulShutdownOptions) {
    const { timeoutMs, cleanup, log, signals = ["SIGTERM", "SIGINT"], exit = (code) => Deno.exit(code) } =
      options;
    this.#timeoutMs = timeoutMs;
    this.#cleanup = cleanup;
    this.#log = log;
    this.#signals = signals;
    this.#exit = exit;
  }

  /** Settles with the exit code once the drain and cleanup are done. */
  get done(): Promise<number> {
    return this.#done.promise;
  }

  /** Adds listeners to drain (the proxy listener, the admin listener). */
  track(...servers: Drainable[]): this {
    this.#servers.push(...servers);
    return this;
  }

  /** Installs the signal handlers. */
  listen(): this {
    for (const signal of this.#signals) {
      const handler = () => this.#onSignal(signal);
      this.#handlers.set(signal, handler);
      Deno.addSignalListener(signal, handler);
    }
    return this;
  }

  #onSignal(signal: Deno.Signal): void {
    if (this.#started) {
      this.#log("shutdown_forced", { signal, message: "second signal: exiting without waiting" });
      this.#exit(1);
      return;
    }
    void this.shutdown(signal);
  }

  /** Starts the drain (what the first signal does); later calls return the same outcome. */
  shutdown(reason = "requested"): Promise<number> {
    if (this.#started) return this.#done.promise;
    this.#started = true;
    void this.#drain(reason).then(this.#done.resolve, this.#done.reject);
    return this.#done.promise;
  }

  async #drain(reason: string): Promise<number> {
    const timeoutMs = this.#timeoutMs();
    this.#log("shutdown", { reason, timeoutMs, message: "stopped accepting; draining in-flight requests" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<true>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const drained = Promise.all(this.#servers.map((server) => server.shutdown())).then(() => false as const);
    const late = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (late) {
      this.#log("shutdown_timeout", { timeoutMs, message: "requests still running; exiting without them" });
    }
    await this.#cleanup();
    this.#log("shutdown_complete", { reason });
    return 0;
  }

  /** Removes the signal handlers. */
  [Symbol.dispose](): void {
    for (const [signal, handler] of this.#handlers) Deno.removeSignalListener(signal, handler);
    this.#handlers.clear();
  }
}
