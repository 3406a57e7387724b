import type { Balancer } from "./balancer.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { checkUpstreams } from "./random_available_index.ts";

export interface WeightedRoundRobinOptions {
  /**
   * Longest precomputed schedule (in slots, after dividing the weights by their gcd). Pools whose
   * schedule would be longer run nginx's O(n) loop on every pick instead. Integer ≥ 0; 0 always runs
   * the loop. Default 65,536.
   */
  maxScheduleLength?: number;
}

/** Schedules are built by running the O(n) loop once per slot; cap that construction work too. */
const MAX_BUILD_STEPS = 1 << 24;

/**
 * Smooth weighted round robin as in nginx (`ngx_http_upstream_get_peer`): every pick adds each
 * weight to a running score, takes the highest score and subtracts the total. Weights 5,1,1 give
 * `a a b a c a a`: heavy upstreams are interleaved, not sent in bursts.
 *
 * The sequence is periodic, so it is computed once at construction and picks walk it in O(1).
 * Unavailable upstreams' slots are skipped; every available slot is still taken once per period, so
 * the remaining upstreams keep exactly their weight ratio. When the schedule would be too long the
 * nginx loop itself runs per pick (O(n)); it skips unavailable upstreams the way nginx does.
 */
export class WeightedRoundRobin implements Balancer {
  readonly #upstreams: readonly Upstream[];
  /** Upstream index per slot, or undefined in loop mode. */
  readonly #schedule: Uint32Array | undefined;
  #cursor = 0;
  /** nginx's `current_weight` per upstream (loop mode only). */
  readonly #current: Float64Array;

  constructor(upstreams: readonly Upstream[], options: WeightedRoundRobinOptions = {}) {
    this.#upstreams = checkUpstreams(upstreams, "WeightedRoundRobin");
    const { maxScheduleLength = 65_536 } = options;
    if (!Number.isInteger(maxScheduleLength) || maxScheduleLength < 0) {
      throw new RangeError(
        `WeightedRoundRobin: maxScheduleLength must be an integer ≥ 0, got ${maxScheduleLength}`,
      );
    }
    const n = upstreams.length;
    this.#current = new Float64Array(n);
    const divisor = upstreams.reduce((g, u) => gcd(g, u.weight), 0) || 1;
    const weights = upstreams.map((u) => u.weight / divisor);
    const period = weights.reduce((sum, w) => sum + w, 0);
    if (n > 0 && period <= maxScheduleLength && period * n <= MAX_BUILD_STEPS) {
      this.#schedule = buildSchedule(weights, period);
    }
  }

  /** True when picks walk a precomputed schedule (O(1)); false when they run the O(n) loop. */
  get scheduled(): boolean {
    return this.#schedule !== undefined;
  }

  pick(): Upstream | undefined {
    return this.#schedule === undefined ? this.#pickByLoop() : this.#pickFromSchedule(this.#schedule);
  }

  #pickFromSchedule(schedule: Uint32Array): Upstream | undefined {
    const list = this.#upstreams;
    const length = schedule.length;
    // Walk at most n slots blind; if none was available, check the whole list once so a total outage
    // costs O(n) per pick rather than O(period).
    const n = list.length;
    let checkedList = false;
    for (let step = 0; step < length; step++) {
      if (step === n && !checkedList) {
        checkedList = true;
        if (!list.some((u) => u.available)) return undefined;
      }
      const index = schedule[this.#cursor]!;
      this.#cursor = this.#cursor + 1 === length ? 0 : this.#cursor + 1;
      const upstream = list[index]!;
      if (upstream.available) return upstream;
    }
    return undefined;
  }

  #pickByLoop(): Upstream | undefined {
    const list = this.#upstreams;
    const current = this.#current;
    let best = -1;
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      const upstream = list[i]!;
      if (!upstream.available) continue;
      current[i] = current[i]! + upstream.weight;
      total += upstream.weight;
      if (best === -1 || current[i]! > current[best]!) best = i;
    }
    if (best === -1) return undefined;
    current[best] = current[best]! - total;
    return list[best];
  }
}

function buildSchedule(weights: readonly number[], period: number): Uint32Array {
  const schedule = new Uint32Array(period);
  const current = new Float64Array(weights.length);
  for (let slot = 0; slot < period; slot++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] = current[i]! + weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best] = current[best]! - period;
    schedule[slot] = best;
  }
  return schedule;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
