import type { BalancerAlgorithm } from "../balancer/balancer.ts";
import type { ConfigReader } from "./config_reader.ts";
import type { ConfigPath } from "./yaml_source.ts";

/** `load_balancer:` of a pool. */
export interface LoadBalancerConfig {
  readonly algorithm: BalancerAlgorithm;
}

export const LOAD_BALANCER_KEYS = ["algorithm"];

const ALGORITHMS: readonly BalancerAlgorithm[] = ["round_robin"];

export function readLoadBalancer(value: unknown, reader: ConfigReader, path: ConfigPath): LoadBalancerConfig {
  const m = reader.mapping(value, path, LOAD_BALANCER_KEYS) ?? {};
  return {
    algorithm: reader.string(m.algorithm, [...path, "algorithm"], {
      default: "round_robin",
      oneOf: ALGORITHMS,
    }),
  };
}
