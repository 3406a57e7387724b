/**
 * The clocks the request path could read, in one run (bench/README.md, "Pipeline diet, sixth step"): the
 * metrics and deadlines read `performance.now` (monotonic); `Date.now` is cheaper but follows the wall clock;
 * `process.hrtime` is monotonic and dearer.
 *
 *   deno bench bench/clock_bench.ts
 */
import process from "node:process";

let sink = 0;
Deno.bench("performance.now()", { group: "clock", baseline: true }, () => {
  sink += performance.now();
});
Deno.bench("Date.now()", { group: "clock" }, () => {
  sink += Date.now();
});
Deno.bench("process.hrtime()", { group: "clock" }, () => {
  sink += process.hrtime()[1]!;
});
addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});
