import assert from "node:assert/strict";
import { Counter } from "../../src/metrics/counter.ts";
import { Gauge } from "../../src/metrics/gauge.ts";
import { Histogram } from "../../src/metrics/histogram.ts";
import { Registry } from "../../src/metrics/registry.ts";
import { parsePrometheusText } from "../_support/prom_parser.ts";

Deno.test("Counter.labels() returns the same cached child for the same label values", () => {
  const c = new Counter("x_total", { help: "x", labelNames: ["route", "code"] });
  const a = c.labels("r1", "200");
  a.inc();
  a.inc(2);
  assert.equal(c.labels("r1", "200"), a);
  assert.equal(c.get("r1", "200"), 3);
  assert.equal(c.get("r1", "500"), 0);
  assert.equal(c.seriesCount, 1);
});

Deno.test("Counter rejects negative increments, wrong label counts and bad names", () => {
  const c = new Counter("x_total", { help: "x", labelNames: ["a"] });
  assert.throws(() => c.labels("v").inc(-1), RangeError);
  assert.throws(() => c.labels("v").inc(NaN), RangeError);
  assert.throws(() => c.labels("v", "w"), TypeError);
  assert.throws(() => c.inc(), TypeError);
  assert.throws(() => c.labels("a\u0000b"), TypeError);
  assert.throws(() => new Counter("1bad", { help: "x" }), TypeError);
  assert.throws(() => new Counter("ok", { help: "x", labelNames: ["__reserved"] }), TypeError);
  assert.throws(() => new Counter("ok", { help: "x", labelNames: ["a", "a"] }), TypeError);
  assert.throws(() => new Counter("ok", { help: "x", maxSeries: 0 }), RangeError);
  assert.throws(() => new Histogram("h", { help: "x", labelNames: ["le"] }), TypeError);
  assert.throws(() => new Histogram("h", { help: "x", buckets: [1, 1] }), RangeError);
  assert.throws(() => new Histogram("h", { help: "x", buckets: [1, Infinity] }), RangeError);
});

Deno.test("Counter folds label sets past maxSeries into one series labelled other", () => {
  const c = new Counter("x_total", { help: "x", labelNames: ["route", "upstream"], maxSeries: 2 });
  c.labels("r1", "u1").inc();
  c.labels("r2", "u1").inc();
  c.labels("r3", "u1").inc();
  c.labels("r4", "u2").inc(5);
  c.labels("r1", "u1").inc();
  assert.equal(c.seriesCount, 3);
  assert.equal(c.get("other", "other"), 6);
  assert.equal(c.get("r1", "u1"), 2);
  assert.equal(c.get("r3", "u1"), 0);
});

Deno.test("Registry.expose() writes HELP, TYPE and escaped labels in a stable order", () => {
  const registry = new Registry();
  const c = registry.register(
    new Counter("b_total", { help: 'Back\\slash and\nnewline "q"', labelNames: ["v"] }),
  );
  registry.register(new Gauge("a_gauge", { help: "A gauge." })).set(1.5);
  c.labels('quote " back \\ nl \n').inc();
  c.labels("alpha").inc(2);
  const text = registry.expose();
  assert.equal(
    text,
    [
      "# HELP a_gauge A gauge.",
      "# TYPE a_gauge gauge",
      "a_gauge 1.5",
      '# HELP b_total Back\\\\slash and\\nnewline "q"',
      "# TYPE b_total counter",
      'b_total{v="alpha"} 2',
      'b_total{v="quote \\" back \\\\ nl \\n"} 1',
      "",
    ].join("\n"),
  );
  const families = parsePrometheusText(text);
  assert.equal(families.get("b_total")?.help, 'Back\\slash and\nnewline "q"');
  assert.deepEqual(families.get("b_total")?.samples[1]?.labels, { v: 'quote " back \\ nl \n' });
  assert.equal(registry.expose(), text);
});

Deno.test("Registry.register() refuses a second family with the same name", () => {
  const registry = new Registry();
  registry.register(new Counter("x_total", { help: "x" }));
  assert.throws(() => registry.register(new Gauge("x_total", { help: "y" })), TypeError);
  assert.equal(registry.unregister("x_total"), true);
  assert.equal(registry.expose(), "");
});

