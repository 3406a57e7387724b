/**
 * Expected-status lists for health checks, written like `"200-399"` or `"200,204,300-399"`.
 */

/** Inclusive `[low, high]` pairs. */
export type StatusRanges = readonly (readonly [number, number])[];

/** Parse `"200,204,300-399"`; throws `RangeError` naming the bad part. */
export function parseStatusRanges(text: string): StatusRanges {
  const ranges: (readonly [number, number])[] = [];
  for (const raw of text.split(",")) {
    const part = raw.trim();
    const match = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(part);
    if (match === null) {
      throw new RangeError(`Invalid status range "${part}" in "${text}": expected e.g. 200 or 200-399`);
    }
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (low < 100 || high > 599 || low > high) {
      throw new RangeError(`Invalid status range "${part}" in "${text}": statuses are 100–599, low ≤ high`);
    }
    ranges.push([low, high]);
  }
  return ranges;
}

export function statusMatches(ranges: StatusRanges, status: number): boolean {
  for (const [low, high] of ranges) if (status >= low && status <= high) return true;
  return false;
}
