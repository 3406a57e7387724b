/** Reads the live runtime's upstreams for metrics, `/stats`, `/readyz` and `/explain`. */
import type { CircuitState } from "../metrics/stats_types.ts";
import type { UpstreamSnapshot } from "../metrics/proxy_metrics.ts";
import type { Runtime } from "../runtime.ts";
import type { Upstream } from "../upstream/upstream.ts";

/** The breaker state of an upstream; an upstream without a gate is `closed`. */
export function circuitStateOf(upstream: Upstream): CircuitState {
  return upstream.gate?.state ?? "closed";
}

/**
 * One snapshot per distinct upstream of the runtime, pools in config order. An upstream URL listed in two
 * pools is reported once (first pool), so each metric series stays unique.
 */
export function upstreamSnapshots(runtime: Runtime): UpstreamSnapshot[] {
  const seen = new Set<string>();
  const out: UpstreamSnapshot[] = [];
  for (const pool of runtime.pools.values()) {
    for (const upstream of pool.upstreams) {
      if (seen.has(upstream.id)) continue;
      seen.add(upstream.id);
      out.push({
        id: upstream.id,
        pool: pool.name,
        healthy: upstream.healthy,
        inFlight: upstream.inFlight,
        breaker: circuitStateOf(upstream),
        connections: upstream.connections,
      });
    }
  }
  return out;
}
