import type { Balancer } from "./balancer.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { checkRandom, checkUpstreams, randomAvailableIndex } from "./random_available_index.ts";

export interface EwmaOptions {
  /** Uniform random number in [0, 1). Default `Math.random`. */
  random?: () => number;
  /**
   * Clock in ms; must be the same clock the forwarder passes to `Upstream.observeLatency`.
   * Default `performance.now` (monotonic).
   */
  now?: () => number;
}

/**
 * Peak-EWMA (Finagle, Linkerd, tower): cost = latency EWMA × (inFlight + 1), compared between two
 * random available upstreams (power of two choices), so a slow or queueing upstream loses traffic
 * quickly while it still gets the occasional probe. O(1) per pick.
 *
 * An upstream with no observation yet has latency 0 and so wins, which gets it measured; the
 * upstream's EWMA also decays towards 0 while idle (as in tower), so a recovered upstream is retried.
 * Equal costs (both unmeasured) fall back to comparing in-flight counts.
 */
export class Ewma implements Balancer {
  readonly #upstreams: readonly Upstream[];
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #scratch: Int32Array;

  constructor(upstreams: readonly Upstream[], options: EwmaOptions = {}) {
    this.#upstreams = checkUpstreams(upstreams, "Ewma");
    const { random = Math.random, now = () => performance.now() } = options;
    this.#random = checkRandom(random, "Ewma");
    if (typeof now !== "function") throw new TypeError(`Ewma: option "now" must be a function`);
    this.#now = now;
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
    const now = this.#now();
    const costA = a.latencyEwmaMs(now) * (a.inFlight + 1);
    const costB = b.latencyEwmaMs(now) * (b.inFlight + 1);
    if (costA !== costB) return costB < costA ? b : a;
    return b.inFlight < a.inFlight ? b : a;
  }
}
