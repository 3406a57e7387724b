import type { Balancer } from "./balancer.ts";
import type { Upstream } from "../upstream/upstream.ts";

/**
 * Plain rotation. Unavailable upstreams are skipped by advancing past them, so the cursor keeps
 * its place in the rotation (no skew towards the neighbour of a failed upstream beyond one turn).
 */
export class RoundRobin implements Balancer {
  readonly #upstreams: readonly Upstream[];
  #next = 0;

  constructor(upstreams: readonly Upstream[]) {
    this.#upstreams = upstreams;
  }

  pick(): Upstream | undefined {
    const list = this.#upstreams;
    const n = list.length;
    for (let i = 0; i < n; i++) {
      const index = this.#next;
      this.#next = index + 1 === n ? 0 : index + 1;
      const upstream = list[index]!;
      if (upstream.available) return upstream;
    }
    return undefined;
  }
}
