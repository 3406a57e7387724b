/**
 * Holds metric families and renders them in the Prometheus text exposition format 0.0.4.
 *
 * One registry is created by the composition root and passed in: there is no default global registry,
 * so tests and reloads never share state by accident. Pure module.
 */
import { escapeHelp, PROMETHEUS_CONTENT_TYPE } from "./exposition.ts";

export type MetricType = "counter" | "gauge" | "histogram";

/** A metric family the registry can expose: `Counter`, `Gauge` and `Histogram` implement it. */
export interface Collector {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** Appends this family's sample lines (no `# HELP`/`# TYPE`), in a stable order. */
  writeSamples(lines: string[]): void;
}

export class Registry {
  /** The `Content-Type` to answer a scrape with. */
  static readonly contentType = PROMETHEUS_CONTENT_TYPE;

  readonly #collectors = new Map<string, Collector>();

  /** Adds a family and returns it, so `const c = registry.register(new Counter(…))` reads in one line. */
  register<T extends Collector>(collector: T): T {
    if (this.#collectors.has(collector.name)) {
      throw new TypeError(`Metric ${collector.name} is already registered`);
    }
    this.#collectors.set(collector.name, collector);
    return collector;
  }

  unregister(name: string): boolean {
    return this.#collectors.delete(name);
  }

  get(name: string): Collector | undefined {
    return this.#collectors.get(name);
  }

  /** Families sorted by name. */
  get collectors(): Collector[] {
    return [...this.#collectors.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The whole registry as exposition text: families sorted by name, each with `# HELP` and `# TYPE`,
   * series sorted by label values; ends with a line feed as the format requires.
   */
  expose(): string {
    const lines: string[] = [];
    for (const collector of this.collectors) {
      lines.push(`# HELP ${collector.name} ${escapeHelp(collector.help)}`);
      lines.push(`# TYPE ${collector.name} ${collector.type}`);
      collector.writeSamples(lines);
    }
    return lines.length === 0 ? "" : lines.join("\n") + "\n";
  }
}
