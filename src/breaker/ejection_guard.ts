import type { Upstream } from "../upstream/upstream.ts";

/**
 * Pool-level limits on passive ejection, after Envoy's outlier detection
 * (`max_ejection_percent`) and load-balancer panic threshold.
 *
 * - **Max ejection.** Every circuit breaker of a pool shares one guard and asks {@linkcode tryEject}
 *   before it opens. If opening would eject more than `maxEjectionPercent` of the pool, the breaker
 *   stays closed: a correlated failure (a bad deploy, a shared database down) must not take the
 *   whole pool out of rotation because of the breakers alone. As in Envoy, at least one upstream
 *   may always be ejected unless the percent is 0 (which disables ejection).
 * - **Panic.** When fewer than `panicThresholdPercent` of the pool are `available` (health checks
 *   and breakers combined), sending everything to the few survivors would overload them, and the
 *   failed ones may be only partly broken. In panic the forwarder ignores `available` and spreads
 *   requests over the whole pool with {@linkcode pickPanic}; the breakers do not gate those requests.
 *
 * Pure module: no timers, no I/O.
 */
export interface EjectionGuardOptions {
  /** Most of the pool that breakers may hold open at once, in percent (0–100). Default 50. */
  maxEjectionPercent?: number;
  /** Panic when fewer than this percent of the pool is available (0–100; 0 disables). Default 50. */
  panicThresholdPercent?: number;
}

export class EjectionGuard {
  readonly #upstreams: readonly Upstream[];
  readonly #maxEjected: number;
  readonly #panicThresholdPercent: number;
  #ejected = 0;
  #next = 0;

  constructor(upstreams: readonly Upstream[], options: EjectionGuardOptions = {}) {
    const { maxEjectionPercent = 50, panicThresholdPercent = 50 } = options;
    checkPercent("maxEjectionPercent", maxEjectionPercent);
    checkPercent("panicThresholdPercent", panicThresholdPercent);
    this.#upstreams = upstreams;
    this.#maxEjected = maxEjectionPercent === 0
      ? 0
      : Math.max(1, Math.floor((upstreams.length * maxEjectionPercent) / 100));
    this.#panicThresholdPercent = panicThresholdPercent;
  }

  /** How many upstreams breakers may hold open at once. */
  get maxEjected(): number {
    return this.#maxEjected;
  }

  /** How many upstreams breakers hold open (or half-open) right now. */
  get ejected(): number {
    return this.#ejected;
  }

  /** A breaker calls this before opening; false means "stay closed, the pool cannot spare you". */
  tryEject(): boolean {
    if (this.#ejected >= this.#maxEjected) return false;
    this.#ejected++;
    return true;
  }

  /** A breaker calls this when it closes again (pairs with a successful {@linkcode tryEject}). */
  restore(): void {
    if (this.#ejected > 0) this.#ejected--;
  }

  /** Upstreams of the pool whose `available` is true. O(pool size), allocation-free. */
  get availableCount(): number {
    let count = 0;
    for (const upstream of this.#upstreams) if (upstream.available) count++;
    return count;
  }

  /** True when too few upstreams are available and traffic should go to all of them. */
  get panic(): boolean {
    const n = this.#upstreams.length;
    if (n === 0 || this.#panicThresholdPercent === 0) return false;
    return this.availableCount * 100 < n * this.#panicThresholdPercent;
  }

  /** Round robin over the whole pool, ignoring `available`: the route to use while in panic. */
  pickPanic(): Upstream | undefined {
    const n = this.#upstreams.length;
    if (n === 0) return undefined;
    const index = this.#next;
    this.#next = index + 1 === n ? 0 : index + 1;
    return this.#upstreams[index];
  }
}

function checkPercent(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0 || value > 100) {
    throw new RangeError(`EjectionGuard ${name} must be a number from 0 to 100, got ${value}`);
  }
}
