/**
 * `/stats` (the dashboard's JSON) with `server.workers` > 1: every worker's snapshot combined into one.
 * Counts add up; in-flight per upstream is already the shared total in each worker (the largest is taken);
 * latency percentiles cannot be merged from percentiles, so each is the largest of the workers' values (an
 * upper bound); a breaker shows the worst state any worker has (`open` > `half_open` > `closed`). Uptime and
 * the reload counts come from the control plane.
 */
import type { CircuitState, RouteStats, Stats, UpstreamStats } from "../metrics/stats_types.ts";

function maxOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

const SEVERITY: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

function worse(a: CircuitState | null, b: CircuitState | null): CircuitState | null {
  if (a === null) return b;
  if (b === null) return a;
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

function addRoute(into: RouteStats, r: RouteStats): void {
  into.requests += r.requests;
  into.errors5xx += r.errors5xx;
  into.retries += r.retries;
  into.rateLimited += r.rateLimited;
  into.p50Ms = maxOrNull(into.p50Ms, r.p50Ms);
  into.p99Ms = maxOrNull(into.p99Ms, r.p99Ms);
}

function addUpstream(into: UpstreamStats, u: UpstreamStats): void {
  into.up = into.up || u.up;
  into.breaker = worse(into.breaker, u.breaker);
  into.inFlight = Math.max(into.inFlight, u.inFlight);
  if (into.connections && u.connections) {
    into.connections.idle += u.connections.idle;
    into.connections.active += u.connections.active;
    into.connections.opened += u.connections.opened;
    into.connections.reused += u.connections.reused;
    into.connections.interim += u.connections.interim;
  } else into.connections ??= u.connections && { ...u.connections };
  into.requests += u.requests;
  into.errors += u.errors;
  into.p50Ms = maxOrNull(into.p50Ms, u.p50Ms);
  into.p99Ms = maxOrNull(into.p99Ms, u.p99Ms);
}

/** Combines worker snapshots (at least one) with the control plane's own (for uptime and reloads). */
export function mergeStats(workers: readonly Stats[], control: Stats): Stats {
  const routes = new Map<string, RouteStats>();
  const upstreams = new Map<string, UpstreamStats>();
  const merged: Stats = {
    uptimeSeconds: control.uptimeSeconds,
    generatedAtMs: control.generatedAtMs,
    totals: { requests: 0, errors5xx: 0, inFlight: 0, retries: 0, rateLimited: 0 },
    routes: [],
    upstreams: [],
    cache: null,
    rateLimit: null,
    websocketsOpen: 0,
    config: control.config,
  };
  for (const stats of workers) {
    merged.totals.requests += stats.totals.requests;
    merged.totals.errors5xx += stats.totals.errors5xx;
    merged.totals.inFlight += stats.totals.inFlight;
    merged.totals.retries += stats.totals.retries;
    merged.totals.rateLimited += stats.totals.rateLimited;
    merged.websocketsOpen += stats.websocketsOpen;
    for (const r of stats.routes) {
      const known = routes.get(r.name);
      if (known) addRoute(known, r);
      else routes.set(r.name, { ...r });
    }
    for (const u of stats.upstreams) {
      const key = `${u.pool}\n${u.id}`;
      const known = upstreams.get(key);
      if (known) addUpstream(known, u);
      else upstreams.set(key, { ...u, connections: u.connections && { ...u.connections } });
    }
    if (stats.cache) {
      const cache = merged.cache ??= { hits: 0, misses: 0, stale: 0, revalidated: 0, bypass: 0 };
      cache.hits += stats.cache.hits;
      cache.misses += stats.cache.misses;
      cache.stale += stats.cache.stale;
      cache.revalidated += stats.cache.revalidated;
      cache.bypass += stats.cache.bypass;
    }
    if (stats.rateLimit) (merged.rateLimit ??= { limited: 0 }).limited += stats.rateLimit.limited;
  }
  merged.routes = [...routes.values()];
  merged.upstreams = [...upstreams.values()];
  return merged;
}
