/**
 * Least-recently-used map bounded by entry count and by bytes (sizes given by the caller).
 *
 * Implementation: a `Map` for lookup plus an intrusive doubly linked list for recency, so get/set/delete
 * are O(1) without the delete-and-reinsert churn a Map-only LRU pays on every hit (bench/cache_bench.ts
 * compares both). Pure module: no timers, no I/O.
 */

/** Why an entry left the cache; passed to `onEvict` so owners can clean their indexes. */
export type EvictReason = "capacity" | "deleted" | "replaced" | "cleared";

export interface LruOptions<K, V> {
  /** Maximum number of entries; integer ≥ 1. Default 1000. */
  maxEntries?: number;
  /** Maximum sum of entry sizes in bytes; > 0. Default 64 MiB. */
  maxBytes?: number;
  /** Called after an entry is removed for any reason (not called by `set` when the value is rejected). */
  onEvict?: (key: K, value: V, reason: EvictReason) => void;
}

interface Node<K, V> {
  key: K;
  value: V;
  size: number;
  /** Towards the least recently used end. */
  prev: Node<K, V> | undefined;
  /** Towards the most recently used end. */
  next: Node<K, V> | undefined;
}

export const DEFAULT_MAX_ENTRIES = 1000;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export class Lru<K, V> {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly #map = new Map<K, Node<K, V>>();
  readonly #onEvict: ((key: K, value: V, reason: EvictReason) => void) | undefined;
  /** Least recently used. */
  #head: Node<K, V> | undefined;
  /** Most recently used. */
  #tail: Node<K, V> | undefined;
  #bytes = 0;

  constructor(options: LruOptions<K, V> = {}) {
    const { maxEntries = DEFAULT_MAX_ENTRIES, maxBytes = DEFAULT_MAX_BYTES, onEvict } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`Lru maxEntries must be an integer ≥ 1, got ${maxEntries}`);
    }
    if (!(maxBytes > 0) || !Number.isFinite(maxBytes)) {
      throw new RangeError(`Lru maxBytes must be a finite number > 0, got ${maxBytes}`);
    }
    if (onEvict !== undefined && typeof onEvict !== "function") {
      throw new TypeError("Lru onEvict must be a function");
    }
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    this.#onEvict = onEvict;
  }

  /** Number of entries. */
  get size(): number {
    return this.#map.size;
  }

  /** Sum of the sizes of all entries. */
  get bytes(): number {
    return this.#bytes;
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Returns the value and marks it most recently used. */
  get(key: K): V | undefined {
    const node = this.#map.get(key);
    if (node === undefined) return undefined;
    if (node !== this.#tail) {
      this.#unlink(node);
      this.#append(node);
    }
    return node.value;
  }

  /** Returns the value without touching recency. */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  /**
   * Inserts or replaces `key`, then evicts least recently used entries until both bounds hold.
   * Returns false (and stores nothing, removing any previous value) when `size` alone exceeds `maxBytes`.
   *
   * Hot path (bench/cache_bench.ts): a new key in a full cache reuses the evicted node instead of
   * allocating one, and a replaced key keeps its node, so steady-state churn allocates nothing.
   */
  set(key: K, value: V, size = 0): boolean {
    // One comparison pair rejects negatives, NaN and Infinity.
    if (!(size >= 0 && size <= Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`Lru entry size must be a finite number ≥ 0, got ${size}`);
    }
    const map = this.#map;
    const old = map.get(key);
    if (old !== undefined) {
      if (size > this.maxBytes) {
        this.#remove(old, "replaced");
        return false;
      }
      const oldValue = old.value;
      this.#bytes += size - old.size;
      old.value = value;
      old.size = size;
      if (old !== this.#tail) {
        this.#unlink(old);
        this.#append(old);
      }
      this.#onEvict?.(key, oldValue, "replaced");
    } else {
      if (size > this.maxBytes) return false;
      let node: Node<K, V>;
      const head = this.#head;
      if (map.size >= this.maxEntries && head !== undefined) {
        // Full by count: recycle the least recently used node for the new key.
        const evictedKey = head.key;
        const evictedValue = head.value;
        map.delete(evictedKey);
        this.#unlink(head);
        this.#bytes -= head.size;
        this.#onEvict?.(evictedKey, evictedValue, "capacity");
        node = head;
        node.key = key;
        node.value = value;
        node.size = size;
      } else {
        node = { key, value, size, prev: undefined, next: undefined };
      }
      map.set(key, node);
      this.#append(node);
      this.#bytes += size;
    }
    while (this.#bytes > this.maxBytes) {
      // The entry just set is the tail and fits on its own, so the head is never that entry here.
      this.#remove(this.#head!, "capacity");
    }
    return true;
  }

  delete(key: K): boolean {
    const node = this.#map.get(key);
    if (node === undefined) return false;
    this.#remove(node, "deleted");
    return true;
  }

  clear(): void {
    const onEvict = this.#onEvict;
    const nodes = onEvict === undefined ? [] : [...this.#map.values()];
    this.#map.clear();
    this.#head = this.#tail = undefined;
    this.#bytes = 0;
    for (const node of nodes) onEvict!(node.key, node.value, "cleared");
  }

  /** Keys from least to most recently used. Safe to `delete` while iterating a copy: `[...lru.keys()]`. */
  *keys(): IterableIterator<K> {
    for (let node = this.#head; node !== undefined; node = node.next) yield node.key;
  }

  /** Entries from least to most recently used, without touching recency. */
  *entries(): IterableIterator<[K, V]> {
    for (let node = this.#head; node !== undefined; node = node.next) yield [node.key, node.value];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  #remove(node: Node<K, V>, reason: EvictReason): void {
    this.#map.delete(node.key);
    this.#unlink(node);
    this.#bytes -= node.size;
    this.#onEvict?.(node.key, node.value, reason);
  }

  #unlink(node: Node<K, V>): void {
    const { prev, next } = node;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    node.prev = node.next = undefined;
  }

  #append(node: Node<K, V>): void {
    const tail = this.#tail;
    node.prev = tail;
    node.next = undefined;
    if (tail === undefined) this.#head = node;
    else tail.next = node;
    this.#tail = node;
  }
}
