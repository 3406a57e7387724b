/**
 * The children of one labelled metric family, keyed by their label values.
 *
 * Label values normally come from config (route and upstream names), but a bug or a hostile input
 * must not grow memory without bound: past `maxSeries` distinct label sets, new ones fold into a
 * single series whose every label value is `"other"`.
 *
 * Pure module.
 */

/** The label value that excess series fold into. */
export const OVERFLOW_LABEL_VALUE = "other";

/**
 * Joins label values into a map key. NUL cannot appear in a label value (rejected on creation), so with
 * a fixed label count the join is injective and a hit never needs to compare the values again.
 */
const SEPARATOR = "\u0000";

export interface Series<T> {
  readonly child: T;
  readonly labelValues: readonly string[];
  /** The key the map sorts by: label values joined in label-name order. */
  readonly key: string;
}

export class SeriesMap<T> {
  readonly #metric: string;
  readonly #labelCount: number;
  readonly #maxSeries: number;
  readonly #create: (labelValues: readonly string[]) => T;
  readonly #series = new Map<string, Series<T>>();

  constructor(
    metric: string,
    options: { labelCount: number; maxSeries: number; create: (labelValues: readonly string[]) => T },
  ) {
    this.#metric = metric;
    this.#labelCount = options.labelCount;
    this.#maxSeries = options.maxSeries;
    this.#create = options.create;
  }

  /** Distinct series held, including the overflow series once it exists. */
  get size(): number {
    return this.#series.size;
  }

  /** The child for these label values, created on first use. Hot path: one join and one map lookup. */
  get(labelValues: readonly string[]): T {
    if (labelValues.length !== this.#labelCount) {
      throw new TypeError(
        `Metric ${this.#metric} takes ${this.#labelCount} label values, got ${labelValues.length}`,
      );
    }
    const key = this.#labelCount === 1 ? labelValues[0] as string : labelValues.join(SEPARATOR);
    const hit = this.#series.get(key);
    if (hit !== undefined) return hit.child;
    return this.#add(key, labelValues);
  }

  /** The child for these label values if it exists; never creates one (for reads and tests). */
  peek(labelValues: readonly string[]): T | undefined {
    if (labelValues.length !== this.#labelCount) return undefined;
    return this.#series.get(labelValues.join(SEPARATOR))?.child;
  }

  #add(key: string, labelValues: readonly string[]): T {
    for (const value of labelValues) {
      if (typeof value !== "string") {
        throw new TypeError(`Metric ${this.#metric} label values must be strings, got ${typeof value}`);
      }
      if (value.includes(SEPARATOR)) {
        throw new TypeError(`Metric ${this.#metric} label values must not contain NUL`);
      }
    }
    if (this.#series.size >= this.#maxSeries) {
      const overflow = new Array<string>(this.#labelCount).fill(OVERFLOW_LABEL_VALUE);
      const overflowKey = overflow.join(SEPARATOR);
      const existing = this.#series.get(overflowKey);
      if (existing !== undefined) return existing.child;
      key = overflowKey;
      labelValues = overflow;
    }
    const series: Series<T> = { child: this.#create(labelValues), labelValues: [...labelValues], key };
    this.#series.set(key, series);
    return series.child;
  }

  /** All series ordered by label values, for a stable exposition. */
  sorted(): Series<T>[] {
    return [...this.#series.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  clear(): void {
    this.#series.clear();
  }
}

/** Validates a `maxSeries` option: an integer ≥ 1. */
export function validateMaxSeries(metric: string, maxSeries: number): void {
  if (!Number.isInteger(maxSeries) || maxSeries < 1) {
    throw new RangeError(`Metric ${metric} maxSeries must be an integer ≥ 1, got ${maxSeries}`);
  }
}
