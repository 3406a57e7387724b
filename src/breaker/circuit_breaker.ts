import type { AdmissionGate, GateState } from "../upstream/upstream.ts";
import { RollingCounter } from "./rolling_counter.ts";

/**
 * Per-upstream circuit breaker, attached with `upstream.setGate(breaker)`.
 *
 * ```
 * closed ──(N consecutive failures, or failure ratio ≥ r over the window with ≥ M requests)──▶ open
 * open ──(open period elapsed; noticed lazily by `admits`/`state`/`reserve`)──▶ half_open
 * half_open ──(a probe succeeds)──▶ closed        half_open ──(a probe fails)──▶ open (longer)
 * ```
 *
 * The k-th consecutive opening lasts `baseOpenMs × 2^(k-1)`, capped at `maxOpenMs`, then spread by
 * ± `jitter` (and capped again, so `maxOpenMs` is a hard ceiling) so that upstreams tripped by
 * the same incident do not all come back in the same millisecond. k returns to 0 once the breaker
 * has stayed closed for `healthyResetMs`.
 *
 * The hot path (`admits`, `reserve`, `recordSuccess`, `recordFailure` while closed) allocates
 * nothing; only state changes call observers.
 *
 * Pure module: time and chance come from the injected `now()` and `random()`.
 */

export type CircuitState = GateState;

/** Called after every state change; must not throw (it runs inside the request path). */
export type CircuitStateListener = (to: CircuitState, from: CircuitState) => void;

/** What a breaker asks before opening; {@linkcode EjectionGuard} implements it for a pool. */
export interface EjectionPermit {
  tryEject(): boolean;
  restore(): void;
}

export interface CircuitBreakerOptions {
  /** Open after this many failures in a row; integer ≥ 0, 0 disables the rule. Default 5. */
  consecutiveFailures?: number;
  /** Open when failures / requests over the window reach this ratio; 0–1, 0 disables. Default 0.5. */
  failureRatio?: number;
  /** Length of the rolling window for the ratio rule, in ms. Default 10 000. */
  windowMs?: number;
  /** The ratio rule applies only with at least this many requests in the window. Default 20. */
  minimumRequests?: number;
  /** Length of the first opening, in ms. Default 5 000. */
  baseOpenMs?: number;
  /** Ceiling for the doubled opening, in ms. Default 300 000 (Envoy's `max_ejection_time`). */
  maxOpenMs?: number;
  /** Relative spread of each opening, 0–1 (0.1 = ± 10 %). Default 0.1. */
  jitter?: number;
  /** Requests let through at once while half-open. Default 1. */
  halfOpenProbes?: number;
  /** Closed this long (ms), the next opening starts again from `baseOpenMs`. Default 60 000. */
  healthyResetMs?: number;
  /** Pool-level limit consulted before opening (see `EjectionGuard`). */
  guard?: EjectionPermit;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
  /** Uniform [0, 1). Default `Math.random`. */
  random?: () => number;
}

export class CircuitBreaker implements AdmissionGate {
  readonly #consecutiveLimit: number;
  readonly #failureRatio: number;
  readonly #minimumRequests: number;
  readonly #baseOpenMs: number;
  readonly #maxOpenMs: number;
  readonly #jitter: number;
  readonly #halfOpenProbes: number;
  readonly #healthyResetMs: number;
  readonly #guard: EjectionPermit | undefined;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #window: RollingCounter;
  readonly #listeners: CircuitStateListener[] = [];

