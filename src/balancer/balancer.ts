import type { Upstream } from "../upstream/upstream.ts";

/** Per-request facts a balancer may use (hash key for consistent hashing). */
export interface PickContext {
  /** The value named by `load_balancer.hash_key` (client IP, header, cookie or path). */
  readonly key?: string;
}

/**
 * Chooses one upstream for a request. Implementations are pure: no timers, no I/O; time and
 * randomness are injected through their options. They consider only upstreams whose `available`
 * is true and return `undefined` when none is.
 */
export interface Balancer {
  pick(context?: PickContext): Upstream | undefined;
}

/** Names accepted in `load_balancer.algorithm`. */
export type BalancerAlgorithm =
  | "round_robin"
  | "weighted_round_robin"
  | "least_connections"
  | "random"
  | "p2c"
  | "ewma"
  | "consistent_hash";
