import type { RateLimitStore } from "./rate_limit_store.ts";
import {
  type Decision,
  decisionFor,
  takeTokens,
  type TokenBucketPolicy,
  validateCost,
  validatePolicy,
} from "./token_bucket.ts";

/** Options for {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions extends TokenBucketPolicy {
  /** Most buckets kept; past it the least recently used is evicted. Default 100_000. */
  readonly maxKeys?: number;
  /** Monotonic clock in ms. Default `performance.now`. */
  readonly now?: () => number;
}

const NONE = -1;
/** Idle buckets examined per take; keeps the cleanup amortised and timer-free. */
const SWEEP_PER_TAKE = 2;

/**
 * Token buckets in process memory, bounded to `maxKeys`.
 *
 * Layout: a Map from key to slot number, and typed arrays indexed by slot for the bucket state
 * (tokens, updatedAtMs) and an intrusive doubly linked LRU list. A take allocates nothing but
 * its Decision, and 100k buckets cost a few MB rather than 100k objects.
 *
 * Every take moves its bucket to the front, so the list is ordered by last update time. A
 * bucket idle for `burst / rate` seconds is full, and a full bucket is indistinguishable from a
 * fresh one, so each take drops up to two such buckets from the tail: memory follows the set of
 * active clients without a timer. When the table is full of active buckets the least recently
 * used is evicted anyway (its client gets a fresh burst; counted in `evictions`).
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly policy: TokenBucketPolicy;
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #fullAfterMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;

  readonly #slots = new Map<string, number>();
  readonly #keys: (string | undefined)[];
  readonly #state: Float64Array;
  readonly #prev: Int32Array;
  readonly #next: Int32Array;
  #head = NONE;
  #tail = NONE;
  #used = 0;
  readonly #free: number[] = [];
  #evictions = 0;

  constructor(options: MemoryRateLimitStoreOptions) {
    const { ratePerSecond, burst, maxKeys = 100_000, now = () => performance.now() } = options;
    validatePolicy({ ratePerSecond, burst });
    if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 2 ** 28) {
      throw new RangeError(`maxKeys must be an integer between 1 and 2^28, got ${maxKeys}`);
    }
    if (typeof now !== "function") throw new TypeError("now must be a function returning ms");
    this.policy = Object.freeze({ ratePerSecond, burst });
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#fullAfterMs = burst / this.#ratePerMs;
    this.#maxKeys = maxKeys;
    this.#now = now;
    // Typed arrays are sized once: 24 bytes per slot (2.4 MB at 100k) buys a take without
    // allocation or resizing pauses; the Map and key strings grow with use.
    this.#keys = [];
    this.#state = new Float64Array(maxKeys * 2);
    this.#prev = new Int32Array(maxKeys);
    this.#next = new Int32Array(maxKeys);
  }

  /** Synchronous: never returns a Promise. */
  take(key: string, cost = 1): Decision {
    validateCost(cost, this.#burst);
    const now = this.#now();
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = this.#allocate(key, now);
    } else if (slot !== this.#head) {
      this.#unlink(slot);
      this.#pushFront(slot);
    }
    const allowed = takeTokens(this.#state, slot * 2, now, cost, this.#ratePerMs, this.#burst);
    const tokens = this.#state[slot * 2]!;
    this.#sweep(now);
    return decisionFor(allowed, tokens, cost, this.#ratePerMs, this.#burst);
  }

  /** Buckets currently held. */
  get size(): number {
    return this.#slots.size;
  }

  /** Active buckets dropped because the table was full (idle full buckets do not count). */
  get evictions(): number {
    return this.#evictions;
  }

  /** Drops every idle full bucket now (e.g. before reporting memory); returns how many. */
  prune(): number {
    return this.#sweep(this.#now(), Infinity);
  }

  #allocate(key: string, now: number): number {
    let slot: number;
    if (this.#free.length > 0) {
      slot = this.#free.pop()!;
    } else if (this.#used < this.#maxKeys) {
      slot = this.#used++;
    } else {
      slot = this.#tail;
      const idle = now - this.#state[slot * 2 + 1]! >= this.#fullAfterMs;
      if (!idle) this.#evictions++;
      this.#remove(slot);
      this.#free.pop();
    }
    this.#slots.set(key, slot);
    this.#keys[slot] = key;
    this.#state[slot * 2] = this.#burst;
    this.#state[slot * 2 + 1] = now;
    this.#pushFront(slot);
    return slot;
  }

  #sweep(now: number, limit = SWEEP_PER_TAKE): number {
    let dropped = 0;
    while (dropped < limit && this.#tail !== NONE && this.#tail !== this.#head) {
      const slot = this.#tail;
      if (now - this.#state[slot * 2 + 1]! < this.#fullAfterMs) break;
      this.#remove(slot);
      dropped++;
    }
    return dropped;
  }

  #remove(slot: number): void {
    this.#unlink(slot);
    this.#slots.delete(this.#keys[slot]!);
    this.#keys[slot] = undefined;
    this.#free.push(slot);
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot]!;
    const next = this.#next[slot]!;
    if (prev === NONE) this.#head = next;
    else this.#next[prev] = next;
    if (next === NONE) this.#tail = prev;
    else this.#prev[next] = prev;
  }

  #pushFront(slot: number): void {
    this.#prev[slot] = NONE;
    this.#next[slot] = this.#head;
    if (this.#head !== NONE) this.#prev[this.#head] = slot;
    this.#head = slot;
    if (this.#tail === NONE) this.#tail = slot;
  }
}
