/**
 * One backend server. Health and breaker state live here, so balancers only ask `available`
 * (Caddy's `Upstream.Available()`); the forwarder reports in-flight counts and latency.
 *
 * Pure module: no Hono, no Deno network APIs.
 */

/** A gate's state, in the circuit breaker's names. */
export type GateState = "closed" | "open" | "half_open";

/**
 * Something that decides whether an upstream may take traffic right now and learns from the outcomes (the
 * circuit breaker). Wide enough that no caller needs to know which gate it holds.
 */
export interface AdmissionGate {
  /** True while requests may be sent (closed, or half-open with probe slots left). Reserves nothing. */
  readonly admits: boolean;
  readonly state: GateState;
  /** Milliseconds until an open gate lets requests through again; 0 when not open. For `Retry-After`. */
  readonly retryAfterMs: number;
  /**
   * Call just before sending a request. True: the request counts (half-open: it took a probe slot), and
   * exactly one `recordSuccess`, `recordFailure` or `release` must follow. False: the gate refuses it.
   */
  reserve(): boolean;
  recordSuccess(): void;
  recordFailure(): void;
  /** Gives a reservation back without a verdict (the outcome says nothing about the upstream). */
  release(): void;
}

export interface UpstreamOptions {
  /** Relative share of traffic for weighted algorithms; integer ≥ 1. Default 1. */
  weight?: number;
  /** A backup receives traffic only when every primary of its pool is unavailable. Default false. */
  backup?: boolean;
}

/** Upstream connections of the HTTP/1.1 transport, kept here so the totals carry over a reload. */
export interface ConnectionStats {
  /** Open and waiting in a pool's idle list. */
  idle: number;
  /** Open and carrying an exchange (connecting included once connected). */
  active: number;
  /** Connections opened, ever. */
  opened: number;
  /** Exchanges sent on a connection that served one before. */
  reused: number;
  /** 1xx interim responses read and skipped. */
  interim: number;
}

/**
 * An in-flight count kept outside this object: with `server.workers` > 1 a cell in shared memory, so
 * `least_connections` and friends see the requests of every worker isolate.
 */
export interface InFlightCounter {
  acquire(): void;
  release(): void;
  readonly count: number;
}

/** Peak-EWMA decay time: how quickly old latency observations fade (Finagle/Linkerd use 10 s). */
const EWMA_DECAY_MS = 10_000;

export class Upstream {
  /** Parsed base URL, e.g. `http://127.0.0.1:3001/`. */
  readonly url: URL;
  /** Stable identity: the normalized URL string without a trailing slash. Used as metrics label and map key. */
  readonly id: string;
  readonly weight: number;
  readonly backup: boolean;
  readonly connections: ConnectionStats = { idle: 0, active: 0, opened: 0, reused: 0, interim: 0 };

  #inFlight = 0;
  #sharedInFlight: InFlightCounter | undefined;
  #healthy = true;
  #gate: AdmissionGate | undefined;
  #ewmaMs = 0;
  #ewmaAt = 0;
  #onAvailabilityChange: (() => void) | undefined;

  constructor(url: string | URL, options: UpstreamOptions = {}) {
    const { weight = 1, backup = false } = options;
    if (!Number.isInteger(weight) || weight < 1) {
      throw new RangeError(`Upstream weight must be an integer ≥ 1, got ${weight}`);
    }
    this.url = new URL(url);
    if (this.url.protocol !== "http:" && this.url.protocol !== "https:") {
      throw new TypeError(`Upstream URL must be http(s): ${this.url.href}`);
    }
    this.id = this.url.href.replace(/\/$/, "");
    this.weight = weight;
    this.backup = backup;
  }

  /** True when the upstream may be picked: healthy (active/passive checks) and admitted by its breaker. */
  get available(): boolean {
    return this.#healthy && (this.#gate?.admits ?? true);
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Set by the health checker (or passive outlier detection). */
  setHealthy(healthy: boolean): void {
    if (this.#healthy === healthy) return;
    this.#healthy = healthy;
    this.#onAvailabilityChange?.();
  }

  /** Attach the breaker (or any gate) that decides admission. */
  setGate(gate: AdmissionGate | undefined): void {
    this.#gate = gate;
    this.#onAvailabilityChange?.();
  }

  /** The gate's owner calls this when the gate changes state (a breaker opening, going half-open, closing). */
  gateChanged(): void {
    this.#onAvailabilityChange?.();
  }

  /**
   * Told when `available` may have changed (health verdict, gate attached or changed state); one listener, the
   * pool's upstream selection (a reload's new pool replaces the old one's).
   */
  onAvailabilityChange(listener: (() => void) | undefined): void {
    this.#onAvailabilityChange = listener;
  }

  get gate(): AdmissionGate | undefined {
    return this.#gate;
  }

  /** Requests currently being forwarded to this upstream (by every worker once {@linkcode shareInFlight} ran). */
  get inFlight(): number {
    return this.#sharedInFlight === undefined ? this.#inFlight : this.#sharedInFlight.count;
  }

  /** Call when a request to this upstream starts; pair with {@linkcode release}. */
  acquire(): void {
    if (this.#sharedInFlight === undefined) this.#inFlight++;
    else this.#sharedInFlight.acquire();
  }

  release(): void {
    if (this.#sharedInFlight !== undefined) this.#sharedInFlight.release();
    else if (this.#inFlight > 0) this.#inFlight--;
  }

  /** Counts in-flight requests in `counter` from now on (worker isolates, before the first request). */
  shareInFlight(counter: InFlightCounter): void {
    this.#sharedInFlight = counter;
  }

  /** True once {@linkcode shareInFlight} ran. */
  get sharesInFlight(): boolean {
    return this.#sharedInFlight !== undefined;
  }

  /** Peak-EWMA of response time in ms (0 until the first observation). */
  latencyEwmaMs(now: number): number {
    if (this.#ewmaAt === 0) return 0;
    const decay = Math.exp(-(now - this.#ewmaAt) / EWMA_DECAY_MS);
    return this.#ewmaMs * decay;
  }

  /**
   * Report one response's latency. Peak-sensitive: a slower observation replaces the average at once,
   * a faster one is blended in by time-based decay.
   */
  observeLatency(ms: number, now: number): void {
    if (this.#ewmaAt === 0 || ms > this.#ewmaMs) {
      this.#ewmaMs = ms;
    } else {
      const w = Math.exp(-Math.max(0, now - this.#ewmaAt) / EWMA_DECAY_MS);
      this.#ewmaMs = this.#ewmaMs * w + ms * (1 - w);
    }
    this.#ewmaAt = now;
  }
}
