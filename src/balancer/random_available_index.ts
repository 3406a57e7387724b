import type { Upstream } from "../upstream/upstream.ts";

/** Rejection-sampling attempts before falling back to an exact scan of the list. */
const ATTEMPTS = 4;

/**
 * Index of a uniformly random available upstream other than `exclude`, or -1 when there is none.
 *
 * A few O(1) draws are tried first (redrawing on an unavailable one keeps the result uniform over the
 * available upstreams); only when most of the list is down does it fall back to an O(n) scan that
 * collects the candidates into `scratch` (length ≥ `upstreams.length`, owned by the caller so the hot
 * path allocates nothing).
 */
export function randomAvailableIndex(
  upstreams: readonly Upstream[],
  random: () => number,
  exclude: number,
  scratch: Int32Array,
): number {
  const n = upstreams.length;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const index = randomIndex(n, random);
    if (index !== exclude && upstreams[index]!.available) return index;
  }
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (i !== exclude && upstreams[i]!.available) scratch[count++] = i;
  }
  return count === 0 ? -1 : scratch[randomIndex(count, random)]!;
}

/** `floor(random() * n)`, clamped so an injected `random` that returns 1 stays in range. */
export function randomIndex(n: number, random: () => number): number {
  const index = Math.floor(random() * n);
  return index >= n ? n - 1 : index < 0 ? 0 : index;
}

/** Throws a TypeError unless `random` is a function (shared validation for the `random` option). */
export function checkRandom(random: unknown, owner: string): () => number {
  if (typeof random !== "function") throw new TypeError(`${owner}: option "random" must be a function`);
  return random as () => number;
}

/** Throws a TypeError unless `upstreams` is an array of upstreams. */
export function checkUpstreams(upstreams: unknown, owner: string): readonly Upstream[] {
  if (!Array.isArray(upstreams)) throw new TypeError(`${owner}: upstreams must be an array`);
  return upstreams as readonly Upstream[];
}
