/**
 * Request coalescing ("collapsed forwarding"): concurrent misses for one key share one upstream fetch.
 * The first caller (the leader) runs `fetch`; later callers wait for its result, at most `maxWaitMs`, then
 * fall back to fetching on their own so a slow origin cannot hold a queue hostage (nginx's
 * proxy_cache_lock_timeout does the same). The shared value should be plain data (e.g. the stored cache
 * entry, or undefined when the response was not storable and every waiter must fetch for itself): a
 * streaming Response body can be read only once.
 */

export interface RequestCoalescerOptions {
  /** Longest a follower waits for the leader, in ms; > 0. Default 10_000. */
  maxWaitMs?: number;
  /** Timer functions, injectable for tests. Default the globals. */
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (id: unknown) => void;
}

export type CoalescedResult<T> =
  /** This caller ran the fetch. */
  | { readonly role: "leader"; readonly value: T }
  /** This caller received the leader's value. */
  | { readonly role: "follower"; readonly value: T }
  /** The leader failed or was too slow; the caller must fetch on its own. */
  | { readonly role: "timeout" | "leader-failed" };

export class RequestCoalescer<T> {
  readonly maxWaitMs: number;
  readonly #inFlight = new Map<string, Promise<T>>();
  #waiting = 0;
  readonly #setTimeout: (callback: () => void, ms: number) => unknown;
  readonly #clearTimeout: (id: unknown) => void;

  constructor(options: RequestCoalescerOptions = {}) {
    const {
      maxWaitMs = 10_000,
      setTimeout = (callback: () => void, ms: number): unknown => globalThis.setTimeout(callback, ms),
      clearTimeout = (id: unknown): void => globalThis.clearTimeout(id as number),
    } = options;
    if (!(maxWaitMs > 0) || !Number.isFinite(maxWaitMs)) {
      throw new RangeError(`RequestCoalescer maxWaitMs must be a finite number > 0, got ${maxWaitMs}`);
    }
    this.maxWaitMs = maxWaitMs;
    this.#setTimeout = setTimeout;
    this.#clearTimeout = clearTimeout;
  }

  /** Followers currently waiting for a leader. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Keys with a fetch in flight. */
  get pending(): number {
    return this.#inFlight.size;
  }

  /**
   * Runs `fetch` unless one is already in flight for `key`. The leader sees its own errors thrown;
   * followers see `leader-failed` and retry themselves.
   */
  async run(key: string, fetch: () => Promise<T>): Promise<CoalescedResult<T>> {
    const existing = this.#inFlight.get(key);
    if (existing !== undefined) return await this.#follow(existing);
    const promise = (async () => await fetch())();
    this.#inFlight.set(key, promise);
    try {
      return { role: "leader", value: await promise };
    } finally {
      if (this.#inFlight.get(key) === promise) this.#inFlight.delete(key);
    }
  }

  /**
   * Split form of `run` for callers whose fetch outlives the call that starts it (a streamed miss: the
   * leader answers its client as soon as headers arrive, while the cache fill completes later). Returns
   * undefined when nothing is in flight for `key` (the caller should `lead`), else the follower's outcome.
   */
  follow(key: string): Promise<CoalescedResult<T>> | undefined {
    const existing = this.#inFlight.get(key);
    return existing === undefined ? undefined : this.#follow(existing);
  }

  /** Whether a fetch is in flight for `key`. */
  has(key: string): boolean {
    return this.#inFlight.has(key);
  }

  /** Registers `work` as the in-flight fetch for `key` until it settles (`follow` then finds it). */
  lead(key: string, work: Promise<T>): void {
    this.#inFlight.set(key, work);
    const done = () => {
      if (this.#inFlight.get(key) === work) this.#inFlight.delete(key);
    };
    work.then(done, done);
  }

  async #follow(leader: Promise<T>): Promise<CoalescedResult<T>> {
    let timer: unknown;
    this.#waiting++;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = this.#setTimeout(() => resolve("timeout"), this.maxWaitMs);
    });
    try {
      const outcome = await Promise.race([
        leader.then((value) => ({ value }), () => "leader-failed" as const),
        timeout,
      ]);
      if (outcome === "timeout" || outcome === "leader-failed") return { role: outcome };
      return { role: "follower", value: outcome.value };
    } finally {
      this.#waiting--;
      if (timer !== undefined) this.#clearTimeout(timer);
    }
  }
}
