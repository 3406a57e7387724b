import type { Balancer } from "./balancer.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { checkRandom, checkUpstreams } from "./random_available_index.ts";

export interface RandomOptions {
  /** Uniform random number in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/** Rejection-sampling attempts before the exact O(n) fallback. */
const ATTEMPTS = 4;

/**
 * Random choice weighted by `Upstream.weight` (weight is "relative share of traffic", and with all
 * weights equal this is plain uniform random, so honouring it costs nothing and surprises no one).
 *
 * O(1) per pick: Walker's alias method (Vose's construction) turns the weights into a table where one
 * random number picks a column and, by its fraction, either the column's upstream or its alias. An
 * unavailable draw is redrawn, which keeps the result exactly proportional to weight among the
 * available upstreams; after a few misses an O(n) pass over the available ones decides.
 */
export class Random implements Balancer {
  readonly #upstreams: readonly Upstream[];
  readonly #random: () => number;
  /** Probability of keeping column i rather than taking alias[i]. */
  readonly #keep: Float64Array;
  readonly #alias: Int32Array;

  constructor(upstreams: readonly Upstream[], options: RandomOptions = {}) {
    this.#upstreams = checkUpstreams(upstreams, "Random");
    const { random = Math.random } = options;
    this.#random = checkRandom(random, "Random");
    const n = upstreams.length;
    this.#keep = new Float64Array(n);
    this.#alias = new Int32Array(n);
    const total = upstreams.reduce((sum, u) => sum + u.weight, 0);
    const scaled = upstreams.map((u) => (u.weight * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.#keep[s] = scaled[s]!;
      this.#alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    // Leftovers are 1 up to rounding error.
    for (const i of [...small, ...large]) {
      this.#keep[i] = 1;
      this.#alias[i] = i;
    }
  }

  pick(): Upstream | undefined {
    const list = this.#upstreams;
    const n = list.length;
    if (n === 0) return undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const upstream = list[this.#draw(n)]!;
      if (upstream.available) return upstream;
    }
    let total = 0;
    for (let i = 0; i < n; i++) if (list[i]!.available) total += list[i]!.weight;
    if (total === 0) return undefined;
    let target = this.#random() * total;
    let last: Upstream | undefined;
    for (let i = 0; i < n; i++) {
      const upstream = list[i]!;
      if (!upstream.available) continue;
      last = upstream;
      target -= upstream.weight;
      if (target < 0) return upstream;
    }
    return last; // only reached if random() returned 1
  }

  #draw(n: number): number {
    const r = this.#random() * n;
    const column = r >= n ? n - 1 : Math.floor(r);
    return r - column < this.#keep[column]! ? column : this.#alias[column]!;
  }
}
