import type { Balancer, BalancerAlgorithm } from "./balancer.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { ConsistentHash } from "./consistent_hash.ts";
import { Ewma } from "./ewma.ts";
import { LeastConnections } from "./least_connections.ts";
import { P2C } from "./p2c.ts";
import { Random } from "./random.ts";
import { RoundRobin } from "./round_robin.ts";
import { WeightedRoundRobin } from "./weighted_round_robin.ts";

/** Every option any algorithm takes; each algorithm reads only its own. */
export interface BalancerOptions {
  /** Uniform random number in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Clock in ms for `ewma`; the same clock the forwarder passes to `observeLatency`. Default `performance.now`. */
  now?: () => number;
  /** `consistent_hash`: ring points per unit of weight. Default 160. */
  virtualNodes?: number;
}

/** The algorithm names, for config validation. */
export const BALANCER_ALGORITHMS: readonly BalancerAlgorithm[] = [
  "round_robin",
  "weighted_round_robin",
  "least_connections",
  "random",
  "p2c",
  "ewma",
  "consistent_hash",
];

/** Builds the balancer named by `algorithm` over `upstreams`. */
export function createBalancer(
  algorithm: BalancerAlgorithm,
  upstreams: readonly Upstream[],
  options: BalancerOptions = {},
): Balancer {
  const { random, now, virtualNodes } = options;
  const withRandom = random === undefined ? {} : { random };
  switch (algorithm) {
    case "round_robin":
      return new RoundRobin(upstreams);
    case "weighted_round_robin":
      return new WeightedRoundRobin(upstreams);
    case "least_connections":
      return new LeastConnections(upstreams, withRandom);
    case "random":
      return new Random(upstreams, withRandom);
    case "p2c":
      return new P2C(upstreams, withRandom);
    case "ewma":
      return new Ewma(upstreams, now === undefined ? withRandom : { ...withRandom, now });
    case "consistent_hash":
      return new ConsistentHash(
        upstreams,
        virtualNodes === undefined ? withRandom : { ...withRandom, virtualNodes },
      );
    default: {
      const unknown: never = algorithm;
      throw new TypeError(`Unknown load balancing algorithm: ${String(unknown)}`);
    }
  }
}
