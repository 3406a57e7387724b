import type { Balancer, PickContext } from "./balancer.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { checkRandom, checkUpstreams } from "./random_available_index.ts";

export interface ConsistentHashOptions {
  /** Ring points per unit of weight (ketama uses 160). Integer ≥ 1. Default 160. */
  virtualNodes?: number;
  /** Upper bound on ring points; weights are scaled down to fit (each upstream keeps ≥ 1). Default 262,144. */
  maxRingSize?: number;
  /** Uniform random number in [0, 1), used for requests that carry no key. Default `Math.random`. */
  random?: () => number;
}

/**
 * Ring hash with virtual nodes (Karger et al.; ketama). Chosen over Maglev and rendezvous because:
 * - "fall to the next available" is natural: walk clockwise from the key's point. Because each
 *   upstream's points are scattered, a down upstream's keys spread over all the others, and marking an
 *   upstream unavailable maps keys exactly as removing it from the ring would — nobody else's keys move;
 * - weights are just point counts; and lookup is a binary search, O(log(points)) ≈ 18 steps for
 *   1,000 upstreams, well inside the 1 µs budget. Rendezvous is O(n) per pick (too slow at 1,000);
 *   Maglev is O(1) but its fallback order is not a per-key ranking and rebuilding its table on
 *   every availability change would make the balancer stateful.
 *
 * Removing one of N upstreams remaps only that upstream's keys (≈ 1/N); adding one takes ≈ 1/(N+1).
 * Points are placed by hashing `${upstream.id}#${i}`, and equal hashes are ordered by id, so the ring
 * does not depend on the order of the upstream list (stable across reloads).
 *
 * A request without `context.key` lands on a random point, i.e. weighted random.
 */
export class ConsistentHash implements Balancer {
  readonly #upstreams: readonly Upstream[];
  readonly #random: () => number;
  /** Sorted point hashes. */
  readonly #hashes: Uint32Array;
  /** Upstream index owning each point. */
  readonly #owners: Uint32Array;

  constructor(upstreams: readonly Upstream[], options: ConsistentHashOptions = {}) {
    this.#upstreams = checkUpstreams(upstreams, "ConsistentHash");
    const { virtualNodes = 160, maxRingSize = 262_144, random = Math.random } = options;
    if (!Number.isInteger(virtualNodes) || virtualNodes < 1) {
      throw new RangeError(`ConsistentHash: virtualNodes must be an integer ≥ 1, got ${virtualNodes}`);
    }
    if (!Number.isInteger(maxRingSize) || maxRingSize < 1) {
      throw new RangeError(`ConsistentHash: maxRingSize must be an integer ≥ 1, got ${maxRingSize}`);
    }
    this.#random = checkRandom(random, "ConsistentHash");

    const totalWeight = upstreams.reduce((sum, u) => sum + u.weight, 0);
    const scale = Math.min(1, maxRingSize / (virtualNodes * Math.max(1, totalWeight)));
    const counts = upstreams.map((u) => Math.max(1, Math.round(virtualNodes * u.weight * scale)));
    // Rank upstreams by id so ties between equal point hashes break the same way whatever the list order.
    const byId = upstreams.map((_, i) => i).sort((a, b) => compareIds(upstreams[a]!.id, upstreams[b]!.id));
    const rank = new Uint32Array(upstreams.length);
    byId.forEach((index, r) => {
      rank[index] = r;
    });
    // Pack (hash, rank) into one float: hash·2^20 + rank is exact below 2^53, and a typed-array sort of
    // plain numbers is far faster than sorting objects with a comparator.
    const size = counts.reduce((sum, c) => sum + c, 0);
    const packed = new Float64Array(size);
    let p = 0;
    for (let i = 0; i < upstreams.length; i++) {
      const id = upstreams[i]!.id;
      for (let v = 0; v < counts[i]!; v++) packed[p++] = hash32(`${id}#${v}`) * RANK_SPACE + rank[i]!;
    }
    packed.sort();
    this.#hashes = new Uint32Array(size);
    this.#owners = new Uint32Array(size);
    for (let j = 0; j < size; j++) {
      const value = packed[j]!;
      const r = value % RANK_SPACE;
      this.#hashes[j] = (value - r) / RANK_SPACE;
      this.#owners[j] = byId[r]!;
    }
  }

  /** Number of points on the ring. */
  get ringSize(): number {
    return this.#hashes.length;
  }

  pick(context?: PickContext): Upstream | undefined {
    const hashes = this.#hashes;
    const size = hashes.length;
    if (size === 0) return undefined;
    const key = context?.key;
    const target = key === undefined ? Math.floor(this.#random() * 2 ** 32) >>> 0 : hash32(key);
    // First point at or after target, wrapping past the end to the start of the ring.
    let lo = 0;
    let hi = size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hashes[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    const list = this.#upstreams;
    const owners = this.#owners;
    let at = lo === size ? 0 : lo;
    for (let step = 0; step < size; step++) {
      // After walking past as many points as there are upstreams, make sure somebody is up at all, so a
      // total outage costs O(n) per pick rather than O(ring size).
      if (step === list.length && !list.some((u) => u.available)) return undefined;
      const upstream = list[owners[at]!]!;
      if (upstream.available) return upstream;
      at = at + 1 === size ? 0 : at + 1;
    }
    return undefined;
  }
}

/** Room for the upstream rank below the hash in a packed ring point (supports 2^20 upstreams). */
const RANK_SPACE = 2 ** 20;

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** FNV-1a over UTF-16 code units, finished with murmur3's fmix32 so similar keys spread over the ring. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
