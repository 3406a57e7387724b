import { RollingCounter } from "../breaker/rolling_counter.ts";

/**
 * Caps retries at a share of recent traffic, so that retries cannot multiply the load on an
 * already struggling pool (a "retry storm"). Modelled on Finagle's `RetryBudget` and Envoy's
 * `retry_budget`: retries over the window may reach `ratio × requests`, and at least
 * `minRetries`, so that a quiet service can still retry its rare failures.
 *
 * Pure module: time comes from the injected `now()`.
 */
export interface RetryBudgetOptions {
  /** Retries allowed per original request over the window, 0–1. Default 0.2 (20 %). */
  ratio?: number;
  /** Retries always allowed per window regardless of traffic; integer ≥ 0. Default 10. */
  minRetries?: number;
  /** Length of the rolling window, in ms. Default 10 000. */
  windowMs?: number;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
}

export class RetryBudget {
  readonly #ratio: number;
  readonly #minRetries: number;
  readonly #now: () => number;
  /** total = original requests, marked = retries. */
  readonly #window: RollingCounter;

  constructor(options: RetryBudgetOptions = {}) {
    const { ratio = 0.2, minRetries = 10, windowMs = 10_000, now = Date.now } = options;
    if (!(ratio >= 0 && ratio <= 1)) {
      throw new RangeError(`RetryBudget ratio must be from 0 to 1, got ${ratio}`);
    }
    if (!Number.isInteger(minRetries) || minRetries < 0) {
      throw new RangeError(`RetryBudget minRetries must be an integer ≥ 0, got ${minRetries}`);
    }
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new RangeError(`RetryBudget windowMs must be a positive number, got ${windowMs}`);
    }
    if (typeof now !== "function") throw new TypeError("RetryBudget now must be a function");
    this.#ratio = ratio;
    this.#minRetries = minRetries;
    this.#now = now;
    this.#window = new RollingCounter(windowMs);
  }

  /** Count one original (first-attempt) request. */
  recordRequest(): void {
    this.#window.add(this.#now(), 1, 0);
  }

  /** Retries still allowed in the current window. */
  get remaining(): number {
    const now = this.#now();
    const allowed = Math.max(this.#minRetries, Math.floor(this.#ratio * this.#window.total(now)));
    return Math.max(0, allowed - this.#window.marked(now));
  }

  /** Take one retry from the budget; false (and nothing taken) when it is spent. */
  tryRetry(): boolean {
    if (this.remaining < 1) return false;
    this.#window.add(this.#now(), 0, 1);
    return true;
  }
}
