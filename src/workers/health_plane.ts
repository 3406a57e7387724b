import type { Config } from "../config/types.ts";
import { HealthChecker } from "../health/health_checker.ts";
import type { RuntimeLog } from "../pool/pool_runtime.ts";
import { Upstream } from "../upstream/upstream.ts";
import type { HealthState } from "./messages.ts";

/**
 * Active health checks for every worker, run once in the control plane: one `HealthChecker` per pool
 * with a `health_check` section, over upstream objects of its own. Each verdict change is logged once and
 * handed to `onChange` (which posts it to every worker); `snapshot()` is what a worker starting or
 * reloading applies first. Verdicts carry over a reload for upstreams whose URL stays in the pool.
 */
export class HealthPlane implements AsyncDisposable {
  readonly #checkers: HealthChecker[] = [];
  readonly #upstreams = new Map<string, { pool: string; upstream: Upstream }>();

  constructor(
    config: Config,
    options: { previous?: HealthPlane | undefined; log: RuntimeLog; onChange: (state: HealthState) => void },
  ) {
    const { previous, log, onChange } = options;
    for (const [name, pool] of config.pools) {
      const hc = pool.healthCheck;
      if (hc === undefined) continue;
      const upstreams = pool.backends.map((backend) => {
        const fresh = new Upstream(backend.url, { weight: backend.weight, backup: backend.backup });
        const key = `${name}\n${fresh.id}`;
        const upstream = (previous === undefined ? undefined : previous.#upstreams.get(key))?.upstream ??
          fresh;
        this.#upstreams.set(key, { pool: name, upstream });
        return upstream;
      });
      const checker = new HealthChecker(upstreams, {
        intervalMs: hc.intervalMs,
        timeoutMs: hc.timeoutMs,
        path: hc.path,
        expectedStatus: hc.expectedStatus,
        healthyThreshold: hc.healthyThreshold,
        unhealthyThreshold: hc.unhealthyThreshold,
        jitter: hc.jitter,
      });
      checker.onChange((upstream, healthy, reason) => {
        log("health_change", { pool: name, upstream: upstream.id, healthy, reason });
        onChange({ pool: name, upstream: upstream.id, healthy });
      });
      this.#checkers.push(checker);
    }
  }

  start(): this {
    for (const checker of this.#checkers) checker.start();
    return this;
  }

  /** Every checked upstream's current verdict. */
  snapshot(): HealthState[] {
    return [...this.#upstreams.values()].map(({ pool, upstream }) => ({
      pool,
      upstream: upstream.id,
      healthy: upstream.healthy,
    }));
  }

  /** Stops the timers at once (a successor may already be checking the same upstreams). */
  stop(): void {
    for (const checker of this.#checkers) checker[Symbol.dispose]();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#checkers.map((checker) => checker[Symbol.asyncDispose]()));
  }
}
