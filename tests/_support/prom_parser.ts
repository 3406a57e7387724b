/**
 * A strict parser for the Prometheus text exposition format 0.0.4, for tests only: it throws
 * `SyntaxError` (with the line number) on anything a lenient scraper might let slide, so
 * `Registry.expose()` output is checked for real.
 *
 * Rejects: malformed HELP/TYPE/sample lines, bad escapes, blank lines, missing final line feed, HELP or
 * TYPE given twice or TYPE after samples, a family's lines not contiguous, duplicate label names,
 * duplicate series, negative counters, and histograms whose buckets are not cumulative, lack `+Inf`,
 * or whose `_count` differs from the `+Inf` bucket or lacks `_sum`/`_count`.
 */

export type PromType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface PromSample {
  /** The sample's own name (`x_bucket` for a histogram bucket). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  help: string | undefined;
  type: PromType;
  samples: PromSample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = "[a-zA-Z_][a-zA-Z0-9_]*";
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const HELP_EMPTY = new RegExp(`^# HELP (${NAME})$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_HEAD = new RegExp(`^(${NAME})`);
const LABEL_NAME = new RegExp(`^${LABEL}`);
const FLOAT = /^[+-]?(?:Inf|NaN|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;
const TIMESTAMP = /^-?\d+$/;

function fail(lineNo: number, message: string): never {
  throw new SyntaxError(`line ${lineNo}: ${message}`);
}

function unescapeHelp(text: string, lineNo: number): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    fail(lineNo, `invalid escape \\${c} in HELP`);
  });
}

function parseFloatStrict(text: string, lineNo: number): number {
  if (!FLOAT.test(text)) fail(lineNo, `invalid value ${JSON.stringify(text)}`);
  if (/Inf$/.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/NaN$/.test(text)) return NaN;
  return Number(text);
}

/** Parses `{a="x",b="y"}` starting at `rest[0] === "{"`; returns labels and the remaining text. */
function parseLabels(rest: string, lineNo: number): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (rest[i] === "}") return [labels, rest.slice(i + 1)];
    const m = LABEL_NAME.exec(rest.slice(i));
    if (m === null) fail(lineNo, "invalid label name");
    const name = m[0];
    i += name.length;
    if (rest[i] !== "=" || rest[i + 1] !== '"') fail(lineNo, `expected ="…" after label ${name}`);
    i += 2;
    let value = "";
    for (;;) {
      const c = rest[i];
      if (c === undefined) fail(lineNo, "unterminated label value");
      if (c === '"') break;
      if (c === "\\") {
        const e = rest[i + 1];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else fail(lineNo, `invalid escape \\${e ?? ""} in label value`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    if (Object.hasOwn(labels, name)) fail(lineNo, `duplicate label ${name}`);
    labels[name] = value;
    if (rest[i] === ",") i++;
    else if (rest[i] !== "}") fail(lineNo, "expected , or } after label value");
  }
}

function seriesKey(name: string, labels: Record<string, string>, omit?: string): string {
  const keys = Object.keys(labels).filter((k) => k !== omit).sort();
  return name + "{" + keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",") + "}";
}

/** The family a sample belongs to, given the families declared so far. */
function familyOf(sample: string, families: Map<string, PromFamily>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sample.endsWith(suffix)) continue;
    const base = sample.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === "histogram" || (type === "summary" && suffix !== "_bucket")) return base;
  }
  return sample;
}

