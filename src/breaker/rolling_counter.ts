/**
 * Two counters ("total" and "marked") summed over a sliding time window, kept in a fixed ring of
 * buckets so that recording allocates nothing. Used by the circuit breaker (requests / failures)
 * and the retry budget (requests / retries).
 *
 * The window slides one bucket at a time: with 10 buckets over 10 s, an event leaves the sum
 * between 9 and 10 s after it was recorded. That granularity is plenty for ratios over seconds.
 *
 * Pure module: time is passed in by the caller.
 */

export interface RollingCounterOptions {
  /** Number of buckets the window is divided into; integer ≥ 1. Default 10. */
  buckets?: number;
}

export class RollingCounter {
  readonly windowMs: number;
  readonly #bucketMs: number;
  readonly #size: number;
  readonly #totals: Float64Array;
  readonly #marked: Float64Array;
  /** Absolute bucket number each slot currently holds; NaN for a never-used slot. */
  readonly #epochs: Float64Array;

  constructor(windowMs: number, options: RollingCounterOptions = {}) {
    const { buckets = 10 } = options;
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new RangeError(`RollingCounter windowMs must be a positive number, got ${windowMs}`);
    }
    if (!Number.isInteger(buckets) || buckets < 1) {
      throw new RangeError(`RollingCounter buckets must be an integer ≥ 1, got ${buckets}`);
    }
    this.windowMs = windowMs;
    this.#size = buckets;
    this.#bucketMs = windowMs / buckets;
    this.#totals = new Float64Array(buckets);
    this.#marked = new Float64Array(buckets);
    this.#epochs = new Float64Array(buckets).fill(NaN);
  }

  /** Count `total` events at time `now`, `marked` of which are of interest (failures, retries). */
  add(now: number, total: number, marked: number): void {
    const epoch = Math.floor(now / this.#bucketMs);
    const slot = ((epoch % this.#size) + this.#size) % this.#size;
    if (this.#epochs[slot] !== epoch) {
      this.#epochs[slot] = epoch;
      this.#totals[slot] = 0;
      this.#marked[slot] = 0;
    }
    this.#totals[slot]! += total;
    this.#marked[slot]! += marked;
  }

  /** Sum of `total` over the window ending at `now`. */
  total(now: number): number {
    return this.#sum(this.#totals, now);
  }

  /** Sum of `marked` over the window ending at `now`. */
  marked(now: number): number {
    return this.#sum(this.#marked, now);
  }

  /** Forget everything (the breaker starts a fresh window when it closes). */
  clear(): void {
    this.#epochs.fill(NaN);
    this.#totals.fill(0);
    this.#marked.fill(0);
  }

  #sum(values: Float64Array, now: number): number {
    const oldest = Math.floor(now / this.#bucketMs) - this.#size;
    let sum = 0;
    for (let i = 0; i < this.#size; i++) {
      // NaN > oldest is false, so unused slots drop out on their own.
      if (this.#epochs[i]! > oldest) sum += values[i]!;
    }
    return sum;
  }
}
