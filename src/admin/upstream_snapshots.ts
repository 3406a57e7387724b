/** Reads the live runtime's upstreams for metrics, `/stats`, `/readyz` and `/explain`. */
import type { CircuitState } from "../metrics/stats_types.ts";
import type { UpstreamSnapshot } from "../metrics/proxy_metrics.ts";
import type { Runtime } from "../runtime.ts";
import type { Upstream } from "../upstream/upstream.ts";

const STATES: ReadonlySet<string> = new Set(["closed", "open", "half_open"]);

/**
 * The breaker state of an upstream. Its gate (the circuit breaker) is asked for a `state` in the breaker's
 * own names; a gate without one is `open` while it refuses and `closed` otherwise; no gate is `closed`.
 */
export function circuitStateOf(upstream: Upstream): CircuitState {
  const gate = upstream.gate;
  if (gate === undefined) return "closed";
  const state = (gate as { readonly state?: unknown }).state;
  if (typeof state === "string" && STATES.has(state)) return state as CircuitState;
  return gate.admits ? "closed" : "open";
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
