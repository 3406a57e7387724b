/**
 * A Prometheus histogram: observations counted into fixed upper-bound buckets, exposed cumulatively as
 * `_bucket{le="…"}` (ending with `le="+Inf"`), plus `_sum` and `_count`.
 *
 * Pure module.
 */
import { DEFAULT_MAX_SERIES, type MetricOptions } from "./counter.ts";
import {
  formatLabelPairs,
  formatValue,
  sampleLine,
  validateLabelNames,
  validateMetricName,
} from "./exposition.ts";
import type { Collector, MetricType } from "./registry.ts";
import { SeriesMap, validateMaxSeries } from "./series_map.ts";

/** Request latency buckets in seconds, 1 ms to 10 s (the Prometheus client defaults plus 1 ms). */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

export interface HistogramOptions extends MetricOptions {
  /** Finite, strictly increasing bucket upper bounds; `+Inf` is implied. Default {@linkcode DEFAULT_LATENCY_BUCKETS}. */
  buckets?: readonly number[];
}

/** One labelled series of a histogram. */
export class HistogramChild {
  readonly #bounds: readonly number[];
  /** Per-bucket (not cumulative) counts; the last slot is the implicit `+Inf` bucket. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
  }

  /** Records one observation (seconds for latency). NaN is ignored so a bad clock cannot poison `_sum`. */
  observe(value: number): void {
    if (Number.isNaN(value)) return;
    const bounds = this.#bounds;
    let i = 0;
    // Linear scan: with ~13 buckets and most latencies in the first few, it beats a binary search.
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.#counts[i]!++;
    this.#sum += value;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  get sum(): number {
    return this.#sum;
  }

  /** Cumulative counts per bucket, `+Inf` last (what `_bucket` exposes). */
  cumulativeCounts(): number[] {
    const out: number[] = [];
    let running = 0;
    for (const c of this.#counts) {
      running += c;
      out.push(running);
    }
    return out;
  }
}

export class Histogram implements Collector {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType = "histogram";
  readonly labelNames: readonly string[];
  readonly buckets: readonly number[];
  readonly #leValues: readonly string[];
  readonly #series: SeriesMap<{ labelPairs: string; histogram: HistogramChild }>;
  readonly #unlabelled: HistogramChild | undefined;

  constructor(name: string, options: HistogramOptions) {
    const { help, labelNames = [], maxSeries = DEFAULT_MAX_SERIES, buckets = DEFAULT_LATENCY_BUCKETS } =
      options;
    validateMetricName(name);
    validateLabelNames(name, labelNames, ["le"]);
    validateMaxSeries(name, maxSeries);
    if (typeof help !== "string") throw new TypeError(`Metric ${name} needs a help string`);
    if (buckets.length === 0) throw new RangeError(`Metric ${name} needs at least one bucket`);
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i] as number;
      if (!Number.isFinite(b)) throw new RangeError(`Metric ${name} bucket bounds must be finite, got ${b}`);
      if (i > 0 && b <= (buckets[i - 1] as number)) {
        throw new RangeError(`Metric ${name} bucket bounds must be strictly increasing`);
      }
    }
    this.name = name;
    this.help = help;
    this.labelNames = [...labelNames];
    this.buckets = [...buckets];
    this.#leValues = [...this.buckets.map(formatValue), "+Inf"];
    this.#series = new SeriesMap(name, {
      labelCount: labelNames.length,
      maxSeries,
      create: (values) => ({
        labelPairs: formatLabelPairs(this.labelNames, values),
        histogram: new HistogramChild(this.buckets),
      }),
    });
    this.#unlabelled = labelNames.length === 0 ? this.#series.get([]).histogram : undefined;
  }

  /** The series for these label values; cached, so keep it on hot paths. */
  labels(...labelValues: string[]): HistogramChild {
    return this.#series.get(labelValues).histogram;
  }

  /** Observes on an unlabelled histogram; a labelled one needs `labels(…)` first (`TypeError`). */
  observe(value: number): void {
    if (this.#unlabelled === undefined) {
      throw new TypeError(`Metric ${this.name} has labels: use labels(…).observe()`);
    }
    this.#unlabelled.observe(value);
  }

  /** The series if it exists (reads and tests); never creates one. */
  peek(...labelValues: string[]): HistogramChild | undefined {
    return this.#series.peek(labelValues)?.histogram;
  }

  writeSamples(lines: string[]): void {
    for (const { child } of this.#series.sorted()) {
      const prefix = child.labelPairs === "" ? "" : child.labelPairs + ",";
      const cumulative = child.histogram.cumulativeCounts();
      for (let i = 0; i < cumulative.length; i++) {
        lines.push(
          sampleLine(`${this.name}_bucket`, `${prefix}le="${this.#leValues[i]}"`, cumulative[i] as number),
        );
      }
      lines.push(sampleLine(`${this.name}_sum`, child.labelPairs, child.histogram.sum));
      lines.push(sampleLine(`${this.name}_count`, child.labelPairs, child.histogram.count));
    }
  }
}
