import type { Balancer } from "./balancer.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { checkRandom, checkUpstreams, randomIndex } from "./random_available_index.ts";

export interface LeastConnectionsOptions {
  /** Uniform random number in [0, 1) used to break ties. Default `Math.random`. */
  random?: () => number;
}

/**
 * Picks the available upstream with the fewest in-flight requests per unit of weight
 * (`inFlight / weight`), breaking ties uniformly at random so idle pools do not all pile onto the
 * first upstream.
 *
 * O(n) per pick by nature: in-flight counts change on every request start and end, which the
 * balancer does not observe, so there is no index to keep sorted. For large pools prefer `p2c`,
 * which approximates this in O(1).
 */
export class LeastConnections implements Balancer {
  readonly #upstreams: readonly Upstream[];
  readonly #random: () => number;
  /** Indices of the upstreams tied for least loaded; reused so picks do not allocate. */
  readonly #ties: Int32Array;

  constructor(upstreams: readonly Upstream[], options: LeastConnectionsOptions = {}) {
    this.#upstreams = checkUpstreams(upstreams, "LeastConnections");
    const { random = Math.random } = options;
    this.#random = checkRandom(random, "LeastConnections");
    this.#ties = new Int32Array(upstreams.length);
  }

  pick(): Upstream | undefined {
    const list = this.#upstreams;
    const ties = this.#ties;
    let count = 0;
    // Compare inFlight/weight by cross-multiplying: integers stay exact, so ties are real ties.
    let bestInFlight = 0;
    let bestWeight = 1;
    for (let i = 0; i < list.length; i++) {
      const upstream = list[i]!;
      if (!upstream.available) continue;
      const inFlight = upstream.inFlight;
      const weight = upstream.weight;
      if (count === 0) {
        bestInFlight = inFlight;
        bestWeight = weight;
        ties[count++] = i;
        continue;
      }
      const lhs = inFlight * bestWeight;
      const rhs = bestInFlight * weight;
      if (lhs < rhs) {
        bestInFlight = inFlight;
        bestWeight = weight;
        count = 0;
        ties[count++] = i;
      } else if (lhs === rhs) {
        ties[count++] = i;
      }
    }
    if (count === 0) return undefined;
    return list[ties[count === 1 ? 0 : randomIndex(count, this.#random)]!];
  }
}
