/**
 * `/metrics` with `server.workers` > 1: every worker's exposition text, summed sample by sample (same
 * name and labels), into one exposition. Counters, histograms and most gauges are per-worker quantities,
 * so the sum is the proxy's total. Gauges every worker reads from shared state (`MAX_FAMILIES`) would be
 * counted N times, so they take the largest value instead. Families the control plane owns (config
 * reloads, worker counts) come from its own registry and replace whatever the workers report.
 */

/** Gauges that read shared state (in-flight counts in shared memory, health pushed to all). */
export const MAX_FAMILIES: ReadonlySet<string> = new Set([
  "proxy_upstream_up",
  "proxy_upstream_requests_in_flight",
]);

interface Family {
  help: string;
  type: string;
  /** Sample key (name and labels) → value, in first-seen order. */
  readonly samples: Map<string, number>;
}

function parse(text: string, into: Map<string, Family>, combine: (name: string) => "sum" | "max"): void {
  let family: Family | undefined;
  let familyName = "";
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# HELP ")) {
      const rest = line.slice(7);
      const space = rest.indexOf(" ");
      familyName = space < 0 ? rest : rest.slice(0, space);
      family = into.get(familyName);
      if (family === undefined) {
        family = { help: space < 0 ? "" : rest.slice(space + 1), type: "untyped", samples: new Map() };
        into.set(familyName, family);
      }
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      if (family) family.type = line.slice(7 + familyName.length + 1);
      continue;
    }
    if (line.startsWith("#") || family === undefined) continue;
    const space = line.lastIndexOf(" ");
    const key = line.slice(0, space);
    const value = Number(line.slice(space + 1).replace("+Inf", "Infinity").replace("-Inf", "-Infinity"));
    const before = family.samples.get(key);
    if (before === undefined) family.samples.set(key, value);
    else family.samples.set(key, combine(familyName) === "max" ? Math.max(before, value) : before + value);
  }
}

function format(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/**
 * Merges the workers' texts; families named in `own` are taken from `controlText` only. Families come out
 * sorted by name, as the single-isolate registry writes them.
 */
export function mergeExpositions(
  workerTexts: readonly string[],
  controlText: string,
  own: ReadonlySet<string>,
): string {
  const families = new Map<string, Family>();
  for (const text of workerTexts) parse(text, families, (name) => MAX_FAMILIES.has(name) ? "max" : "sum");
  for (const name of own) families.delete(name);
  const control = new Map<string, Family>();
  parse(controlText, control, () => "sum");
  for (const [name, family] of control) if (own.has(name)) families.set(name, family);
  const lines: string[] = [];
  for (const name of [...families.keys()].sort()) {
    const family = families.get(name)!;
    lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
    for (const [key, value] of family.samples) lines.push(`${key} ${format(value)}`);
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}