  #state: CircuitState = "closed";
  #consecutive = 0;
  #openings = 0;
  #openUntil = 0;
  #closedAt = -Infinity;
  #probesInFlight = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    const {
      consecutiveFailures = 5,
      failureRatio = 0.5,
      windowMs = 10_000,
      minimumRequests = 20,
      baseOpenMs = 5_000,
      maxOpenMs = 300_000,
      jitter = 0.1,
      halfOpenProbes = 1,
      healthyResetMs = 60_000,
      guard,
      now = Date.now,
      random = Math.random,
    } = options;
    checkInteger("consecutiveFailures", consecutiveFailures, 0);
    if (!(failureRatio >= 0 && failureRatio <= 1)) {
      throw new RangeError(`CircuitBreaker failureRatio must be from 0 to 1, got ${failureRatio}`);
    }
    checkPositive("windowMs", windowMs);
    checkInteger("minimumRequests", minimumRequests, 1);
    checkPositive("baseOpenMs", baseOpenMs);
    checkPositive("maxOpenMs", maxOpenMs);
    if (maxOpenMs < baseOpenMs) {
      throw new RangeError(`CircuitBreaker maxOpenMs (${maxOpenMs}) must be ≥ baseOpenMs (${baseOpenMs})`);
    }
    if (!(jitter >= 0 && jitter < 1)) {
      throw new RangeError(`CircuitBreaker jitter must be ≥ 0 and < 1, got ${jitter}`);
    }
    checkInteger("halfOpenProbes", halfOpenProbes, 1);
    if (!(healthyResetMs >= 0)) {
      throw new RangeError(`CircuitBreaker healthyResetMs must be ≥ 0, got ${healthyResetMs}`);
    }
    if (typeof now !== "function" || typeof random !== "function") {
      throw new TypeError("CircuitBreaker now and random must be functions");
    }
    this.#consecutiveLimit = consecutiveFailures;
    this.#failureRatio = failureRatio;
    this.#minimumRequests = minimumRequests;
    this.#baseOpenMs = baseOpenMs;
    this.#maxOpenMs = maxOpenMs;
    this.#jitter = jitter;
    this.#halfOpenProbes = halfOpenProbes;
    this.#healthyResetMs = healthyResetMs;
    this.#guard = guard;
    this.#now = now;
    this.#random = random;
    this.#window = new RollingCounter(windowMs);
  }

  /** Current state; an elapsed open period turns into half_open on read. */
  get state(): CircuitState {
    if (this.#state === "open") this.#refreshOpen();
    return this.#state;
  }

  /**
   * True while requests may be sent: closed, or half-open with a probe slot free. Balancers read
   * this through `upstream.available`; it does not reserve the slot (see {@linkcode reserve}).
   */
  get admits(): boolean {
    if (this.#state === "closed") return true;
    if (this.#state === "open" && !this.#refreshOpen()) return false;
    return this.#probesInFlight < this.#halfOpenProbes;
  }

  /** Milliseconds until the breaker goes half-open (0 unless open). For `Retry-After`. */
  get retryAfterMs(): number {
    if (this.#state !== "open") return 0;
    return Math.max(0, this.#openUntil - this.#now());
  }

  /** Consecutive openings so far (k); back to 0 after `healthyResetMs` closed. */
  get openings(): number {
    if (this.#state === "closed" && this.#now() - this.#closedAt >= this.#healthyResetMs) return 0;
    return this.#openings;
  }

  /** Requests sent as half-open probes and not yet settled. */
  get probesInFlight(): number {
    return this.#probesInFlight;
  }

  /**
   * Call just before actually sending a request to the upstream. Closed: always true. Half-open:
   * takes a probe slot and returns true, or false when all slots are taken. Open: false.
   * Every true must be followed by exactly one `recordSuccess`, `recordFailure` or `release`.
   */
  reserve(): boolean {
    if (this.#state === "closed") return true;
    if (this.#state === "open" && !this.#refreshOpen()) return false;
    if (this.#probesInFlight >= this.#halfOpenProbes) return false;
    this.#probesInFlight++;
    return true;
  }

  /** Give a reserved probe slot back without a verdict (e.g. the client went away first). */
  release(): void {
    if (this.#state === "half_open" && this.#probesInFlight > 0) this.#probesInFlight--;
  }

  recordSuccess(): void {
    if (this.#state === "closed") {
      this.#consecutive = 0;
      this.#window.add(this.#now(), 1, 0);
    } else if (this.#state === "half_open") {
      this.#close();
    }
    // While open: a late answer to a request sent before opening says nothing new; ignore it.
  }

  recordFailure(): void {
    if (this.#state === "closed") {
      const now = this.#now();
      this.#consecutive++;
      this.#window.add(now, 1, 1);
      if (this.#shouldTrip(now)) this.#trip(now);
    } else if (this.#state === "half_open") {
      this.#open(this.#now());
    }
  }

  /** Observe state changes; returns a function that removes the listener. */
  onStateChange(listener: CircuitStateListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners.indexOf(listener);
      if (index !== -1) this.#listeners.splice(index, 1);
    };
  }

  #shouldTrip(now: number): boolean {
    if (this.#consecutiveLimit > 0 && this.#consecutive >= this.#consecutiveLimit) return true;
    if (this.#failureRatio === 0) return false;
    const total = this.#window.total(now);
    return total >= this.#minimumRequests && this.#window.marked(now) >= this.#failureRatio * total;
  }

  #trip(now: number): void {
    // Refused by the pool: stay closed with the counters intact, so the next failure asks again.
    if (this.#guard !== undefined && !this.#guard.tryEject()) return;
    if (now - this.#closedAt >= this.#healthyResetMs) this.#openings = 0;
    this.#open(now);
  }

  #open(now: number): void {
    this.#openings++;
    const doubled = this.#baseOpenMs * 2 ** Math.min(this.#openings - 1, 52);
    const spread = 1 + this.#jitter * (2 * this.#random() - 1);
    const duration = Math.min(this.#maxOpenMs, Math.min(this.#maxOpenMs, doubled) * spread);
    this.#openUntil = now + duration;
    this.#probesInFlight = 0;
    this.#transition("open");
  }

  /** Moves open → half_open when the period has elapsed; true when no longer open. */
  #refreshOpen(): boolean {
    if (this.#now() < this.#openUntil) return false;
    this.#probesInFlight = 0;
    this.#transition("half_open");
    return true;
  }

  #close(): void {
    this.#consecutive = 0;
    this.#probesInFlight = 0;
    this.#window.clear();
    this.#closedAt = this.#now();
    this.#guard?.restore();
    this.#transition("closed");
  }

  #transition(to: CircuitState): void {
    const from = this.#state;
    this.#state = to;
    for (const listener of this.#listeners) listener(to, from);
  }
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`CircuitBreaker ${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

function checkPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`CircuitBreaker ${name} must be a positive number, got ${value}`);
  }
}
