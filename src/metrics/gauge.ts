/**
 * A Prometheus gauge: a value that goes up and down. Either set directly (`labels(…).set(v)`), or a
 * *callback gauge* whose `collect` option computes its series at scrape time, so the request hot path
 * never updates it (upstream up, in-flight per upstream).
 *
 * Pure module.
 */
import { DEFAULT_MAX_SERIES, type MetricOptions } from "./counter.ts";
import { formatLabelPairs, sampleLine, validateLabelNames, validateMetricName } from "./exposition.ts";
import type { Collector, MetricType } from "./registry.ts";
import { OVERFLOW_LABEL_VALUE, SeriesMap, validateMaxSeries } from "./series_map.ts";

/** Receives one series from a callback gauge: label values in label-name order, and its value. */
export type GaugeEmit = (labelValues: readonly string[], value: number) => void;

export interface GaugeOptions extends MetricOptions {
  /**
   * Makes this a callback gauge: called on every `expose()`, it emits the current series. Series it does
   * not emit are not exposed (an upstream removed by a reload disappears). Past `maxSeries` series the
   * rest are summed into the `"other"` series. A callback gauge has no `labels()`/`set()`.
   */
  collect?: (emit: GaugeEmit) => void;
}

/** One labelled series of a gauge. */
export class GaugeChild {
  #value = 0;

  set(value: number): void {
    this.#value = value;
  }

  inc(amount = 1): void {
    this.#value += amount;
  }

  dec(amount = 1): void {
    this.#value -= amount;
  }

  /** Sets the gauge to `now` in seconds, for `*_timestamp_seconds` gauges. */
  setToTimeSeconds(nowMs: number): void {
    this.#value = nowMs / 1000;
  }

  get value(): number {
    return this.#value;
  }
}

export class Gauge implements Collector {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType = "gauge";
  readonly labelNames: readonly string[];
  readonly #maxSeries: number;
  readonly #collect: ((emit: GaugeEmit) => void) | undefined;
  readonly #series: SeriesMap<{ labelPairs: string; gauge: GaugeChild }>;
  readonly #unlabelled: GaugeChild | undefined;

  constructor(name: string, options: GaugeOptions) {
    const { help, labelNames = [], maxSeries = DEFAULT_MAX_SERIES, collect } = options;
    validateMetricName(name);
    validateLabelNames(name, labelNames);
    validateMaxSeries(name, maxSeries);
    if (typeof help !== "string") throw new TypeError(`Metric ${name} needs a help string`);
    if (collect !== undefined && typeof collect !== "function") {
      throw new TypeError(`Metric ${name} collect must be a function`);
    }
    this.name = name;
    this.help = help;
    this.labelNames = [...labelNames];
    this.#maxSeries = maxSeries;
    this.#collect = collect;
    this.#series = new SeriesMap(name, {
      labelCount: labelNames.length,
      maxSeries,
      create: (values) => ({
        labelPairs: formatLabelPairs(this.labelNames, values),
        gauge: new GaugeChild(),
      }),
    });
    this.#unlabelled = labelNames.length === 0 && collect === undefined
      ? this.#series.get([]).gauge
      : undefined;
  }

  /** The series for these label values; cached. `TypeError` on a callback gauge. */
  labels(...labelValues: string[]): GaugeChild {
    if (this.#collect !== undefined) throw new TypeError(`Metric ${this.name} is a callback gauge`);
    return this.#series.get(labelValues).gauge;
  }

  set(value: number): void {
    this.#single().set(value);
  }

  inc(amount = 1): void {
    this.#single().inc(amount);
  }

  dec(amount = 1): void {
    this.#single().dec(amount);
  }

  setToTimeSeconds(nowMs: number): void {
    this.#single().setToTimeSeconds(nowMs);
  }

  /** Current value of the given series (0 when absent); not meaningful for callback gauges. */
  get(...labelValues: string[]): number {
    return this.#series.peek(labelValues)?.gauge.value ?? 0;
  }

  #single(): GaugeChild {
    if (this.#unlabelled === undefined) {
      throw new TypeError(`Metric ${this.name} has labels or a callback: use labels(…)`);
    }
    return this.#unlabelled;
  }

  writeSamples(lines: string[]): void {
    if (this.#collect === undefined) {
      for (const { child } of this.#series.sorted()) {
        lines.push(sampleLine(this.name, child.labelPairs, child.gauge.value));
      }
      return;
    }
    for (const [labelPairs, value] of this.#collectNow()) {
      lines.push(sampleLine(this.name, labelPairs, value));
    }
  }

  /** Runs the callback and returns `[labelPairs, value]` sorted by label values. */
  #collectNow(): [string, number][] {
    const byKey = new Map<string, { values: readonly string[]; value: number }>();
    const overflowValues = new Array<string>(this.labelNames.length).fill(OVERFLOW_LABEL_VALUE);
    const overflowKey = overflowValues.join("\u0000");
    const emit: GaugeEmit = (values, value) => {
      if (values.length !== this.labelNames.length) {
        throw new TypeError(
          `Metric ${this.name} takes ${this.labelNames.length} label values, got ${values.length}`,
        );
      }
      let key = values.join("\u0000");
      const seen = byKey.get(key);
      if (seen !== undefined) {
        seen.value = value; // The same series emitted twice: the later value wins, as with set().
        return;
      }
      if (byKey.size >= this.#maxSeries) {
        key = overflowKey;
        const overflow = byKey.get(key);
        if (overflow !== undefined) {
          overflow.value += value;
          return;
        }
        values = overflowValues;
      }
      byKey.set(key, { values: [...values], value });
    };
    this.#collect?.(emit);
    return [...byKey.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, { values, value }]) => [formatLabelPairs(this.labelNames, values), value]);
  }
}
