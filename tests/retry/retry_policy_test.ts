import assert from "node:assert/strict";
import type { UpstreamErrorReason } from "../../src/breaker/is_failure.ts";
import { backoffMs, isRetryable, type RetryQuestion } from "../../src/retry/retry_policy.ts";

const base: RetryQuestion = {
  method: "GET",
  hasIdempotencyKey: false,
  failure: "timeout",
  bodyReplayable: true,
};

const refused: UpstreamErrorReason = "refused";
const timeout: UpstreamErrorReason = "timeout";
const reset: UpstreamErrorReason = "reset";

Deno.test("isRetryable() follows the idempotency rules of RFC 9110 §9.2.2", () => {
  const table: [Partial<RetryQuestion>, boolean][] = [
    [{ method: "GET", failure: timeout }, true],
    [{ method: "HEAD", failure: reset }, true],
    [{ method: "OPTIONS", failure: timeout }, true],
    [{ method: "PUT", failure: reset }, true],
    [{ method: "DELETE", failure: timeout }, true],
    [{ method: "POST", failure: timeout }, false],
    [{ method: "PATCH", failure: reset }, false],
    [{ method: "POST", failure: timeout, hasIdempotencyKey: true }, true],
    [{ method: "POST", failure: refused }, true],
    [{ method: "PATCH", failure: refused }, true],
    [{ method: "PUT", failure: refused, bodyReplayable: false }, false],
  ];
  for (const [overrides, expected] of table) {
    const question = { ...base, ...overrides };
    assert.equal(isRetryable(question), expected, JSON.stringify(question));
  }
});

Deno.test("backoffMs() draws from a doubling range capped at maxMs", () => {
  const top = () => 0.999_999;
  const ceilings = [1, 2, 3, 4, 5, 6].map((attempt) =>
    Math.round(backoffMs(attempt, { baseMs: 100, maxMs: 1_000, random: top }))
  );
  assert.deepEqual(ceilings, [100, 200, 400, 800, 1_000, 1_000]);
  assert.equal(backoffMs(3, { baseMs: 100, random: () => 0 }), 0, "full jitter reaches down to zero");
  assert.equal(backoffMs(2, { baseMs: 100, random: () => 0.5 }), 100);
});

Deno.test("backoffMs() rejects attempts below 1 and inverted bounds", () => {
  assert.throws(() => backoffMs(0), RangeError);
  assert.throws(() => backoffMs(1, { baseMs: 10, maxMs: 5 }), RangeError);
});
