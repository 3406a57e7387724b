import type { Balancer } from "./balancer.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { checkRandom, checkUpstreams, randomAvailableIndex } from "./random_available_index.ts";

export interface P2COptions {
  /** Uniform random number in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * Power of two choices (Mitzenmacher): draw two distinct available upstreams uniformly at random and
 * take the one with fewer in-flight requests per unit of weight (plain `inFlight` when weights are
 * equal). Nearly as good as least-connections at O(1) per pick, and it avoids the herd effect of
 * every proxy instance choosing the same "least loaded" upstream at once. On a tie the first draw
 * wins, which is itself random.
 */
export class P2C implements Balancer {
  readonly #upstreams: readonly Upstream[];
  readonly #random: () => number;
  readonly #scratch: Int32Array;

  constructor(upstreams: readonly Upstream[], options: P2COptions = {}) {
    this.#upstreams = checkUpstreams(upstreams, "P2C");
    const { random = Math.random } = options;
    this.#random = checkRandom(random, "P2C");
    this.#scratch = new Int32Array(upstreams.length);
  }

  pick(): Upstream | undefined {
    const list = this.#upstreams;
    const first = randomAvailableIndex(list, this.#random, -1, this.#scratch);
    if (first === -1) return undefined;
    const second = randomAvailableIndex(list, this.#random, first, this.#scratch);
    const a = list[first]!;
    if (second === -1) return a;
    const b = list[second]!;
    return b.inFlight * a.weight < a.inFlight * b.weight ? b : a;
  }
}
