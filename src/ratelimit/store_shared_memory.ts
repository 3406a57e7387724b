import type { RateLimitStore } from "./rate_limit_store.ts";
import {
  type Decision,
  decisionFor,
  takeTokens,
  type TokenBucketPolicy,
  validateCost,
  validatePolicy,
} from "./token_bucket.ts";

/** Buckets per set: a take examines this many slots under one lock. */
export const SHARED_TABLE_WAYS = 8;

/** Header words (Int32): [0] sets, [1] ways, [2] evictions. Padded to 64 bytes (one cache line). */
const HEADER_BYTES = 64;
const SETS = 0;
const WAYS = 1;
const EVICTIONS = 2;

/**
 * The memory of one shared token-bucket table: a `SharedArrayBuffer` every worker isolate maps. It is plain
 * data (structured-cloneable), created once by the control plane per policy and posted to the workers.
 */
export interface SharedRateLimitTable {
  readonly buffer: SharedArrayBuffer;
}

/**
 * Allocates a table for at least `maxKeys` buckets: a power-of-two number of sets × {@link SHARED_TABLE_WAYS}
 * slots. Memory is fixed at creation: 28 bytes per slot (8 hash, 16 state, 4 per set for its lock).
 */
export function createSharedRateLimitTable(maxKeys: number): SharedRateLimitTable {
  if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 2 ** 26) {
    throw new RangeError(`maxKeys must be an integer between 1 and 2^26, got ${maxKeys}`);
  }
  let sets = 1;
  while (sets * SHARED_TABLE_WAYS < maxKeys) sets *= 2;
  const slots = sets * SHARED_TABLE_WAYS;
  const buffer = new SharedArrayBuffer(HEADER_BYTES + slots * 16 + slots * 8 + sets * 4);
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  header[SETS] = sets;
  header[WAYS] = SHARED_TABLE_WAYS;
  return { buffer };
}

/** Options for {@link SharedMemoryRateLimitStore}. */
export interface SharedMemoryRateLimitStoreOptions extends TokenBucketPolicy {
  /**
   * Clock in ms that every isolate sharing the table agrees on. Default `performance.timeOrigin +
   * performance.now()` (each isolate has its own `performance.now()` origin, so that alone would not do).
   */
  readonly now?: () => number;
  /**
   * What this store writes into a set's lock while it holds it (an integer ≥ 1; worker isolates pass their
   * worker id), so that {@link releaseSharedLocks} can free the locks of an isolate that was terminated
   * inside its few-instruction critical section. Default 1.
   */
  readonly owner?: number;
}

/** Frees every set lock `owner` holds (call only once that isolate is gone); returns how many. */
export function releaseSharedLocks(table: SharedRateLimitTable, owner: number): number {
  const header = new Int32Array(table.buffer, 0, HEADER_BYTES / 4);
  const sets = header[SETS]!;
  const slots = sets * header[WAYS]!;
  const locks = new Int32Array(table.buffer, HEADER_BYTES + slots * 24, sets);
  let released = 0;
  for (let set = 0; set < sets; set++) {
    if (Atomics.compareExchange(locks, set, owner, 0) === owner) released++;
  }
  return released;
}

/**
 * Token buckets in a `SharedArrayBuffer`, so every worker isolate takes from the same bucket and a limit
 * holds for the whole proxy rather than per worker.
 *
 * Layout: a set-associative table. A key is hashed (two 32-bit FNV/murmur-style mixes, 64 bits kept as its
 * tag) to one set of 8 slots; a take locks that set with `Atomics.compareExchange` (a spin lock held for a
 * few dozen instructions), finds the key's slot or claims one, runs the token-bucket step on the slot's
 * Float64 pair and unlocks. A new key takes an empty slot, else the slot of its set updated longest ago: a
 * bucket idle for `burst / rate` is full and indistinguishable from a fresh one, so reusing it loses
 * nothing; reusing a bucket that was not yet full counts as an eviction (its client gets a fresh burst).
 * Memory is fixed at creation (see {@link createSharedRateLimitTable}).
 *
 * Keys are stored as their 64-bit hash only: two keys with the same hash would share a bucket (odds about
 * n²/2⁶⁵ for n live keys).
 */
