import assert from "node:assert/strict";
import {
  type Baseline,
  checkProxyAgainstBaseline,
  improvements,
  regressions,
  type SuiteRun,
  summary,
  toBaseline,
} from "./cache_conformance.ts";

const result = (outcome: "pass" | "fail", kind: "required" | "optimal" = "required") => ({
  suite: "s",
  kind,
  outcome,
  detail: null,
});

Deno.test("regressions() lists baseline passes that no longer pass, including vanished tests", () => {
  const before: SuiteRun = {
    counts: {},
    results: { a: result("pass"), b: result("pass"), c: result("fail"), d: result("pass") },
  };
  const baseline: Baseline = toBaseline(before, "proxy");
  assert.deepEqual(baseline.required, { pass: 3, total: 4 });
  const now: SuiteRun = { counts: {}, results: { a: result("pass"), b: result("fail"), c: result("pass") } };
  assert.deepEqual(regressions(baseline, now), ["b", "d"]);
  assert.deepEqual(improvements(baseline, now), ["c"]);
});

Deno.test("the proxy passes every http-cache-tests test that passes in the committed baseline", async () => {
  const { run, regressed, baseline } = await checkProxyAgainstBaseline();
  assert.deepEqual(regressed, [], `${summary(run)}; baseline required ${baseline.required.pass}`);
});
