import { Upstream } from "../../src/upstream/upstream.ts";

/** mulberry32: a small seeded PRNG so "random" tests are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Upstreams on loopback ports 3001…, with the given weights. */
export function upstreams(weights: readonly number[], backup = false): Upstream[] {
  return weights.map((weight, i) => new Upstream(`http://127.0.0.1:${3001 + i}`, { weight, backup }));
}

/** Port of an upstream, as a short label for sequences. */
export function port(upstream: Upstream | undefined): string {
  return upstream === undefined ? "none" : upstream.url.port;
}

/** Picks `count` times and counts picks per upstream id. */
export function tally(pick: () => Upstream | undefined, count: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const id = pick()?.id ?? "none";
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Marks upstream as having `n` requests in flight. */
export function load(upstream: Upstream, n: number): void {
  for (let i = 0; i < n; i++) upstream.acquire();
}