export class SharedMemoryRateLimitStore implements RateLimitStore {
  readonly policy: TokenBucketPolicy;
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #fullAfterMs: number;
  readonly #now: () => number;
  readonly #header: Int32Array;
  readonly #hashes: Int32Array;
  readonly #state: Float64Array;
  readonly #locks: Int32Array;
  readonly #mask: number;
  readonly #ways: number;
  readonly #owner: number;

  constructor(table: SharedRateLimitTable, options: SharedMemoryRateLimitStoreOptions) {
    const { ratePerSecond, burst, now = () => performance.timeOrigin + performance.now(), owner = 1 } =
      options;
    validatePolicy({ ratePerSecond, burst });
    if (!Number.isInteger(owner) || owner < 1) {
      throw new RangeError(`owner must be an integer ≥ 1, got ${owner}`);
    }
    if (typeof now !== "function") throw new TypeError("now must be a function returning ms");
    const buffer = table.buffer;
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < HEADER_BYTES) {
      throw new TypeError("table must hold a SharedArrayBuffer made by createSharedRateLimitTable");
    }
    this.policy = Object.freeze({ ratePerSecond, burst });
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#fullAfterMs = burst / this.#ratePerMs;
    this.#now = now;
    this.#header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    const sets = this.#header[SETS]!;
    const ways = this.#header[WAYS]!;
    const slots = sets * ways;
    this.#state = new Float64Array(buffer, HEADER_BYTES, slots * 2);
    this.#hashes = new Int32Array(buffer, HEADER_BYTES + slots * 16, slots * 2);
    this.#locks = new Int32Array(buffer, HEADER_BYTES + slots * 24, sets);
    this.#mask = sets - 1;
    this.#ways = ways;
    this.#owner = owner;
  }

  /** Synchronous: never returns a Promise. */
  take(key: string, cost = 1): Decision {
    validateCost(cost, this.#burst);
    let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
    for (let i = 0; i < key.length; i++) {
      const ch = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    if (h1 === 0 && h2 === 0) h2 = 1; // (0, 0) marks an empty slot
    const set = (h1 >>> 0) & this.#mask;
    const locks = this.#locks;
    while (
      Atomics.compareExchange(locks, set, 0, this.#owner) !== 0
    ) { /* another isolate holds the set: spin */ }
    const hashes = this.#hashes;
    const state = this.#state;
    const now = this.#now();
    const first = set * this.#ways;
    let slot = -1;
    let victim = first;
    let victimAt = Infinity;
    for (let s = first; s < first + this.#ways; s++) {
      const a = hashes[s * 2]!, b = hashes[s * 2 + 1]!;
      if (a === h1 && b === h2) {
        slot = s;
        break;
      }
      const at = a === 0 && b === 0 ? -Infinity : state[s * 2 + 1]!;
      if (at < victimAt) {
        victim = s;
        victimAt = at;
      }
    }
    if (slot === -1) {
      slot = victim;
      if (victimAt !== -Infinity && now - victimAt < this.#fullAfterMs) {
        Atomics.add(this.#header, EVICTIONS, 1);
      }
      hashes[slot * 2] = h1;
      hashes[slot * 2 + 1] = h2;
      state[slot * 2] = this.#burst;
      state[slot * 2 + 1] = now;
    }
    const allowed = takeTokens(state, slot * 2, now, cost, this.#ratePerMs, this.#burst);
    const tokens = state[slot * 2]!;
    Atomics.store(locks, set, 0);
    return decisionFor(allowed, tokens, cost, this.#ratePerMs, this.#burst);
  }

  /** Buckets not yet full again (a scan of the whole table: for metrics, not per request). */
  get size(): number {
    const now = this.#now();
    let count = 0;
    for (let s = 0; s < this.#state.length / 2; s++) {
      const used = this.#hashes[s * 2] !== 0 || this.#hashes[s * 2 + 1] !== 0;
      if (used && now - this.#state[s * 2 + 1]! < this.#fullAfterMs) count++;
    }
    return count;
  }

  /** Slots in the table (fixed at creation). */
  get capacity(): number {
    return this.#state.length / 2;
  }

  /** Buckets that were not yet full when a new key took their slot, across every isolate. */
  get evictions(): number {
    return Atomics.load(this.#header, EVICTIONS);
  }
}
