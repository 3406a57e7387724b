/**
 * Coarse timers for the request path. A `setTimeout` per request (plus its `clearTimeout`) is a measurable
 * share of a proxied request's cost, while deadlines of seconds do not need millisecond precision. One
 * interval per sweeper checks every tracked entry each `tickMs`; it runs only while entries exist (and one tick
 * longer), so an idle process holds no timer.
 *
 * Each entry has an expiry (`deadline`) and optionally a `watchAt` time: exchanges still pending then get
 * more expensive monitoring attached (see the forwarder), so only slow requests pay for it.
 */
export interface SweepEntry {
  /** performance.now() time at which `expire` runs. */
  deadline: number;
  expire(): void;
  /** performance.now() time at which `watch` runs once (if still tracked). */
  watchAt: number;
  watch: (() => void) | undefined;
}

export interface DeadlineSweeperOptions {
  /** Check interval, ms. Deadlines fire up to this late. Default 25. */
  tickMs?: number;
  now?: () => number;
}

export class DeadlineSweeper implements Disposable {
  readonly #entries = new Set<SweepEntry>();
  readonly #tickMs: number;
  readonly #now: () => number;
  #interval: ReturnType<typeof setInterval> | undefined;

  constructor(options: DeadlineSweeperOptions = {}) {
    const { tickMs = 25, now = () => performance.now() } = options;
    if (!(tickMs > 0)) throw new RangeError(`tickMs must be > 0, got ${tickMs}`);
    this.#tickMs = tickMs;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  track(entry: SweepEntry): void {
    this.#entries.add(entry);
    this.#interval ??= setInterval(() => this.sweep(), this.#tickMs);
  }

  /** Forgets an entry. The interval stops at the next sweep that finds nothing tracked, not here: under load
   * the set empties and refills between bursts, and a `clearInterval`/`setInterval` pair per burst cost more
   * than the sweep (bench/README.md). */
  untrack(entry: SweepEntry): void {
    this.#entries.delete(entry);
  }

  /** Runs due watches and expiries. Public so tests can drive it with an injected clock. */
  sweep(): void {
    if (this.#entries.size === 0) {
      if (this.#interval !== undefined) clearInterval(this.#interval);
      this.#interval = undefined;
      return;
    }
    const now = this.#now();
    for (const entry of this.#entries) {
      if (entry.deadline <= now) {
        this.untrack(entry);
        entry.expire();
      } else if (entry.watch !== undefined && entry.watchAt <= now) {
        const watch = entry.watch;
        entry.watch = undefined;
        watch();
      }
    }
  }

  [Symbol.dispose](): void {
    this.#entries.clear();
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
  }
}
