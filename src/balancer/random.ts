import type { Balancer } from "./balancer.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { checkRandom, checkUpstreams, randomIndex } from "./random_available_index.ts";

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
 * O(1) when weights are equal, O(log n) otherwise (binary search over cumulative weights). An
 * unavailable draw is redrawn, which keeps the result exactly proportional to weight among the
 * available upstreams; after a few misses an O(n) pass over the available ones decides.
 */
export class Random implements Balancer {
  readonly #upstreams: readonly Upstream[];
  readonly #random: () => number;
  /** Cumulative weights: cumulative[i] = weight[0] + … + weight[i]; undefined when all are equal. */
  readonly #cumulative: Float64Array | undefined;
  readonly #total: number;

  constructor(upstreams: readonly Upstream[], options: RandomOptions = {}) {
    this.#upstreams = checkUpstreams(upstreams, "Random");
    const { random = Math.random } = options;
    this.#random = checkRandom(random, "Random");
    const uniform = upstreams.every((u) => u.weight === upstreams[0]!.weight);
    let total = 0;
    if (!uniform) {
      this.#cumulative = new Float64Array(upstreams.length);
      upstreams.forEach((u, i) => this.#cumulative![i] = total += u.weight);
    }
    this.#total = total;
  }

  pick(): Upstream | undefined {
    const list = this.#upstreams;
    const n = list.length;
    if (n === 0) return undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const upstream = list[this.#draw()]!;
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

  #draw(): number {
    const cumulative = this.#cumulative;
    if (cumulative === undefined) return randomIndex(this.#upstreams.length, this.#random);
    const target = this.#random() * this.#total;
    // First index whose cumulative weight exceeds target.
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
