import type { Runtime } from "../runtime.ts";

export interface PoolReadiness {
  readonly name: string;
  /**
   * Upstreams that may take traffic now: healthy, admitted by their breaker, and not known unreachable (an
   * upstream that never answered and whose last try was refused, reset or timed out does not count).
   */
  readonly available: number;
  readonly total: number;
}

export interface Readiness {
  /** True when every pool has at least one available upstream. */
  readonly ready: boolean;
  readonly config: string;
  readonly pools: readonly PoolReadiness[];
}

/** `/readyz`: a runtime exists (the config loaded) and each pool can serve. */
export function readiness(runtime: Runtime): Readiness {
  const pools: PoolReadiness[] = [];
  for (const pool of runtime.pools.values()) {
    let available = 0;
    for (const upstream of pool.upstreams) {
      if (upstream.available && upstream.contact !== "unreachable") available++;
    }
    pools.push({ name: pool.name, available, total: pool.upstreams.length });
  }
  return { ready: pools.every((p) => p.available > 0), config: runtime.config.source, pools };
}
