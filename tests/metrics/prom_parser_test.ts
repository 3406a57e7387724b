import assert from "node:assert/strict";
import { parsePrometheusText } from "../_support/prom_parser.ts";

const HIST = [
  "# HELP h_seconds h",
  "# TYPE h_seconds histogram",
  'h_seconds_bucket{le="0.1"} 1',
  'h_seconds_bucket{le="+Inf"} 2',
  "h_seconds_sum 0.5",
  "h_seconds_count 2",
];

Deno.test("parsePrometheusText() reads families, help, labels and values", () => {
  const text = [
    "# HELP a_total A \\\\ counter\\n.",
    "# TYPE a_total counter",
    'a_total{x="1",y="q\\"n\\n",} 3 1700000000000',
    ...HIST,
    "# a free comment",
    "untyped_thing -1.5e3",
    "",
  ].join("\n");
  const families = parsePrometheusText(text);
  assert.deepEqual([...families.keys()], ["a_total", "h_seconds", "untyped_thing"]);
  assert.equal(families.get("a_total")?.help, "A \\ counter\n.");
  assert.deepEqual(families.get("a_total")?.samples[0], {
    name: "a_total",
    labels: { x: "1", y: 'q"n\n' },
    value: 3,
  });
  assert.equal(families.get("h_seconds")?.samples.length, 4);
  assert.equal(families.get("untyped_thing")?.type, "untyped");
  assert.equal(families.get("untyped_thing")?.samples[0]?.value, -1500);
});

const rejected: [string, string[]][] = [
  ["a missing final line feed", ["x 1"]],
  ["a blank line", ["x 1", "", "y 1", ""]],
  ["a malformed value", ["x one", ""]],
  ["a bad escape in a label value", ['x{a="\\t"} 1', ""]],
  ["an unterminated label value", ['x{a="v} 1', ""]],
  ["a duplicate label name", ['x{a="1",a="2"} 1', ""]],
  ["a duplicate series", ['x{a="1"} 1', 'x{a="1"} 2', ""]],
  ["a second TYPE line", ["# TYPE x gauge", "# TYPE x gauge", ""]],
  ["TYPE after samples", ["x 1", "# TYPE x gauge", ""]],
  ["an unknown type", ["# TYPE x thing", ""]],
  ["non-contiguous families", ["x 1", "y 1", 'x{a="b"} 1', ""]],
  ["a negative counter", ["# TYPE x_total counter", "x_total -1", ""]],
  ["a missing space before the value", ['x{a="1"}1', ""]],
  ["histogram buckets that are not cumulative", [
    "# TYPE h histogram",
    'h_bucket{le="0.1"} 3',
    'h_bucket{le="+Inf"} 2',
    "h_sum 1",
    "h_count 2",
    "",
  ]],
  ["a histogram without a +Inf bucket", [
    "# TYPE h histogram",
    'h_bucket{le="0.1"} 2',
    "h_sum 1",
    "h_count 2",
    "",
  ]],
  ["a histogram _count that differs from +Inf", [
    "# TYPE h histogram",
    'h_bucket{le="+Inf"} 2',
    "h_sum 1",
    "h_count 3",
    "",
  ]],
  ["a histogram without _sum", ["# TYPE h histogram", 'h_bucket{le="+Inf"} 2', "h_count 2", ""]],
  ["a histogram bucket without le", ["# TYPE h histogram", "h_bucket 2", "h_sum 1", "h_count 2", ""]],
];

for (const [what, lines] of rejected) {
  Deno.test(`parsePrometheusText() rejects ${what}`, () => {
    assert.throws(() => parsePrometheusText(lines.join("\n")), SyntaxError);
  });
}
