import type { Upstream } from "../upstream/upstream.ts";

/**
 * The pool-level limit on passive ejection, after Envoy's outlier detection (`max_ejection_percent`).
 * Every circuit breaker of a pool shares one guard and asks {@linkcode tryEject} before it opens. If
 * opening would eject more than `maxEjectionPercent` of the pool, the breaker stays closed: a correlated
 * failure (a bad deploy, a shared database down) must not take the whole pool out of rotation because of
 * the breakers alone. As in Envoy, at least one upstream may always be ejected unless the percent is 0
 * (which disables ejection). (Panic mode lives in src/pool/upstream_selection.ts.)
 *
 * Pure module: no timers, no I/O.
 */
export interface EjectionGuardOptions {
  /** Most of the pool that breakers may hold open at once, in percent (0–100). Default 50. */
  maxEjectionPercent?: number;
}

export class EjectionGuard {
  readonly #maxEjected: number;
  #ejected = 0;

  constructor(upstreams: readonly Upstream[], options: EjectionGuardOptions = {}) {
    const { maxEjectionPercent = 50 } = options;
    checkPercent("maxEjectionPercent", maxEjectionPercent);
    this.#maxEjected = maxEjectionPercent === 0
      ? 0
      : Math.max(1, Math.floor((upstreams.length * maxEjectionPercent) / 100));
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
}

function checkPercent(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0 || value > 100) {
    throw new RangeError(`EjectionGuard ${name} must be a number from 0 to 100, got ${value}`);
  }
}