/** Parses exposition text into families keyed by name, in order of appearance. */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  if (text === "") return families;
  if (!text.endsWith("\n")) fail(text.split("\n").length, "exposition must end with a line feed");
  const lines = text.slice(0, -1).split("\n");
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  const enter = (name: string, lineNo: number): PromFamily => {
    if (current !== name) {
      if (closed.has(name)) fail(lineNo, `lines of ${name} are not contiguous`);
      if (current !== undefined) closed.add(current);
      current = name;
    }
    let family = families.get(name);
    if (family === undefined) {
      family = { name, help: undefined, type: "untyped", samples: [] };
      families.set(name, family);
    }
    return family;
  };
  const typed = new Set<string>();

  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line === "") fail(lineNo, "blank line");
    if (line.startsWith("#")) {
      const help = HELP_LINE.exec(line) ?? HELP_EMPTY.exec(line);
      if (help !== null) {
        const family = enter(help[1] as string, lineNo);
        if (family.help !== undefined) fail(lineNo, `second HELP for ${family.name}`);
        family.help = unescapeHelp(help[2] ?? "", lineNo);
        return;
      }
      if (line.startsWith("# TYPE")) {
        const type = TYPE_LINE.exec(line);
        if (type === null) fail(lineNo, "malformed TYPE line");
        const family = enter(type[1] as string, lineNo);
        if (typed.has(family.name)) fail(lineNo, `second TYPE for ${family.name}`);
        if (family.samples.length > 0) fail(lineNo, `TYPE for ${family.name} after its samples`);
        typed.add(family.name);
        family.type = type[2] as PromType;
        return;
      }
      if (line.startsWith("# HELP")) fail(lineNo, "malformed HELP line");
      return; // Any other comment is allowed by the format.
    }
    const head = SAMPLE_HEAD.exec(line);
    if (head === null) fail(lineNo, "invalid metric name");
    const name = head[1] as string;
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) [labels, rest] = parseLabels(rest, lineNo);
    if (!rest.startsWith(" ")) fail(lineNo, "expected a space before the value");
    const parts = rest.slice(1).split(" ");
    if (parts.length > 2 || parts.some((p) => p === "")) fail(lineNo, "expected `value [timestamp]`");
    const value = parseFloatStrict(parts[0] as string, lineNo);
    if (parts[1] !== undefined && !TIMESTAMP.test(parts[1])) fail(lineNo, "invalid timestamp");
    const family = enter(familyOf(name, families), lineNo);
    const key = seriesKey(name, labels);
    if (seen.has(key)) fail(lineNo, `duplicate series ${key}`);
    seen.add(key);
    if (family.type === "counter" && !(value >= 0)) fail(lineNo, `counter ${name} must be ≥ 0`);
    if (family.type === "histogram" && name.endsWith("_bucket") && labels["le"] === undefined) {
      fail(lineNo, `${name} lacks an le label`);
    }
    family.samples.push({ name, labels, value });
  });

  for (const family of families.values()) {
    if (family.type === "histogram") checkHistogram(family);
  }
  return families;
}

function checkHistogram(family: PromFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const key = seriesKey("", s.labels, "le");
    let g = groups.get(key);
    if (g === undefined) groups.set(key, g = { buckets: [] });
    if (s.name === `${family.name}_bucket`) {
      g.buckets.push([parseFloatStrict(s.labels["le"] as string, 0), s.value]);
    } else if (s.name === `${family.name}_sum`) g.sum = s.value;
    else if (s.name === `${family.name}_count`) g.count = s.value;
    else throw new SyntaxError(`histogram ${family.name} has a stray sample ${s.name}`);
  }
  for (const [key, g] of groups) {
    const where = `histogram ${family.name}${key}`;
    let previousLe = -Infinity;
    let previousCount = 0;
    for (const [le, count] of g.buckets) {
      if (!(le > previousLe)) throw new SyntaxError(`${where}: bucket bounds not increasing at le=${le}`);
      if (count < previousCount) throw new SyntaxError(`${where}: buckets not cumulative at le=${le}`);
      previousLe = le;
      previousCount = count;
    }
    const inf = g.buckets.at(-1);
    if (inf === undefined || inf[0] !== Infinity) throw new SyntaxError(`${where}: no +Inf bucket`);
    if (g.sum === undefined) throw new SyntaxError(`${where}: no _sum`);
    if (g.count === undefined) throw new SyntaxError(`${where}: no _count`);
    if (g.count !== inf[1]) throw new SyntaxError(`${where}: _count ${g.count} ≠ +Inf bucket ${inf[1]}`);
  }
}
