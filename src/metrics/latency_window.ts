/**
 * Percentiles over recent latency samples, for the `/stats` dashboard (not for Prometheus, where the
 * histogram lets the server compute quantiles over any window).
 *
 * A ring buffer of the last `size` samples with their timestamps: observing is two array writes, and
 * samples older than `windowMs` are skipped at read time, so a quiet upstream does not show stale
 * latencies forever. Reading copies and sorts (once a second for the dashboard).
 *
 * Pure module: time comes from the injected `now`.
 */

export interface LatencyWindowOptions {
  /** Samples kept, integer ≥ 1. Default 1024. */
  size?: number;
  /** Only samples at most this old (ms) count. Default 60_000. */
  windowMs?: number;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
}

export class LatencyWindow {
  readonly #values: Float64Array;
  readonly #times: Float64Array;
  readonly #windowMs: number;
  readonly #now: () => number;
  /** Next slot to write. */
  #next = 0;
  /** Slots written so far, capped at the size. */
  #filled = 0;

  constructor(options: LatencyWindowOptions = {}) {
    const { size = 1024, windowMs = 60_000, now = Date.now } = options;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`LatencyWindow size must be an integer ≥ 1, got ${size}`);
    }
    if (!(windowMs > 0)) throw new RangeError(`LatencyWindow windowMs must be > 0, got ${windowMs}`);
    if (typeof now !== "function") throw new TypeError("LatencyWindow now must be a function");
    this.#values = new Float64Array(size);
    this.#times = new Float64Array(size);
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /**
   * Records one latency in ms, taken at `atMs` (default `now()`; a caller recording into several windows
   * reads the clock once). NaN and negative values are ignored (a clock step, not a measurement).
   */
  observe(ms: number, atMs: number = this.#now()): void {
    if (!(ms >= 0)) return;
    this.#values[this.#next] = ms;
    this.#times[this.#next] = atMs;
    this.#next = this.#next + 1 === this.#values.length ? 0 : this.#next + 1;
    if (this.#filled < this.#values.length) this.#filled++;
  }

  /** Samples currently inside the window. */
  get count(): number {
    return this.#recent().length;
  }

  /**
   * Nearest-rank quantiles (each `q` in [0, 1]) over the samples inside the window, in the order asked;
   * `undefined` for each when the window is empty.
   */
  quantiles(qs: readonly number[]): (number | undefined)[] {
    for (const q of qs) {
      if (!(q >= 0 && q <= 1)) throw new RangeError(`Quantile must be in [0, 1], got ${q}`);
    }
    const recent = this.#recent().sort();
    if (recent.length === 0) return qs.map(() => undefined);
    return qs.map((q) => recent[Math.max(0, Math.ceil(q * recent.length) - 1)]);
  }

  /** One quantile; see {@linkcode quantiles}. */
  quantile(q: number): number | undefined {
    return this.quantiles([q])[0];
  }

  #recent(): Float64Array {
    const cutoff = this.#now() - this.#windowMs;
    const out = new Float64Array(this.#filled);
    let n = 0;
    for (let i = 0; i < this.#filled; i++) {
      if ((this.#times[i] as number) >= cutoff) out[n++] = this.#values[i] as number;
    }
    return out.subarray(0, n);
  }
}