Deno.test("Histogram exposes cumulative buckets with +Inf, _sum and _count", () => {
  const registry = new Registry();
  const h = registry.register(
    new Histogram("d_seconds", { help: "d", labelNames: ["route"], buckets: [0.1, 0.5, 1] }),
  );
  const r = h.labels("r1");
  for (const v of [0.05, 0.1, 0.3, 0.7, 2, NaN]) r.observe(v);
  assert.equal(r.count, 5);
  assert.equal(
    registry.expose(),
    [
      "# HELP d_seconds d",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{route="r1",le="0.1"} 2',
      'd_seconds_bucket{route="r1",le="0.5"} 3',
      'd_seconds_bucket{route="r1",le="1"} 4',
      'd_seconds_bucket{route="r1",le="+Inf"} 5',
      'd_seconds_sum{route="r1"} 3.15',
      'd_seconds_count{route="r1"} 5',
      "",
    ].join("\n"),
  );
});

Deno.test("Histogram without labels uses the default latency buckets and passes the strict parser", () => {
  const registry = new Registry();
  const h = registry.register(new Histogram("lat_seconds", { help: "l" }));
  h.observe(0.003);
  h.observe(20);
  const family = parsePrometheusText(registry.expose()).get("lat_seconds");
  assert.ok(family !== undefined);
  const buckets = family.samples.filter((s) => s.name === "lat_seconds_bucket");
  assert.equal(buckets.length, 14);
  assert.deepEqual(buckets.map((s) => s.labels["le"]).slice(0, 3), ["0.001", "0.0025", "0.005"]);
  assert.equal(buckets.find((s) => s.labels["le"] === "0.005")?.value, 1);
  assert.equal(buckets.at(-1)?.value, 2);
});

Deno.test("A callback gauge computes its series at expose time and folds excess into other", () => {
  const registry = new Registry();
  let ups: [string, number][] = [["u2", 1], ["u1", 0]];
  const g = registry.register(
    new Gauge("up", {
      help: "up",
      labelNames: ["upstream"],
      maxSeries: 2,
      collect: (emit) => {
        for (const [id, v] of ups) emit([id], v);
      },
    }),
  );
  assert.throws(() => g.labels("u1"), TypeError);
  assert.throws(() => g.set(1), TypeError);
  assert.match(registry.expose(), /up\{upstream="u1"\} 0\nup\{upstream="u2"\} 1\n$/);
  ups = [["u1", 1], ["u2", 1], ["u3", 1], ["u4", 1]];
  const samples = parsePrometheusText(registry.expose()).get("up")?.samples ?? [];
  assert.deepEqual(samples.map((s) => [s.labels["upstream"], s.value]), [["other", 2], ["u1", 1], ["u2", 1]]);
  ups = [];
  assert.equal(registry.expose(), "# HELP up up\n# TYPE up gauge\n");
});

Deno.test("Gauge set, inc, dec and setToTimeSeconds change the exposed value", () => {
  const g = new Gauge("g", { help: "g" });
  g.set(5);
  g.inc();
  g.dec(2);
  assert.equal(g.get(), 4);
  g.setToTimeSeconds(1_700_000_000_500);
  assert.equal(g.get(), 1_700_000_000.5);
  const labelled = new Gauge("g2", { help: "g", labelNames: ["k"] });
  labelled.labels("a").set(-3);
  const lines: string[] = [];
  labelled.writeSamples(lines);
  assert.deepEqual(lines, ['g2{k="a"} -3']);
});

Deno.test("Registry.expose() renders special values as Prometheus reads them", () => {
  const registry = new Registry();
  const g = registry.register(new Gauge("g", { help: "g", labelNames: ["k"] }));
  g.labels("a").set(Infinity);
  g.labels("b").set(-Infinity);
  g.labels("c").set(NaN);
  const samples = parsePrometheusText(registry.expose()).get("g")?.samples ?? [];
  assert.deepEqual(samples.map((s) => s.value), [Infinity, -Infinity, NaN]);
});
