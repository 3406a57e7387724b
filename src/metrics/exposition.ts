/**
 * Helpers for the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
 *
 * Pure module: shared by the counter, gauge and histogram families and the registry.
 */

/** The `Content-Type` a scrape endpoint answers with. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throws `TypeError` unless `name` is a valid metric name. */
export function validateMetricName(name: string): void {
  if (!METRIC_NAME.test(name)) throw new TypeError(`Invalid metric name: ${JSON.stringify(name)}`);
}

/**
 * Throws `TypeError` unless every label name is valid, unique, not reserved (`__` prefix belongs to
 * Prometheus itself) and not in `forbidden` (histograms own `le`).
 */
export function validateLabelNames(
  metric: string,
  labelNames: readonly string[],
  forbidden: readonly string[] = [],
): void {
  const seen = new Set<string>();
  for (const label of labelNames) {
    if (!LABEL_NAME.test(label) || label.startsWith("__")) {
      throw new TypeError(`Invalid label name ${JSON.stringify(label)} on metric ${metric}`);
    }
    if (forbidden.includes(label)) {
      throw new TypeError(`Label name ${JSON.stringify(label)} is reserved on metric ${metric}`);
    }
    if (seen.has(label)) {
      throw new TypeError(`Duplicate label name ${JSON.stringify(label)} on metric ${metric}`);
    }
    seen.add(label);
  }
}

/** `# HELP` text escapes only backslash and line feed (format 0.0.4). */
export function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Label values escape backslash, double quote and line feed (format 0.0.4). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Renders `a="x",b="y"` (no braces) for the given names and values. */
export function formatLabelPairs(names: readonly string[], values: readonly string[]): string {
  let out = "";
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out += ",";
    out += `${names[i]}="${escapeLabelValue(values[i] ?? "")}"`;
  }
  return out;
}

/** Sample values as Prometheus (Go `ParseFloat`) reads them: `+Inf`, `-Inf`, `NaN`, else decimal. */
export function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  return String(value);
}

/** One sample line: `name{labels} value`, braces omitted when there are no labels. */
export function sampleLine(name: string, labelPairs: string, value: number): string {
  return labelPairs === "" ? `${name} ${formatValue(value)}` : `${name}{${labelPairs}} ${formatValue(value)}`;
}
