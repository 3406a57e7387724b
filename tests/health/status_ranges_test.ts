import assert from "node:assert/strict";
import { parseStatusRanges, statusMatches } from "../../src/health/status_ranges.ts";

Deno.test("parseStatusRanges() reads single statuses and inclusive ranges", () => {
  assert.deepEqual(parseStatusRanges("200-399"), [[200, 399]]);
  assert.deepEqual(parseStatusRanges("200,204, 300 - 399"), [[200, 200], [204, 204], [300, 399]]);
});

Deno.test("parseStatusRanges() rejects malformed or out-of-range parts", () => {
  for (const text of ["", "2xx", "200-", "399-200", "099", "600", "200,,204", "200;204"]) {
    assert.throws(() => parseStatusRanges(text), RangeError, text);
  }
});

Deno.test("statusMatches() accepts statuses inside any range and nothing else", () => {
  const ranges = parseStatusRanges("200,204,300-399");
  const accepted = [199, 200, 201, 204, 299, 300, 350, 399, 400].filter((s) => statusMatches(ranges, s));
  assert.deepEqual(accepted, [200, 204, 300, 350, 399]);
});
