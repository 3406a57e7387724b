/**
 * A monotonically increasing Prometheus counter with label names fixed up front.
 *
 * Hot path: `counter.labels("r1", "GET").inc()` is one map lookup; keep the child to make it a field add.
 * Pure module.
 */
import { formatLabelPairs, sampleLine, validateLabelNames, validateMetricName } from "./exposition.ts";
import type { Collector, MetricType } from "./registry.ts";
import { SeriesMap, validateMaxSeries } from "./series_map.ts";

export interface MetricOptions {
  /** `# HELP` text. Required. */
  help: string;
  /** Label names, in the order `labels()` takes values. Default none. */
  labelNames?: readonly string[];
  /**
   * Distinct label sets kept before new ones fold into one series labelled `"other"` (so at most
   * `maxSeries + 1` series). Default 1000.
   */
  maxSeries?: number;
}

export const DEFAULT_MAX_SERIES = 1000;

/** One labelled series of a counter. */
export class CounterChild {
  #value = 0;

  /** Adds `amount` (default 1). Counters only go up: a negative or NaN amount throws `RangeError`. */
  inc(amount = 1): void {
    if (!(amount >= 0)) throw new RangeError(`Counter increment must be ≥ 0, got ${amount}`);
    this.#value += amount;
  }

  get value(): number {
    return this.#value;
  }
}

export class Counter implements Collector {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType = "counter";
  readonly labelNames: readonly string[];
  readonly #series: SeriesMap<{ labelPairs: string; counter: CounterChild }>;
  readonly #unlabelled: CounterChild | undefined;

  constructor(name: string, options: MetricOptions) {
    const { help, labelNames = [], maxSeries = DEFAULT_MAX_SERIES } = options;
    validateMetricName(name);
    validateLabelNames(name, labelNames);
    validateMaxSeries(name, maxSeries);
    if (typeof help !== "string") throw new TypeError(`Metric ${name} needs a help string`);
    this.name = name;
    this.help = help;
    this.labelNames = [...labelNames];
    this.#series = new SeriesMap(name, {
      labelCount: labelNames.length,
      maxSeries,
      create: (values) => ({
        labelPairs: formatLabelPairs(this.labelNames, values),
        counter: new CounterChild(),
      }),
    });
    // An unlabelled counter exposes 0 from the start, so rate() has a baseline before the first event.
    this.#unlabelled = labelNames.length === 0 ? this.#series.get([]).counter : undefined;
  }

  /** The series for these label values (one per label name, in order); cached, so keep it on hot paths. */
  labels(...labelValues: string[]): CounterChild {
    return this.#series.get(labelValues).counter;
  }

  /** Increments an unlabelled counter; a labelled one needs `labels(…)` first (`TypeError`). */
  inc(amount = 1): void {
    if (this.#unlabelled === undefined) {
      throw new TypeError(`Metric ${this.name} has labels: use labels(…).inc()`);
    }
    this.#unlabelled.inc(amount);
  }

  /** The current value of an unlabelled counter, or of the given series (0 when it does not exist yet). */
  get(...labelValues: string[]): number {
    return this.#series.peek(labelValues)?.counter.value ?? 0;
  }

  /** Number of series currently held (the overflow series included). */
  get seriesCount(): number {
    return this.#series.size;
  }

  writeSamples(lines: string[]): void {
    for (const { child } of this.#series.sorted()) {
      lines.push(sampleLine(this.name, child.labelPairs, child.counter.value));
    }
  }
}
